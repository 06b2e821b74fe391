"""Exit criteria judged on counted figures: pure, so each flip at its limit is testable to the last digit.

The figures are per unit (counted by :mod:`services.stop_criteria.measures` with the shared ticket and diversion
folds) and summed over the wave's units here. A value at the limit is exceeded. A per-100-users rate is compared
as ``opened × 100 >= limit × users`` so no rounding moves the flip.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from hypercare.org.registry import OrgRegistry
from hypercare.rules.exit_criteria import DAILY_METRIC, ExitCriteria, ExitCriterion

UNITS_OF_VALUE = {
    DAILY_METRIC: "ärenden per 100 användare och dygn",
    "open_priority1_tickets": "ärenden",
    "active_diversions": "pågående hänvisningar",
}


@dataclass(frozen=True)
class Day:
    """A whole local day: tickets opened in ``[start, end)`` per unit."""

    start: datetime
    end: datetime
    opened: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True)
class ExitFigures:
    """Per unit: open priority-1 tickets and running diversions at the moment, and the whole days before it."""

    at: datetime
    open_priority1_tickets: Counter[str] = field(default_factory=Counter)
    active_diversions: Counter[str] = field(default_factory=Counter)
    days: list[Day] = field(default_factory=list)  # oldest first; the last ends at the local midnight before ``at``


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


def _source(criterion: ExitCriterion, at: datetime) -> str:
    at_text = at.isoformat(timespec="seconds")
    if criterion.metric == DAILY_METRIC:
        return (
            f"events type=ticket.opened vid vågens enheter, första öppning per lokalt dygn (de {criterion.days} "
            f"senaste hela dygnen före {at_text}); per 100 användare = öppnade × 100 / vågens personal"
        )
    if criterion.metric == "open_priority1_tickets":
        return (
            f"events type=ticket.opened/updated/resolved med occurred_at ≤ {at_text} vid vågens enheter; "
            "ärenden utan ticket.resolved vars senaste prioritet är 1"
        )
    return f"events type=ed.diversion_started/ended med occurred_at ≤ {at_text} vid vågens akutmottagningar; pågående"


def _not_assessed(criterion: ExitCriterion, reason: str, daily: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"value": None, "state": "not_assessed", "reason": reason, "daily": daily or []}


def _daily(
    criterion: ExitCriterion, figures: ExitFigures, units: set[str], users: int, go_live: datetime, zone: ZoneInfo
) -> dict[str, Any]:
    days = criterion.days or 0
    window = [day for day in figures.days[-days:] if day.start >= go_live]
    limit = criterion.not_met_at
    rows: list[dict[str, Any]] = []
    for day in window:
        opened = sum(count for unit_id, count in day.opened.items() if unit_id in units)
        exceeded = users > 0 and opened * 100 >= limit * users
        rows.append(
            {
                "day": day.start.astimezone(zone).date().isoformat(),
                "start": day.start.isoformat(),
                "end": day.end.isoformat(),
                "opened": opened,
                "per_100_users": round(opened * 100 / users, 2) if users else 0.0,
                "state": "exceeded" if exceeded else "within",
            }
        )
    if users == 0:
        return _not_assessed(criterion, "Vågens enheter har inga användare (staff 0)", rows)
    if len(rows) < days:
        return _not_assessed(criterion, f"Vågen har varit live {len(rows)} av {days} hela dygn", rows)
    value = max(float(row["per_100_users"]) for row in rows)
    state = "exceeded" if any(row["state"] == "exceeded" for row in rows) else "within"
    return {"value": _number(value), "state": state, "reason": None, "daily": rows}


def evaluate_wave(
    criteria: ExitCriteria, figures: ExitFigures, *, org: OrgRegistry, wave_id: str, zone: ZoneInfo
) -> dict[str, Any]:
    """The document served by ``GET /api/v1/waves/{wave_id}/exit`` and stamped on the handover decision."""
    wave = org.waves_by_id[wave_id]
    unit_ids = org.wave_units[wave_id]
    units = set(unit_ids)
    users = sum(org.unit_staff[unit_id] for unit_id in unit_ids)
    go_live = wave.actual_go_live
    live = go_live is not None and go_live <= figures.at
    results = []
    for criterion in criteria.criteria:
        if go_live is None or not live:
            judged = _not_assessed(criterion, "Vågen har inte gått live")
        elif criterion.metric == DAILY_METRIC:
            judged = _daily(criterion, figures, units, users, go_live, zone)
        else:
            per_unit = getattr(figures, criterion.metric)
            value = sum(count for unit_id, count in per_unit.items() if unit_id in units)
            state = "exceeded" if value >= criterion.not_met_at else "within"
            judged = {"value": value, "state": state, "reason": None, "daily": []}
        results.append(
            {
                "id": criterion.id,
                "title": criterion.title,
                "metric": criterion.metric,
                "unit": UNITS_OF_VALUE[criterion.metric],
                "limit": criterion.not_met_at,
                "days": criterion.days,
                **judged,
                "source": _source(criterion, figures.at),
            }
        )
    states = {result["state"] for result in results}
    overall = "not_ready" if "exceeded" in states else "not_assessed" if "not_assessed" in states else "ready"
    return {
        "wave_id": wave_id,
        "as_of": figures.at.isoformat(),
        "actual_go_live": go_live.isoformat() if go_live is not None else None,
        "unit_count": len(unit_ids),
        "users": users,
        "overall": overall,
        "criteria": results,
    }
