"""The ``stop_criteria:`` section of the rules file, parsed with pydantic.

Same file and same reading path as the health and alert rules (:func:`hypercare.rules.file.load_rules_file`).
A criterion is met while its value is below ``not_met_at``; from that value on it is not met, so a group can
say exactly where the line is ("at 20 % login failures we stop"). A custom rules file without the section gets
the shipped criteria. The gateway evaluates them (``services.stop_criteria``).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationInfo, field_validator, model_validator

from hypercare.rules import thresholds as shared
from hypercare.rules.loader import Naming, RulesError, Source, as_source, read_rules_yaml, rules_section, validate
from hypercare.rules.validators import Number, RuleId, unique_ids

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


class StopCriterion(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: RuleId
    title: str = Field(min_length=1, max_length=200)
    metric: Metric
    per: Literal["region", "administration"] = "region"
    # ``threshold: ID`` reads not_met_at (the threshold's red) and min_logins (its volume) from the thresholds
    # section, the same numbers health and alerts use; without it the criterion's own numbers.
    threshold: RuleId | None = None
    not_met_at: Number = Field(ge=0)
    # Only for rates: below this many logins the rate is not judged ("ej bedömt"; it does not stop the roll-out).
    min_logins: StrictInt = Field(default=0, ge=0)
    # The threshold's phases (other limits in the first hours after go-live), filled from it; not written here.
    phases: tuple[shared.Phase, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _from_threshold(cls, data: Any, info: ValidationInfo) -> Any:
        if not isinstance(data, Mapping):
            return data
        if data.get("threshold") is None:
            if "phases" in data:
                raise ValueError("phases belong to an entry of thresholds:; name it with 'threshold'")
            return data
        if data.get("metric") != "login_failure_rate_15m":
            raise ValueError("threshold applies to login_failure_rate_15m only; give not_met_at")
        threshold = shared.login_rate(shared.resolve(shared.from_context(info.context), str(data["threshold"])))
        written = [key for key in ("not_met_at", "min_logins", "phases") if key in data]
        if written:
            raise ValueError(
                f"{', '.join(written)}: comes from threshold {threshold.id!r}; remove it here or drop 'threshold'"
            )
        return {
            **data,
            "not_met_at": threshold.red,
            "min_logins": threshold.min_volume,
            "phases": tuple(threshold.phases),
        }

    def limits(self, hours: float | None) -> shared.Limits:
        """Limit and minimum logins ``hours`` after go-live (the threshold's phase, else the normal ones)."""
        return shared.limits_at(self.phases, hours, yellow=None, red=self.not_met_at, min_volume=self.min_logins)

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

    @field_validator("criteria")
    @classmethod
    def _unique_ids(cls, criteria: list[StopCriterion]) -> list[StopCriterion]:
        unique_ids((criterion.id for criterion in criteria), "stop criterion")
        return criteria

    @cached_property
    def by_id(self) -> dict[str, StopCriterion]:
        return {criterion.id: criterion for criterion in self.criteria}


# The section is a list; it is validated as ``{"criteria": [...]}``.
NAMING = Naming(section="stop_criteria", items=(), noun="stop criterion", wrapper="criteria")


def parse_stop_criteria(
    section: Any, *, origin: str | Source = "<rules>", thresholds: shared.Thresholds | None = None
) -> StopCriteria:
    """The ``stop_criteria:`` list; ``origin`` is a name for messages or, from a file, the section's :class:`Source`.

    ``threshold:`` references resolve against ``thresholds`` (the shipped thresholds when None).
    """
    source = as_source(origin)
    if not isinstance(section, list):
        raise RulesError(f"{source.where(())}: stop_criteria must be a list of criteria")
    known = shared.shipped_thresholds() if thresholds is None else thresholds
    return validate(StopCriteria, section, source, NAMING, error=RulesError, context=shared.context(known))


def load_stop_criteria(path: Path | None = None) -> StopCriteria:
    """The criteria of ``path`` (the shipped file when None); the shipped ones if it has no section."""
    data, source = read_rules_yaml(path)
    section, section_source = rules_section(data, source, "stop_criteria")
    return parse_stop_criteria(section, origin=section_source, thresholds=shared.document_thresholds(data, source))
