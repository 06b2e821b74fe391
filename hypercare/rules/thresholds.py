"""The ``thresholds:`` section of the rules file: minimum volumes and rate limits, written once.

Health, alerts and stop criteria used to carry their own copies of the same line (health turned red from
10 logins, the login alert needed 40, the stop criterion 50), so the console could show a red region and no
alert. A threshold names a figure, the volume it needs before it can be judged and its yellow and red
limits; a health rule, an alert rule and a stop criterion refer to it by id (``threshold: login_failure_rate``)
and read the same numbers:

- below the minimum volume the figure is *not assessed* ("ej bedömt"; never green), everywhere;
- health: yellow from ``yellow``, red from ``red`` (the limit itself counts);
- alerts: raised from ``red``, so a red figure is an alert;
- stop criteria: exceeded ("Överskriden – stopp") from ``red``.

A custom rules file without the section gets the shipped thresholds (older files keep loading; their own
inline numbers still work where no ``threshold:`` is named).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache, cached_property
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from hypercare.rules.loader import Naming, RulesError, Source, as_source, read_rules_yaml, rules_section, validate
from hypercare.rules.validators import Number, RuleId, unique_ids

# A dotted metric path; health checks it against its catalogue when it resolves a reference.
MetricPath = Annotated[str, Field(pattern=r"^[a-z0-9_]+(\.[a-z0-9_]+)+$")]


class Volume(BaseModel):
    """The figure that says how much a value stands on (``access.logins_15m`` behind a failure rate)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    metric: MetricPath
    at_least: Number = Field(gt=0)


class Threshold(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: RuleId
    metric: MetricPath
    volume: Volume | None = None
    yellow: Number | None = None
    red: Number

    @model_validator(mode="after")
    def _ordered(self) -> Threshold:
        if self.yellow is not None and self.red < self.yellow:
            raise ValueError("red must be at or above yellow")
        return self

    @property
    def min_volume(self) -> int:
        """The minimum volume as a count (0 without a volume)."""
        return 0 if self.volume is None else int(self.volume.at_least)


class Thresholds(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    thresholds: list[Threshold] = Field(default_factory=list)

    @field_validator("thresholds")
    @classmethod
    def _unique_ids(cls, thresholds: list[Threshold]) -> list[Threshold]:
        unique_ids((threshold.id for threshold in thresholds), "threshold")
        return thresholds

    @cached_property
    def by_id(self) -> dict[str, Threshold]:
        return {threshold.id: threshold for threshold in self.thresholds}


NAMING = Naming(section="thresholds", items=(), noun="threshold", wrapper="thresholds")
EMPTY = Thresholds()


def parse_thresholds(section: Any, origin: str | Source = "<rules>") -> Thresholds:
    """The ``thresholds:`` list; ``origin`` is a name for messages or, from a file, the section's :class:`Source`."""
    source = as_source(origin)
    if section is None:
        return EMPTY
    if not isinstance(section, list):
        raise RulesError(f"{source.where(())}: thresholds must be a list of thresholds")
    return validate(Thresholds, section, source, NAMING, error=RulesError)


def resolve(thresholds: Mapping[str, Threshold], threshold_id: str) -> Threshold:
    """The threshold a rule names; a ValueError (shown with the rule's line) for an unknown id."""
    found = thresholds.get(threshold_id)
    if found is None:
        known = ", ".join(sorted(thresholds)) or "none"
        raise ValueError(f"unknown threshold {threshold_id!r} (the thresholds section has: {known})")
    return found


LOGIN_RATE = "access.login_failure_rate_15m"
LOGINS = "access.logins_15m"


def login_rate(threshold: Threshold) -> Threshold:
    """``threshold`` if it is a login failure rate judged on logins (what alerts and stop criteria count)."""
    if threshold.metric != LOGIN_RATE or (threshold.volume is not None and threshold.volume.metric != LOGINS):
        raise ValueError(
            f"threshold {threshold.id!r} measures {threshold.metric}"
            f"{f' on {threshold.volume.metric}' if threshold.volume else ''}; "
            f"a login failure rate needs metric {LOGIN_RATE} (volume {LOGINS})"
        )
    return threshold


def from_context(context: Any) -> Mapping[str, Threshold]:
    """The thresholds handed to a section's validation (``model_validate(..., context=...)``)."""
    if isinstance(context, Mapping):
        found = context.get("thresholds")
        if isinstance(found, Thresholds):
            return found.by_id
    return {}


def document_thresholds(data: Any, source: Source) -> Thresholds:
    """The thresholds of a whole rules document (the shipped ones when it has no ``thresholds:``)."""
    return parse_thresholds(*rules_section(data, source, "thresholds"))


def context(thresholds: Thresholds) -> dict[str, Any]:
    """The validation context that lets a section's rules refer to ``thresholds``."""
    return {"thresholds": thresholds}


@cache
def shipped_thresholds() -> Thresholds:
    """The shipped file's thresholds: what a section parsed on its own refers to."""
    return document_thresholds(*read_rules_yaml(None))
