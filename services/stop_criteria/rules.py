"""The ``stop_criteria:`` section of the rules file, parsed with pydantic.

Same file and same reading path as the health and alert rules. A criterion is met while its value is
below ``not_met_at``; from that value on it is not met, so a group can say exactly where the line is
("at 20 % login failures we stop"). A custom rules file without the section gets the shipped criteria.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, ValidationError, model_validator

from hypercare.rules.loader import RulesError, read_rules_section

Metric = Literal[
    "login_failure_rate_15m",
    "open_priority1_tickets",
    "diversion_hours_today",
    "patient_safety_tickets_today",
]
METRICS: tuple[str, ...] = (
    "login_failure_rate_15m",
    "open_priority1_tickets",
    "diversion_hours_today",
    "patient_safety_tickets_today",
)
Number = StrictInt | StrictFloat


class StopCriterion(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(pattern=r"^[a-z0-9_]{1,64}$")
    title: str = Field(min_length=1, max_length=200)
    metric: Metric
    per: Literal["region", "administration"] = "region"
    not_met_at: Number = Field(ge=0)
    # Only for rates: below this many logins the rate is not judged (the criterion counts as met).
    min_logins: StrictInt = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _min_logins_only_for_rates(self) -> StopCriterion:
        if self.min_logins and self.metric != "login_failure_rate_15m":
            raise ValueError("min_logins applies to login_failure_rate_15m only")
        if self.metric == "login_failure_rate_15m" and self.not_met_at > 1:
            raise ValueError("a login failure rate is a share between 0 and 1")
        return self


class StopCriteria(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    criteria: list[StopCriterion] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_ids(self) -> StopCriteria:
        ids = [criterion.id for criterion in self.criteria]
        duplicated = sorted({i for i in ids if ids.count(i) > 1})
        if duplicated:
            raise ValueError(f"stop criterion ids used twice: {', '.join(duplicated)}")
        return self

    @cached_property
    def by_id(self) -> dict[str, StopCriterion]:
        return {criterion.id: criterion for criterion in self.criteria}


def parse_stop_criteria(section: Any, *, origin: str = "<rules>") -> StopCriteria:
    if not isinstance(section, list):
        raise RulesError(f"{origin}: stop_criteria must be a list of criteria")
    try:
        return StopCriteria.model_validate({"criteria": section})
    except ValidationError as error:
        parts = []
        for item in error.errors(include_input=False, include_url=False):
            loc = [str(p) for p in item["loc"]]
            if len(loc) >= 2 and loc[0] == "criteria":
                index = int(loc[1])
                entry = section[index] if index < len(section) else None
                name = entry.get("id") if isinstance(entry, Mapping) else None
                where = f"stop criterion {name!r}" if name else f"stop_criteria[{index}]"
                where += "".join(f".{p}" for p in loc[2:])
            else:
                where = "stop_criteria"
            parts.append(f"{where}: {item['msg'].removeprefix('Value error, ')}")
        raise RulesError(f"{origin}: {'; '.join(parts)}") from None


def load_stop_criteria(path: Path | None = None) -> StopCriteria:
    """The criteria of ``path`` (the shipped file when None); the shipped ones if it has no section."""
    section, origin = read_rules_section(path, "stop_criteria")
    return parse_stop_criteria(section, origin=origin)
