"""Wave-to-wave comparison: what each wave's first hours and days looked like, on one time axis.

Every counted event is placed by the time since *its unit's* go-live (the unit's wave's actual go-live in the org
registry), so wave 2's hour 5 sits beside wave 1's hour 5 whatever the calendar said. Per wave and bucket (an hour
over the first 72 hours, a day over the first 14 days):

- ``tickets``, ``permission_denials`` and ``assists`` (floor-walker assists): counts, and per 100 users;
- ``login_failure_rate``: login failures / logins (null without logins).

Users are the staff of the wave's units (:attr:`hypercare.org.registry.OrgRegistry.unit_staff`, the same
denominator as the exit criteria), limited to the units the reader may see. A bucket that has not begun yet (the
wave went live too recently) has null figures; one under way is marked ``complete: false``. Pure: the counts come
in as :class:`Counted` items (one event, or a store's count of a unit's events in one aligned bucket).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from hypercare.org.registry import OrgRegistry

Span = Literal["72h", "14d"]
SPANS: dict[str, tuple[timedelta, int]] = {"72h": (timedelta(hours=1), 72), "14d": (timedelta(days=1), 14)}
Measure = Literal["tickets", "logins", "login_failures", "permission_denials", "assists"]
MEASURES: tuple[Measure, ...] = ("tickets", "logins", "login_failures", "permission_denials", "assists")
PER_100: tuple[Measure, ...] = ("tickets", "permission_denials", "assists")


@dataclass(frozen=True, slots=True)
class Counted:
    """``n`` of ``measure`` at ``unit_id`` at ``occurred_at`` (aware)."""

    unit_id: str
    occurred_at: datetime
    measure: Measure
    n: int = 1


def bucket_size(span: Span) -> timedelta:
    return SPANS[span][0]


def bucket_count(span: Span) -> int:
    return SPANS[span][1]


def span_end(go_live: datetime, span: Span) -> datetime:
    """Where the compared span of a wave that went live at ``go_live`` ends (exclusive)."""
    size, count = SPANS[span]
    return go_live + size * count


def bucket_of(go_live: datetime, at: datetime, span: Span) -> int | None:
    """The bucket (0-based) ``at`` falls in, counted from ``go_live``; None before the go-live or after the span."""
    size, count = SPANS[span]
    if at < go_live:
        return None
    index = math.floor((at - go_live) / size)
    return index if index < count else None


def _per_100(n: int, users: int) -> float | None:
    return round(n * 100 / users, 2) if users else None


def compare_waves(
    org: OrgRegistry,
    counted: Iterable[Counted],
    *,
    wave_ids: Sequence[str],
    span: Span,
    at: datetime,
    units: Collection[str] | None = None,
) -> dict[str, Any]:
    """Per wave of ``wave_ids`` (in that order): its figures per bucket since go-live, as of ``at``.

    ``units`` (None: all) are the units counted and whose staff are the users; items of other units, of units
    outside the compared waves, before a unit's go-live or after the span are left out.
    """
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("at must be an aware datetime")
    size, count = SPANS[span]
    unit_wave: dict[str, str] = {}
    for wave_id in wave_ids:
        for unit_id in org.wave_units.get(wave_id, []):
            if units is None or unit_id in units:
                unit_wave[unit_id] = wave_id
    totals = {wave_id: {measure: [0] * count for measure in MEASURES} for wave_id in wave_ids}
    go_live = org.actual_go_live
    for item in counted:
        of = unit_wave.get(item.unit_id)
        start = go_live.get(item.unit_id)
        if of is None or start is None:
            continue
        index = bucket_of(start, item.occurred_at, span)
        if index is not None:
            totals[of][item.measure][index] += item.n
    waves: list[dict[str, Any]] = []
    for wave_id in wave_ids:
        wave = org.waves_by_id[wave_id]
        members = [unit_id for unit_id, of in unit_wave.items() if of == wave_id]
        users = sum(org.unit_staff[unit_id] for unit_id in members)
        started = wave.actual_go_live
        buckets: list[dict[str, Any]] = []
        for index in range(count):
            begins = None if started is None else started + size * index
            if begins is None or begins > at:
                buckets.append({"index": index, "start": begins, "complete": False, "figures": None})
                continue
            sums: dict[str, int] = {measure: totals[wave_id][measure][index] for measure in MEASURES}
            figures: dict[str, Any] = {**sums}
            for measure in PER_100:
                figures[f"{measure}_per_100_users"] = _per_100(sums[measure], users)
            figures["login_failure_rate"] = (
                round(sums["login_failures"] / sums["logins"], 4) if sums["logins"] else None
            )
            buckets.append({"index": index, "start": begins, "complete": begins + size <= at, "figures": figures})
        waves.append(
            {
                "wave_id": wave_id,
                "name": wave.name,
                "actual_go_live": started,
                "unit_count": len(members),
                "users": users,
                "buckets": buckets,
            }
        )
    return {"as_of": at, "span": span, "bucket_hours": int(size.total_seconds() // 3600), "waves": waves}
