"""Readiness from the latest assessed values: pure functions of the checklist, the registry and the values.

``assessments`` maps a unit to its items' latest values (a percent as a number 0–100, a check as true/false);
how they arrive (``readiness.assessed`` events, the CSV import) is the next slice's. An item without a value is
red, "not assessed": a wave must not pass its gate on silence.
"""

from __future__ import annotations

from collections.abc import Mapping

from hypercare.org.registry import OrgRegistry
from hypercare.rules.readiness import ReadinessChecklist, ReadinessItem
from services.readiness.schemas import ItemReadiness, ReadinessCounts, ReadinessStatus, UnitReadiness, WaveGate

Value = float | bool
Assessments = Mapping[str, Mapping[str, Value]]
ORDER: dict[ReadinessStatus, int] = {"green": 0, "yellow": 1, "red": 2}


def item_readiness(item: ReadinessItem, value: Value | None) -> ItemReadiness:
    status: ReadinessStatus
    reason: str | None
    if value is None:
        status, reason = "red", f"{item.title}: ej bedömd"
    elif item.kind == "check":
        done = value is True
        status, reason = ("green", None) if done else ("red", f"{item.title}: ej klar")
    else:
        share = float(value)
        green_from, yellow_from = item.green_from or 0, item.yellow_from or 0
        if share >= green_from:
            status, reason = "green", None
        elif share >= yellow_from:
            status, reason = "yellow", f"{item.title}: {share:g} % (grönt från {green_from:g} %)"
        else:
            status, reason = "red", f"{item.title}: {share:g} % (gult från {yellow_from:g} %)"
    return ItemReadiness(item_id=item.id, title=item.title, value=value, status=status, reason=reason)


def unit_readiness(checklist: ReadinessChecklist, unit_id: str, values: Mapping[str, Value]) -> UnitReadiness:
    items = [item_readiness(item, values.get(item.id)) for item in checklist.items]
    worst: ReadinessStatus = max((item.status for item in items), key=ORDER.__getitem__, default="green")
    return UnitReadiness(unit_id=unit_id, status=worst, items=items)


def wave_gate(org: OrgRegistry, checklist: ReadinessChecklist, assessments: Assessments, wave_id: str) -> WaveGate:
    """The gate of ``wave_id`` (a wave of ``org``): its units' readiness rolled up, and the units that block it."""
    total = {"green": 0, "yellow": 0, "red": 0}
    by_area: dict[str, dict[str, int]] = {}
    by_administration: dict[str, dict[str, int]] = {}
    blocking: list[str] = []
    for unit_id in org.wave_units[wave_id]:
        unit_status = unit_readiness(checklist, unit_id, assessments.get(unit_id, {})).status
        placement = org.place(unit_id)
        total[unit_status] += 1
        if placement.area is not None:
            by_area.setdefault(placement.area, {"green": 0, "yellow": 0, "red": 0})[unit_status] += 1
        counts = by_administration.setdefault(placement.administration_id, {"green": 0, "yellow": 0, "red": 0})
        counts[unit_status] += 1
        if unit_status == "red":
            blocking.append(unit_id)
    status: ReadinessStatus = "red" if total["red"] else "yellow" if total["yellow"] else "green"
    return WaveGate(
        wave_id=wave_id,
        status=status,
        units=ReadinessCounts(**total),
        by_area={area: ReadinessCounts(**counts) for area, counts in by_area.items()},
        by_administration={admin: ReadinessCounts(**counts) for admin, counts in by_administration.items()},
        blocking_unit_ids=blocking,
    )
