"""The ``exit_criteria:`` section of the rules file: when a wave may leave hypercare and be handed over to support.

Judged per wave over that wave's units, like the stop criteria (same reading path,
:func:`hypercare.rules.file.load_rules_file`). A criterion is met while its value is below ``not_met_at``;
from that value on it is not met (exceeded). ``tickets_per_100_users_daily`` is judged on each of the last
``days`` whole local days before the moment of evaluation: met only when every one of them is below the
limit, and not assessed until the wave has been live that many whole days. "Users" are the staff of the wave's
units (the org registry's ``staff`` per unit, :data:`hypercare.org.registry.DEFAULT_UNIT_STAFF` where not given).
A custom rules file without the section gets the shipped criteria. The gateway evaluates them
(``services.wave_exit``).
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator, model_validator

from hypercare.rules.loader import Naming, RulesError, Source, as_source, read_rules_yaml, rules_section, validate
from hypercare.rules.validators import Number, RuleId, unique_ids

ExitMetric = Literal["tickets_per_100_users_daily", "open_priority1_tickets", "active_diversions"]
DAILY_METRIC = "tickets_per_100_users_daily"


class ExitCriterion(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: RuleId
    title: str = Field(min_length=1, max_length=200)
    metric: ExitMetric
    not_met_at: Number = Field(ge=0)
    # Only for the daily metric: how many whole days in a row must be below the limit.
    days: StrictInt | None = Field(default=None, ge=1, le=31)

    @model_validator(mode="after")
    def _days_only_for_daily(self) -> ExitCriterion:
        if self.metric == DAILY_METRIC and self.days is None:
            raise ValueError(f"{DAILY_METRIC} needs days (how many whole days in a row below the limit)")
        if self.metric != DAILY_METRIC and self.days is not None:
            raise ValueError(f"days applies to {DAILY_METRIC} only")
        return self


class ExitCriteria(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    criteria: list[ExitCriterion] = Field(default_factory=list)

    @field_validator("criteria")
    @classmethod
    def _unique_ids(cls, criteria: list[ExitCriterion]) -> list[ExitCriterion]:
        unique_ids((criterion.id for criterion in criteria), "exit criterion")
        return criteria

    @cached_property
    def longest_days(self) -> int:
        """The most whole days any daily criterion looks back (0 without one)."""
        return max((criterion.days or 0 for criterion in self.criteria), default=0)


# The section is a list; it is validated as ``{"criteria": [...]}``.
NAMING = Naming(section="exit_criteria", items=(), noun="exit criterion", wrapper="criteria")


def parse_exit_criteria(section: Any, *, origin: str | Source = "<rules>") -> ExitCriteria:
    """The ``exit_criteria:`` list; ``origin`` is a name for messages or, from a file, the section's :class:`Source`."""
    source = as_source(origin)
    if not isinstance(section, list):
        raise RulesError(f"{source.where(())}: exit_criteria must be a list of criteria")
    return validate(ExitCriteria, section, source, NAMING, error=RulesError)


def load_exit_criteria(path: Path | None = None) -> ExitCriteria:
    """The criteria of ``path`` (the shipped file when None); the shipped ones if it has no section."""
    section, source = rules_section(*read_rules_yaml(path), "exit_criteria")
    return parse_exit_criteria(section, origin=source)
