"""Alert rules: the ``alerts:`` section of the rules file, parsed with pydantic.

The section lives in the same file as the health rules (``HYPERCARE_RULES_FILE`` or the shipped
``hypercare/rules/default_rules.yaml``), read once by :func:`hypercare.rules.file.load_rules_file`. A custom file
without an ``alerts:`` section gets the shipped alert rules, so replacing the health rules never switches
alerting off by accident. Unknown keys are rejected and every error names the file, the line and the rule, so
a typo stops the gateway at start-up. The gateway evaluates these rules (``services.alerts``); they are
parsed here, with the rest of the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationInfo, field_validator, model_validator

from hypercare.rules import thresholds as shared
from hypercare.rules.loader import Naming, RulesError, Source, as_source, read_rules_yaml, rules_section, validate
from hypercare.rules.validators import NodeLevel, Number, RuleId, unique_ids

Severity = Literal["info", "warning", "critical"]
SEVERITIES: tuple[str, ...] = ("info", "warning", "critical")
EscalationLevel = Literal["team", "multi", "program"]
ESCALATION_LEVELS: tuple[str, ...] = ("team", "multi", "program")


def _units_only_default() -> list[NodeLevel]:
    return ["unit"]


class Escalation(BaseModel):
    """Minutes an alert may stay unacknowledged, counted from when it was raised, before it moves up."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    multi_after_minutes: StrictInt = Field(gt=0)
    program_after_minutes: StrictInt = Field(gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> Escalation:
        if self.program_after_minutes <= self.multi_after_minutes:
            raise ValueError("program_after_minutes must be more than multi_after_minutes")
        return self

    def level_after(self, unacknowledged: timedelta) -> str:
        """The level an alert has reached after being unacknowledged this long (the boundary counts)."""
        if unacknowledged >= timedelta(minutes=self.program_after_minutes):
            return "program"
        if unacknowledged >= timedelta(minutes=self.multi_after_minutes):
            return "multi"
        return "team"


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: RuleId
    severity: Severity
    levels: list[NodeLevel] = Field(default_factory=_units_only_default, min_length=1)
    escalation: Escalation | None = None


class LoginFailureRate(_Rule):
    """Failures / logins in the last 15 minutes above a share, once there are enough logins to judge.

    ``threshold: ID`` reads the limit and the minimum volume from the thresholds section: raised from the
    threshold's ``red`` (the limit itself counts, as in health) with at least its volume of logins, so a
    figure that health shows red is an alert. Without it, the rule's own ``failure_rate_above`` (strictly
    above) and ``min_attempts``.
    """

    kind: Literal["login_failure_rate"]
    threshold: RuleId | None = None
    failure_rate_above: Number | None = Field(default=None, ge=0, lt=1)
    rate_at_least: Number | None = Field(default=None, ge=0, le=1)
    min_attempts: StrictInt = Field(ge=1)
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
        threshold = shared.login_rate(shared.resolve(shared.from_context(info.context), str(data["threshold"])))
        written = [key for key in ("failure_rate_above", "rate_at_least", "min_attempts", "phases") if key in data]
        if written:
            raise ValueError(
                f"{', '.join(written)}: comes from threshold {threshold.id!r}; remove it here or drop 'threshold'"
            )
        return {
            **data,
            "rate_at_least": threshold.red,
            "min_attempts": max(1, threshold.min_volume),
            "phases": tuple(threshold.phases),
        }

    def limits(self, hours: float | None) -> shared.Limits:
        """Limit and minimum logins ``hours`` after the node's go-live (the threshold's phase, else the normal)."""
        return shared.limits_at(self.phases, hours, yellow=None, red=self.limit, min_volume=self.min_attempts)

    @model_validator(mode="after")
    def _one_limit(self) -> LoginFailureRate:
        if (self.failure_rate_above is None) == (self.rate_at_least is None):
            raise ValueError("give threshold (or failure_rate_above)")
        return self

    def exceeded(self, rate: float, limits: shared.Limits | None = None) -> bool:
        if limits is not None and limits.red is not None:
            return rate >= limits.red
        if self.rate_at_least is not None:
            return rate >= self.rate_at_least
        return self.failure_rate_above is not None and rate > self.failure_rate_above

    @property
    def limit(self) -> float:
        return float(self.rate_at_least if self.rate_at_least is not None else self.failure_rate_above or 0)


class TicketOpenTooLong(_Rule):
    """A ticket of one priority open for at least ``minutes`` (its current priority, age from its opening)."""

    kind: Literal["ticket_open_too_long"]
    priority: Literal[1, 2, 3, 4]
    minutes: StrictInt = Field(ge=1)


class PatientSafetyTicket(_Rule):
    """Any open ticket flagged as a patient-safety risk."""

    kind: Literal["patient_safety_ticket"]
    min_open: StrictInt = Field(default=1, ge=1)


class UnvisitedWithOpenTickets(_Rule):
    """Open tickets and no floor-walker visit for ``hours`` (per unit only: visits are per unit)."""

    kind: Literal["unvisited_with_open_tickets"]
    hours: Number = Field(gt=0)
    min_open_tickets: StrictInt = Field(default=1, ge=1)

    @model_validator(mode="after")
    def _units_only(self) -> UnvisitedWithOpenTickets:
        if self.levels != ["unit"]:
            raise ValueError("unvisited_with_open_tickets applies to units only; use levels: [unit]")
        return self


class EdWaitingOverCapacity(_Rule):
    """An emergency department's waiting patients above a share of its capacity (1.0: more than capacity)."""

    kind: Literal["ed_waiting_over_capacity"]
    waiting_ratio_above: Number = Field(default=1.0, ge=0)


class HealthRed(_Rule):
    """A node whose health is red: the alert carries the health reasons, so every red node has an alarm
    that says why (the health rules decide red; this kind only makes it something to act on)."""

    kind: Literal["health_red"]


class EdStatusMissing(_Rule):
    """An emergency department whose latest status report is at least ``minutes`` old."""

    kind: Literal["ed_status_missing"]
    minutes: StrictInt = Field(ge=1)


AlertRule = Annotated[
    (
        LoginFailureRate
        | TicketOpenTooLong
        | PatientSafetyTicket
        | UnvisitedWithOpenTickets
        | EdWaitingOverCapacity
        | EdStatusMissing
        | HealthRed
    ),
    Field(discriminator="kind"),
]
RULE_KINDS: tuple[str, ...] = (
    "login_failure_rate",
    "ticket_open_too_long",
    "patient_safety_ticket",
    "unvisited_with_open_tickets",
    "ed_waiting_over_capacity",
    "ed_status_missing",
    "health_red",
)


class AlertRules(BaseModel):
    """The parsed ``alerts:`` section: default escalation times and the rules in file order."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    escalation: Escalation
    rules: list[AlertRule] = Field(default_factory=list)

    @field_validator("rules")
    @classmethod
    def _unique_ids(cls, rules: list[AlertRule]) -> list[AlertRule]:
        unique_ids((rule.id for rule in rules), "alert rule")
        return rules

    @cached_property
    def by_id(self) -> dict[str, AlertRule]:
        return {rule.id: rule for rule in self.rules}

    def escalation_for(self, rule: AlertRule) -> Escalation:
        return rule.escalation or self.escalation


NAMING = Naming(section="alerts", items=("rules",), noun="alert rule", tags=RULE_KINDS)


def parse_alert_rules(
    section: Any, *, origin: str | Source = "<rules>", thresholds: shared.Thresholds | None = None
) -> AlertRules:
    """The ``alerts:`` section; ``origin`` is a name for messages or, from a file, the section's :class:`Source`.

    ``threshold:`` references resolve against ``thresholds`` (the shipped thresholds when None).
    """
    source = as_source(origin)
    if not isinstance(section, Mapping):
        raise RulesError(f"{source.where(())}: alerts must be a mapping with 'escalation' and 'rules'")
    known = shared.shipped_thresholds() if thresholds is None else thresholds
    return validate(AlertRules, section, source, NAMING, error=RulesError, context=shared.context(known))


def load_alert_rules(path: Path | None = None) -> AlertRules:
    """The alert rules of ``path`` (the shipped file when None); the shipped ones if it has no ``alerts:``."""
    data, source = read_rules_yaml(path)
    section, section_source = rules_section(data, source, "alerts")
    return parse_alert_rules(section, origin=section_source, thresholds=shared.document_thresholds(data, source))
