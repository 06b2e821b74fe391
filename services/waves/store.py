"""The event store's counts behind the wave comparison: per unit and bucket, aligned on the wave's go-live."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import and_, case, func, select

from hypercare.org.registry import OrgRegistry
from hypercare.storage.db import Database
from hypercare.storage.models import StoredEvent
from hypercare.waves.compare import Counted, Span, bucket_size, span_end
from services.console_api.sql import count_where, epoch_seconds, payload_int, payload_text

COUNTED_TYPES = ("ticket.opened", "access.login", "access.permission_denied", "floorwalker.checkin")


async def counted_since_go_live(
    db: Database, org: OrgRegistry, *, wave_ids: Sequence[str], span: Span, at: datetime, units: Collection[str] | None
) -> list[Counted]:
    """Each wave's events from its actual go-live to the end of the span (or ``at``), counted in SQL per unit and
    bucket (each stored event once): one :class:`Counted` per unit, bucket and measure, at the bucket's start."""
    size = bucket_size(span)
    seconds = int(size.total_seconds())
    found: list[Counted] = []
    for wave_id in wave_ids:
        go_live = org.waves_by_id[wave_id].actual_go_live
        members = [u for u in org.wave_units.get(wave_id, []) if units is None or u in units]
        if go_live is None or go_live > at or not members:
            continue
        origin = int(go_live.timestamp())
        since_origin = epoch_seconds(db.dialect) - origin
        bucket = (since_origin - since_origin % seconds).label("bucket")
        kind = StoredEvent.type
        query = (
            select(
                StoredEvent.unit_id,
                bucket,
                count_where(kind == "ticket.opened", "tickets"),
                count_where(kind == "access.login", "logins"),
                count_where(and_(kind == "access.login", payload_text("outcome") == "failure"), "login_failures"),
                count_where(kind == "access.permission_denied", "permission_denials"),
                func.coalesce(
                    func.sum(case((kind == "floorwalker.checkin", payload_int("assists")), else_=0)), 0
                ).label("assists"),
            )
            .where(
                StoredEvent.type.in_(COUNTED_TYPES),
                StoredEvent.unit_id.in_(members),
                StoredEvent.occurred_at >= go_live,
                StoredEvent.occurred_at < min(span_end(go_live, span), at),
            )
            .group_by(StoredEvent.unit_id, bucket)
        )
        async with db.sessions() as session:
            rows = (await session.execute(query)).all()
        for row in rows:
            start = go_live + size * (int(row.bucket) // seconds)
            for measure in ("tickets", "logins", "login_failures", "permission_denials", "assists"):
                n = int(getattr(row, measure) or 0)
                if n:
                    found.append(Counted(row.unit_id, start, measure, n))
    return found
