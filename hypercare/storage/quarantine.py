"""Quarantine: rejected ingest items and stream dead letters, kept for an admin to inspect.

Callers redact ``raw`` before it gets here; this module stores what it is given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, cast

from sqlalchemy import Table, func, insert, select

from hypercare.storage.db import Database
from hypercare.storage.models import QuarantinedItem, utcnow

# ingest: refused by the ingest API; mapping: a source's record its mapping could not translate (also at ingest);
# stream: dead-lettered by the worker.
STAGES = frozenset({"ingest", "mapping", "stream"})
QUARANTINE = cast(Table, QuarantinedItem.__table__)


@dataclass(frozen=True, slots=True)
class QuarantineRow:
    stage: str
    reason: str
    raw: str
    item_index: int | None = None
    submitted_by: str | None = None
    src_topic: str | None = None
    src_partition: int | None = None
    src_offset: int | None = None

    def __post_init__(self) -> None:
        if self.stage not in STAGES:
            raise ValueError(f"stage must be one of {sorted(STAGES)}, not {self.stage!r}")


async def add_quarantined(db: Database, *, items: Sequence[QuarantineRow]) -> None:
    """Store all items in one transaction (one multi-row INSERT), with one ``received_at``."""
    if not items:
        return
    received_at = utcnow()
    values = [{**asdict(item), "received_at": received_at} for item in items]
    async with db.sessions.begin() as session:
        await session.execute(insert(QUARANTINE), values)


def _as_dict(item: QuarantinedItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "stage": item.stage,
        "received_at": item.received_at.isoformat(),
        "reason": item.reason,
        "item_index": item.item_index,
        "raw": item.raw,
        "submitted_by": item.submitted_by,
        "src_topic": item.src_topic,
        "src_partition": item.src_partition,
        "src_offset": item.src_offset,
    }


async def list_quarantined(
    db: Database, *, stage: str | None = None, limit: int = 100, offset: int = 0
) -> list[dict[str, Any]]:
    """Newest first; items of one batch share ``received_at``, so ``id`` breaks the tie."""
    query = select(QuarantinedItem).order_by(QuarantinedItem.received_at.desc(), QuarantinedItem.id.desc())
    if stage is not None:
        query = query.where(QuarantinedItem.stage == stage)
    query = query.limit(max(0, limit)).offset(max(0, offset))
    async with db.sessions() as session:
        return [_as_dict(item) for item in (await session.scalars(query)).all()]


async def count_quarantined(db: Database, *, stage: str | None = None) -> int:
    query = select(func.count()).select_from(QuarantinedItem)
    if stage is not None:
        query = query.where(QuarantinedItem.stage == stage)
    async with db.sessions() as session:
        return int((await session.execute(query)).scalar_one())
