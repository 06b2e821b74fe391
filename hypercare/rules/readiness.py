"""The ``readiness:`` section of the rules file: the checklist every unit passes before its wave goes live.

The programme makes readiness a gate before each wave (permissions matched to every employee's position,
relevant training done, devices verified, migration checked, a super-user on every shift, a local cut-over plan
approved). Each item is a ``percent`` (green from ``green_from``, yellow from ``yellow_from``, red below) or a
``check`` (done: green; not done: red). An item nobody has assessed is red: a gate must not pass on silence.
Same file and reading path as the other sections (:func:`hypercare.rules.file.load_rules_file`); a custom rules
file without the section gets the shipped checklist.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from hypercare.rules.loader import Naming, RulesError, Source, as_source, read_rules_yaml, rules_section, validate
from hypercare.rules.validators import Number, RuleId, unique_ids


class ReadinessItem(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: RuleId
    title: str = Field(min_length=1, max_length=200)
    kind: Literal["percent", "check"]
    green_from: Number | None = Field(default=None, ge=0, le=100)
    yellow_from: Number | None = Field(default=None, ge=0, le=100)

    @model_validator(mode="after")
    def _limits_fit_the_kind(self) -> ReadinessItem:
        if self.kind == "check" and (self.green_from is not None or self.yellow_from is not None):
            raise ValueError("a check is done or not: it takes no green_from or yellow_from")
        if self.kind == "percent":
            if self.green_from is None or self.yellow_from is None:
                raise ValueError("a percent item needs green_from and yellow_from")
            if self.yellow_from > self.green_from:
                raise ValueError("yellow_from must not be above green_from")
        return self


class ReadinessChecklist(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    items: list[ReadinessItem] = Field(default_factory=list)

    @field_validator("items")
    @classmethod
    def _unique_ids(cls, items: list[ReadinessItem]) -> list[ReadinessItem]:
        unique_ids((item.id for item in items), "readiness item")
        return items

    @cached_property
    def by_id(self) -> dict[str, ReadinessItem]:
        return {item.id: item for item in self.items}


# The section is a list; it is validated as ``{"items": [...]}``.
NAMING = Naming(section="readiness", items=(), noun="readiness item", wrapper="items")


def parse_readiness(section: Any, *, origin: str | Source = "<rules>") -> ReadinessChecklist:
    """The ``readiness:`` list; ``origin`` is a name for messages or, from a file, the section's :class:`Source`."""
    source = as_source(origin)
    if not isinstance(section, list):
        raise RulesError(f"{source.where(())}: readiness must be a list of checklist items")
    return validate(ReadinessChecklist, section, source, NAMING, error=RulesError)


def load_readiness(path: Path | None = None) -> ReadinessChecklist:
    """The checklist of ``path`` (the shipped file when None); the shipped one if it has no section."""
    section, source = rules_section(*read_rules_yaml(path), "readiness")
    return parse_readiness(section, origin=source)
