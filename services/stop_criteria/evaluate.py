"""Stop criteria judged on counted figures: pure, so the threshold behaviour is testable to the last digit.

Per unit figures are summed into administrations and the region with the org registry (a rate is
recomputed from summed counts, never averaged). A criterion is met while its value is below
``not_met_at``; a per-administration criterion is met only when every administration meets it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from hypercare.org.registry import UNMAPPED_ID, OrgRegistry, exact_hours_since
from services.stop_criteria.measures import UnitFigures
from services.stop_criteria.rules import StopCriteria, StopCriterion

UNITS_OF_VALUE = {
    "login_failure_rate_15m": "andel",
    "open_priority1_tickets": "ärenden",
    "diversion_hours_today": "timmar",
    "patient_safety_tickets_today": "ärenden",
}


def _sources(at: datetime, since: datetime) -> dict[str, str]:
    at_text, since_text = at.isoformat(timespec="seconds"), since.isoformat(timespec="seconds")
    return {
        "login_failure_rate_15m": (
            f"events type=access.login, occurred_at i ({at_text} − 15 min, {at_text}]; andel = outcome=failure / alla"
        ),
        "open_priority1_tickets": (
            f"events type=ticket.opened/updated/resolved med occurred_at ≤ {at_text}; "
            "ärenden utan ticket.resolved vars senaste prioritet är 1"
        ),
        "diversion_hours_today": (
            f"events type=ed.diversion_started/ended med occurred_at ≤ {at_text}; "
            f"hänvisningstid inom [{since_text}, {at_text}]"
        ),
        "patient_safety_tickets_today": (
            f"events type=ticket.opened, patient_safety=true, occurred_at i [{since_text}, {at_text}]"
        ),
    }


def _node_value(criterion: StopCriterion, figures: UnitFigures, units: set[str] | None) -> tuple[float, dict[str, Any]]:
    """The criterion's value over ``units`` (None: every unit) and the counts it came from."""

    def total(per_unit: Mapping[str, float]) -> float:
        return sum(v for unit_id, v in per_unit.items() if units is None or unit_id in units)

    if criterion.metric == "login_failure_rate_15m":
        attempts = int(total(figures.logins_15m))
        failures = int(total(figures.login_failures_15m))
        rate = round(failures / attempts, 4) if attempts else 0.0
        return rate, {"logins": attempts, "failures": failures}
    if criterion.metric == "open_priority1_tickets":
        return total(figures.open_priority1_tickets), {}
    if criterion.metric == "diversion_hours_today":
        return round(total(figures.diversion_hours_today), 2), {}
    return total(figures.patient_safety_tickets_today), {}


def _judge(
    criterion: StopCriterion, value: float, basis: Mapping[str, Any], hours: float | None = None
) -> tuple[bool, bool, float, str | None]:
    """(met, judged, limit, phase): a rate with too few logins behind it is not judged and counts as met.

    ``hours`` since the node's go-live pick the threshold's phase, as for health and alerts.
    """
    limits = criterion.limits(hours)
    limit = float(limits.red if limits.red is not None else criterion.not_met_at)
    min_logins = int(limits.min_volume or 0)
    phase = None if limits.phase is None else limits.phase.id
    if min_logins and int(basis.get("logins", 0)) < min_logins:
        return True, False, limit, phase
    return value < limit, True, limit, phase


def _hours(org: OrgRegistry, units: set[str] | None, at: datetime) -> float | None:
    """Hours since the earliest go-live among ``units`` (None: all): a roll-up's phase, as in the picture."""
    go_lives = [
        when for unit_id, when in org.actual_go_live.items() if (units is None or unit_id in units) and when <= at
    ]
    return exact_hours_since(min(go_lives), at) if go_lives else None


def _state(met: bool, judged: bool) -> str:
    """Wording that cannot be read backwards: within the limit, exceeded (stop), or not assessed."""
    if not met:
        return "exceeded"
    return "within" if judged else "not_assessed"


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


def evaluate(
    criteria: StopCriteria, figures: UnitFigures, *, org: OrgRegistry, at: datetime, since: datetime
) -> dict[str, Any]:
    """The evaluation document served by ``GET /api/v1/stop-criteria`` and frozen into reports and decisions."""
    sources = _sources(at, since)
    units_by_admin: dict[str, set[str]] = {}
    for placement in org.placements.values():
        units_by_admin.setdefault(placement.administration_id, set()).add(placement.unit_id)
    seen_units = (
        set(figures.logins_15m)
        | set(figures.open_priority1_tickets)
        | set(figures.diversion_hours_today)
        | set(figures.patient_safety_tickets_today)
    )
    unmapped = {unit_id for unit_id in seen_units if not org.knows(unit_id)}
    if unmapped:
        units_by_admin[UNMAPPED_ID] = unmapped
    names = {admin.id: admin.name for admin in org.administrations}
    results = []
    for criterion in criteria.criteria:
        value, basis = _node_value(criterion, figures, None)
        breakdown = []
        if criterion.per == "administration":
            for admin_id, units in units_by_admin.items():
                admin_value, admin_basis = _node_value(criterion, figures, units)
                admin_met, admin_judged, admin_limit, admin_phase = _judge(
                    criterion, admin_value, admin_basis, _hours(org, units, at) if criterion.phases else None
                )
                item: dict[str, Any] = {
                    "id": admin_id,
                    "name": names.get(admin_id, "Okänd enhet"),
                    "value": _number(admin_value),
                    "met": admin_met,
                    "judged": admin_judged,
                    "state": _state(admin_met, admin_judged),
                    **admin_basis,
                }
                item |= {"limit": _number(admin_limit), "phase": admin_phase}
                breakdown.append(item)
            met = all(item["met"] for item in breakdown)
            judged = any(item["judged"] for item in breakdown)
            limit, phase = float(criterion.not_met_at), None
        else:
            met, judged, limit, phase = _judge(
                criterion, value, basis, _hours(org, None, at) if criterion.phases else None
            )
        results.append(
            {
                "id": criterion.id,
                "title": criterion.title,
                "metric": criterion.metric,
                "unit": UNITS_OF_VALUE[criterion.metric],
                "scope": criterion.per,
                "limit": _number(limit),
                "phase": phase,
                "min_logins": criterion.min_logins or None,
                "value": _number(value),
                **basis,
                "met": met,
                "judged": judged,
                "state": _state(met, judged),
                "breakdown": breakdown,
                "source": sources[criterion.metric],
            }
        )
    return {
        "as_of": at.isoformat(),
        "day_start": since.isoformat(),
        "overall": "met" if all(r["met"] for r in results) else "not_met",
        "criteria": results,
    }
