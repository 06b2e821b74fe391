"""Alert rules: the ``alerts:`` section of the rules file, parsed in :mod:`hypercare.rules.alerts`.

The whole rules file is parsed in one place (``hypercare.rules``; :func:`hypercare.rules.file.load_rules_file`
reads it once); the gateway's alert code keeps importing the models from here.
"""

from __future__ import annotations

from hypercare.rules.alerts import (
    ESCALATION_LEVELS,
    RULE_KINDS,
    SEVERITIES,
    AlertRule,
    AlertRules,
    EdStatusMissing,
    EdWaitingOverCapacity,
    Escalation,
    EscalationLevel,
    HealthRed,
    LoginFailureRate,
    PatientSafetyTicket,
    Severity,
    TicketOpenTooLong,
    UnvisitedWithOpenTickets,
    load_alert_rules,
    parse_alert_rules,
)
from hypercare.rules.loader import RulesError
from hypercare.rules.validators import NodeLevel, Number

__all__ = [
    "ESCALATION_LEVELS",
    "RULE_KINDS",
    "SEVERITIES",
    "AlertRule",
    "AlertRules",
    "EdStatusMissing",
    "EdWaitingOverCapacity",
    "Escalation",
    "EscalationLevel",
    "HealthRed",
    "LoginFailureRate",
    "NodeLevel",
    "Number",
    "PatientSafetyTicket",
    "RulesError",
    "Severity",
    "TicketOpenTooLong",
    "UnvisitedWithOpenTickets",
    "load_alert_rules",
    "parse_alert_rules",
]
