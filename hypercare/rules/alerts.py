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

from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator, model_validator

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
    """Failures / logins in the last 15 minutes above a share, once there are enough logins to judge."""

    kind: Literal["login_failure_rate"]
    failure_rate_above: Number = Field(ge=0, lt=1)
    min_attempts: StrictInt = Field(ge=1)


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


def parse_alert_rules(section: Any, *, origin: str | Source = "<rules>") -> AlertRules:
    """The ``alerts:`` section; ``origin`` is a name for messages or, from a file, the section's :class:`Source`."""
    source = as_source(origin)
    if not isinstance(section, Mapping):
        raise RulesError(f"{source.where(())}: alerts must be a mapping with 'escalation' and 'rules'")
    return validate(AlertRules, section, source, NAMING, error=RulesError)


def load_alert_rules(path: Path | None = None) -> AlertRules:
    """The alert rules of ``path`` (the shipped file when None); the shipped ones if it has no ``alerts:``."""
    section, source = rules_section(*read_rules_yaml(path), "alerts")
    return parse_alert_rules(section, origin=source)
