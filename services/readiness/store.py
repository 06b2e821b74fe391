"""The latest assessment of each (unit, item) as the event store stood at a moment: the readiness read side.

Only ``readiness.assessed`` events with ``occurred_at <= at`` count, so the same call gives the same answer
later (a go/no-go decision is stamped with it). Of several assessments of one item the latest in event time
wins; at the same moment the one stored last (then the greater event id).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from hypercare.storage.db import Database
from hypercare.storage.models import StoredEvent

EVENT_TYPE = "readiness.assessed"
# Up to this many units are asked for by id; more (a whole wave of a thousand) read the type's events at once.
_UNITS_BY_ID = 500


@dataclass(frozen=True)
class Assessment:
    value: bool | float
    assessed_at: datetime
    assessor: str
    evidence: str


Assessments = dict[str, dict[str, Assessment]]


def latest(rows: Iterable[tuple[str, datetime, dict[str, Any]]]) -> Assessments:
    """Unit -> item -> its latest assessment, from stored (unit_id, occurred_at, payload) rows (a later row of the
    same unit and item wins; :func:`assessments_at` hands over one each).

    The payloads were judged by the contract when they were accepted; reading their four fields directly, rather
    than through :func:`hypercare.contract.events.stored_event`, halves the whole region's read (0.3 s of 0.6 s
    for 9,252 assessments in ``benchmarks/readiness.py``). Defaults are the contract's (``evidence`` "")."""
    found: Assessments = {}
    for unit_id, occurred_at, payload in rows:
        found.setdefault(unit_id, {})[payload["item"]] = Assessment(
            value=payload["value"],
            assessed_at=occurred_at,
            assessor=payload.get("assessor", ""),
            evidence=payload.get("evidence", ""),
        )
    return found


async def assessments_at(db: Database, *, at: datetime, unit_ids: Collection[str] | None = None) -> Assessments:
    """The latest assessment per (unit, item) at ``at`` (of ``unit_ids`` when given).

    The database ranks each (unit, item)'s assessments and hands back only the newest, so what is decoded here
    stays one row per unit and item however often a sheet is imported again."""
    newest_first = (StoredEvent.occurred_at.desc(), StoredEvent.stored_at.desc(), StoredEvent.event_id.desc())
    rank = func.row_number().over(
        partition_by=(StoredEvent.unit_id, StoredEvent.payload["item"].as_string()), order_by=newest_first
    )
    ranked = select(StoredEvent.unit_id, StoredEvent.occurred_at, StoredEvent.payload, rank.label("rank")).where(
        StoredEvent.type == EVENT_TYPE, StoredEvent.occurred_at <= at
    )
    if unit_ids is not None and len(unit_ids) <= _UNITS_BY_ID:
        ranked = ranked.where(StoredEvent.unit_id.in_(list(unit_ids)))
    newest = ranked.subquery()
    query = select(newest.c.unit_id, newest.c.occurred_at, newest.c.payload).where(newest.c.rank == 1)
    async with db.sessions() as session:
        found = latest(
            (unit_id, occurred_at, payload) for unit_id, occurred_at, payload in await session.execute(query)
        )
    if unit_ids is not None:
        wanted = set(unit_ids)
        found = {unit_id: items for unit_id, items in found.items() if unit_id in wanted}
    return found
