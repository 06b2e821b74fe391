"""``GET /api/v1/trends``: tickets opened and resolved, logins and login failures per time bucket.

Counted in SQL over the ``events`` table (each stored event once, so resends never count twice),
grouped by unit and bucket; units are then summed into their administration with the org registry
(unknown units under "unmapped") and into the region.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status
from sqlalchemy import and_, select

from hypercare.org.registry import UNMAPPED_ID, UNMAPPED_NAME, OrgRegistry
from hypercare.storage.db import Database
from hypercare.storage.models import StoredEvent
from services.auth.dependencies import Reader
from services.console_api.sql import count_where, epoch_seconds, payload_text
from services.dependencies import DatabaseDep, OrgDep

router = APIRouter(prefix="/api/v1", tags=["console"])

SERIES = ("tickets_opened", "tickets_resolved", "logins", "login_failures")
MAX_BUCKETS = 1000


def bucket_starts(end: datetime, *, hours: float, bucket_minutes: int) -> list[datetime]:
    """Bucket starts aligned to whole multiples of the bucket length, the last one containing ``end``."""
    size = bucket_minutes * 60
    last = math.floor(end.timestamp() / size) * size
    count = max(1, math.ceil(hours * 60 / bucket_minutes))
    return [datetime.fromtimestamp(last - (count - 1 - i) * size, UTC) for i in range(count)]


async def count_by_unit_and_bucket(
    db: Database, *, start: datetime, end: datetime, bucket_seconds: int, origin: int = 0
) -> list[tuple[str, int, dict[str, int]]]:
    """``(unit_id, bucket_start_epoch, {series: n})`` for every unit and bucket with events.

    Buckets are aligned to ``origin`` (epoch seconds at or before ``start``): whole multiples of the
    bucket length for the console, the period's start for a report.
    """
    since_origin = epoch_seconds(db.dialect) - origin
    bucket = (since_origin - since_origin % bucket_seconds + origin).label("bucket")
    is_login = StoredEvent.type == "access.login"

    query = (
        select(
            StoredEvent.unit_id,
            bucket,
            count_where(StoredEvent.type == "ticket.opened", "tickets_opened"),
            count_where(StoredEvent.type == "ticket.resolved", "tickets_resolved"),
            count_where(is_login, "logins"),
            count_where(and_(is_login, payload_text("outcome") == "failure"), "login_failures"),
        )
        .where(
            StoredEvent.type.in_(("ticket.opened", "ticket.resolved", "access.login")),
            StoredEvent.occurred_at >= start,
            StoredEvent.occurred_at < end,
        )
        .group_by(StoredEvent.unit_id, bucket)
    )
    async with db.sessions() as session:
        rows = (await session.execute(query)).all()
    return [(row.unit_id, int(row.bucket), {name: int(getattr(row, name)) for name in SERIES}) for row in rows]


def _empty(count: int) -> dict[str, list[int]]:
    return {name: [0] * count for name in SERIES}


def roll_up(
    org: OrgRegistry, rows: list[tuple[str, int, dict[str, int]]], starts: list[datetime], bucket_seconds: int
) -> tuple[dict[str, list[int]], dict[str, dict[str, list[int]]]]:
    first = int(starts[0].timestamp())
    region = _empty(len(starts))
    by_admin: dict[str, dict[str, list[int]]] = {admin.id: _empty(len(starts)) for admin in org.administrations}
    for unit_id, bucket, counts in rows:
        index = (bucket - first) // bucket_seconds
        if not 0 <= index < len(starts):
            continue
        admin_id = org.place(unit_id).administration_id
        series = by_admin.setdefault(admin_id, _empty(len(starts)))
        for name, n in counts.items():
            series[name][index] += n
            region[name][index] += n
    return region, by_admin


@router.get("/trends", summary="Tickets opened/resolved, logins and login failures per bucket, per administration")
async def get_trends(
    _: Reader,
    db: DatabaseDep,
    org: OrgDep,
    hours: Annotated[float, Query(gt=0, le=168, description="how far back")] = 6,
    bucket_minutes: Annotated[int, Query(ge=1, le=1440)] = 15,
    until: Annotated[datetime | None, Query(description="end of the period (RFC 3339); default now")] = None,
) -> dict[str, Any]:
    now = datetime.now(UTC)
    if until is not None and (until.tzinfo is None or until.utcoffset() is None):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "until: give a time zone offset")
    end = until.astimezone(UTC) if until is not None else now
    if math.ceil(hours * 60 / bucket_minutes) > MAX_BUCKETS:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"more than {MAX_BUCKETS} buckets; use longer buckets"
        )
    size = bucket_minutes * 60
    starts = bucket_starts(end, hours=hours, bucket_minutes=bucket_minutes)
    rows = await count_by_unit_and_bucket(
        db, start=starts[0], end=starts[-1] + timedelta(seconds=size), bucket_seconds=size
    )
    region, by_admin = roll_up(org, rows, starts, size)
    names = {admin.id: admin.name for admin in org.administrations}
    administrations = [
        {"administration_id": admin_id, "name": names.get(admin_id, UNMAPPED_NAME), **series}
        for admin_id, series in by_admin.items()
        if admin_id in names or admin_id == UNMAPPED_ID
    ]
    return {
        "as_of": now.isoformat(),
        "from": starts[0].isoformat(),
        "to": end.isoformat(),
        "bucket_minutes": bucket_minutes,
        "buckets": [start.isoformat() for start in starts],
        "region": {"region_id": org.region.id, "name": org.region.name, **region},
        "administrations": administrations,
    }
