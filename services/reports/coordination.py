"""The coordination group's own records at the report's state moment: decisions, alerts, duties, risks,
stop criteria.

Each reader takes the moment ``at`` (the period's ``counted_until``) and reads only what existed then,
so a report for a past day shows that day's evening, not today's registers.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from hypercare.org.registry import OrgRegistry
from hypercare.storage.alert_models import Alert
from hypercare.storage.db import Database
from services.alerts.rules import AlertRules
from services.decisions.entries import DecisionQuery
from services.decisions.service import find_decisions
from services.duties.config import DutiesConfig
from services.duties.register import duties_at
from services.reports import store
from services.reports.period import Period
from services.risks.register import OPEN_STATUSES, current_risks
from services.stop_criteria.rules import StopCriteria
from services.stop_criteria.service import stop_criteria_at

MAX_DECISIONS = 5000
# The stop criteria count events with occurred_at <= at; one microsecond before the report's exclusive
# end gives the same events as the report's half-open interval, and "today" is the reported day.
_JUST_BEFORE = timedelta(microseconds=1)


async def decisions_in(db: Database, org: OrgRegistry, period: Period) -> list[dict[str, Any]]:
    """Decision-log entries of the period, oldest first (the log itself lists newest first)."""
    query = DecisionQuery(since=period.start, until=period.counted_until, limit=MAX_DECISIONS)
    entries = await find_decisions(db=db, org=org, query=query)
    return sorted(entries, key=lambda entry: (entry["occurred_at"], entry["event_id"]))


def level_at(alert: Alert, at: datetime, rules: AlertRules) -> str:
    """The escalation level the alert had at ``at`` (its row keeps only the latest escalation)."""
    if alert.escalated_at is None or alert.escalated_at < at:
        return alert.level
    if alert.level != "program":
        return "team"
    rule = rules.by_id.get(alert.rule)
    if rule is None:
        return "team"
    multi_after = timedelta(minutes=rules.escalation_for(rule).multi_after_minutes)
    return "multi" if alert.raised_at + multi_after <= at else "team"


async def alerts_at(db: Database, period: Period, rules: AlertRules) -> tuple[list[dict[str, Any]], int]:
    """Alerts unresolved at the state moment (oldest first) and how many were raised in the period."""
    at = period.counted_until
    rows = await store.alerts_unresolved_at(db, at)
    raised_count = await store.count_alerts_raised(db, since=period.start, until=at)
    active = []
    for alert in rows:
        acknowledged = alert.acknowledged_at is not None and alert.acknowledged_at < at
        active.append(
            {
                "id": alert.id,
                "severity": alert.severity,
                "node_id": alert.node_id,
                "node_name": alert.node_name,
                "message": alert.message,
                "raised_at": alert.raised_at.isoformat(),
                "status": "acknowledged" if acknowledged else "open",
                "acknowledged_by": alert.acknowledged_by if acknowledged else None,
                "assigned_to": alert.assigned_to,
                "level": level_at(alert, at, rules),
            }
        )
    return active, raised_count


async def duties_state(db: Database, config: DutiesConfig, period: Period) -> list[dict[str, Any]]:
    """Every reporting duty as it stood at the state moment (time left counted to that moment)."""
    at = period.counted_until
    return await duties_at(db, config, at, until=at)


async def open_risks(db: Database, period: Period) -> list[dict[str, Any]]:
    """Open and mitigating risks as recorded before the state moment, with their flags."""
    risks = await current_risks(db, until=period.counted_until)
    return [risk for risk in risks if risk["status"] in OPEN_STATUSES]


async def stop_criteria_state(db: Database, org: OrgRegistry, criteria: StopCriteria, period: Period) -> dict[str, Any]:
    return await stop_criteria_at(
        db=db, org=org, criteria=criteria, at=period.counted_until - _JUST_BEFORE, zone=period.zone
    )
