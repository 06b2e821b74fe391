"""Trend buckets for ``GET /api/v1/trends``: where they start, and per-unit counts summed up.

The counts come from SQL over the ``events`` table (``store.count_by_unit_and_bucket``, each stored event
once, so resends never count twice), grouped by unit and bucket; units are then summed into their
administration with the org registry (unknown units under "unmapped") and into the region.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import UTC, datetime

from hypercare.org.registry import OrgRegistry

SERIES = ("tickets_opened", "tickets_resolved", "logins", "login_failures")
MAX_BUCKETS = 1000


def bucket_starts(end: datetime, *, hours: float, bucket_minutes: int) -> list[datetime]:
    """Bucket starts aligned to whole multiples of the bucket length, the last one containing ``end``."""
    size = bucket_minutes * 60
    last = math.floor(end.timestamp() / size) * size
    count = max(1, math.ceil(hours * 60 / bucket_minutes))
    return [datetime.fromtimestamp(last - (count - 1 - i) * size, UTC) for i in range(count)]


def _empty(count: int) -> dict[str, list[int]]:
    return {name: [0] * count for name in SERIES}


def roll_up(
    org: OrgRegistry,
    rows: list[tuple[str, int, dict[str, int]]],
    starts: list[datetime],
    bucket_seconds: int,
    unit_id: str | None = None,
) -> tuple[dict[str, list[int]], dict[str, dict[str, list[int]]], dict[str, list[int]] | None]:
    """The region's series, each administration's, and ``unit_id``'s own (None when not asked for)."""
    first = int(starts[0].timestamp())
    region = _empty(len(starts))
    by_admin: dict[str, dict[str, list[int]]] = {admin.id: _empty(len(starts)) for admin in org.administrations}
    unit = _empty(len(starts)) if unit_id is not None else None
    for row_unit, bucket, counts in rows:
        index = (bucket - first) // bucket_seconds
        if not 0 <= index < len(starts):
            continue
        admin_id = org.place(row_unit).administration_id
        series = by_admin.setdefault(admin_id, _empty(len(starts)))
        for name, n in counts.items():
            series[name][index] += n
            region[name][index] += n
            if unit is not None and row_unit == unit_id:
                unit[name][index] += n
    return region, by_admin, unit


def first_go_live(org: OrgRegistry, unit_ids: Iterable[str]) -> str | None:
    """The earliest go-live (ISO 8601, UTC) among ``unit_ids`` (``org.go_live``: the wave's actual go-live, else
    ``HYPERCARE_GO_LIVE_AT``); None when none of them has one. The console starts a chart there when it is later
    than the window's start."""
    known = [org.go_live[unit_id] for unit_id in unit_ids if unit_id in org.go_live]
    return min(known).astimezone(UTC).isoformat() if known else None
