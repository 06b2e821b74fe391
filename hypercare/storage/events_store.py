"""The event table: idempotent batch writes on the stream worker's hot path, and simple reads.

``store_events`` answers, for every event_id of a batch, the Kafka position of the record that was
stored first. The caller compares it with its own record's position: equal means "this record is the
original" (e.g. reprocessed after a crash), different means "a resend of an event already seen".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Column, DateTime, MetaData, String, Table, Text, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from hypercare.storage.db import Database
from hypercare.storage.models import StoredEvent, UTCDateTime, utcnow

Position = tuple[str, int, int]
EVENTS = cast(Table, StoredEvent.__table__)

# Bound parameters per statement: asyncpg allows 32767, SQLite >= 3.32 allows 32766. The insert is
# split by SQLAlchemy itself (``insertmanyvalues_max_parameters``); the look-up below by us.
_MAX_SELECT_PARAMS = 30_000


@dataclass(frozen=True, slots=True)
class EventRow:
    event_id: str
    type: str
    family: str
    unit_id: str
    occurred_at: datetime  # timezone-aware
    source: str | None
    payload: str  # the redacted event as JSON text (``event_to_json_text``)
    src_topic: str
    src_partition: int
    src_offset: int


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


class _JSONBText(TypeDecorator[str]):
    """A JSONB parameter bound from JSON text as it is (asyncpg's jsonb codec takes text)."""

    impl = postgresql.JSONB
    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> None:
        return None


def _plain_events_table(dialect: str) -> Table:
    """The events table with column types that leave values as they are, for the worker's inserts.

    The model's types convert every value of every row (aware → naive UTC text on SQLite, dict →
    JSON), which cost a third of the worker's sink. :func:`store_events` prepares the values once
    in the form each database stores: JSON text, and on SQLite naive UTC text in SQLAlchemy's own
    ``DateTime`` format (so comparisons with the model's bound values stay right).
    """
    moment: Any = String() if dialect == "sqlite" else DateTime(timezone=True)
    json_text: Any = Text() if dialect == "sqlite" else _JSONBText()

    def plain(column: Column[Any]) -> Any:
        if isinstance(column.type, UTCDateTime):
            return moment
        return json_text if column.name == "payload" else column.type

    return Table(
        EVENTS.name,
        MetaData(),
        *(Column(column.name, plain(column), primary_key=column.primary_key) for column in EVENTS.columns),
    )


def _insert_statement(dialect: str) -> Any:
    table = _plain_events_table(dialect)
    insert = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    position_columns = (table.c.event_id, table.c.src_topic, table.c.src_partition, table.c.src_offset)
    return insert.on_conflict_do_nothing(index_elements=["event_id"]).returning(*position_columns)


_INSERTS = {dialect: _insert_statement(dialect) for dialect in ("postgresql", "sqlite")}
_UTC = UTCDateTime()


def _bindable(value: datetime, dialect: Dialect) -> datetime | str:
    """The model's own check and conversion (aware only, UTC), then SQLite's stored text form."""
    utc = _UTC.process_bind_param(value, dialect)
    assert utc is not None
    return utc.strftime("%Y-%m-%d %H:%M:%S.%f") if dialect.name == "sqlite" else utc


async def store_events(db: Database, *, rows: Sequence[EventRow]) -> dict[str, Position]:
    """Insert new events (first occurrence of an id wins), return event_id → stored (topic, partition, offset)."""
    first: dict[str, EventRow] = {}
    for row in rows:
        first.setdefault(row.event_id, row)
    if not first:
        return {}
    statement = _INSERTS.get(db.dialect)
    if statement is None:
        raise NotImplementedError(f"unsupported database dialect {db.dialect!r}")
    dialect = db.engine.dialect
    stored_at = _bindable(utcnow(), dialect)
    values = [
        {
            "event_id": row.event_id,
            "type": row.type,
            "family": row.family,
            "unit_id": row.unit_id,
            "occurred_at": _bindable(row.occurred_at, dialect),
            "stored_at": stored_at,
            "source": row.source,
            "payload": row.payload,
            "src_topic": row.src_topic,
            "src_partition": row.src_partition,
            "src_offset": row.src_offset,
        }
        for row in first.values()
    ]
    table = EVENTS
    position_columns = (table.c.event_id, table.c.src_topic, table.c.src_partition, table.c.src_offset)
    positions: dict[str, Position] = {}
    async with db.sessions.begin() as session:
        # A list of parameter sets with RETURNING goes through SQLAlchemy's "insertmanyvalues": one
        # multi-row INSERT per page (split to respect the driver's parameter limit) from a cached compile.
        for event_id, topic, partition, offset in await session.execute(statement, values):
            positions[event_id] = (topic, partition, offset)
        # Ids that hit the conflict clause: read the position of the row stored earlier.
        conflicting = [event_id for event_id in first if event_id not in positions]
        for ids in _chunks(conflicting, _MAX_SELECT_PARAMS):
            for event_id, topic, partition, offset in await session.execute(
                select(*position_columns).where(table.c.event_id.in_(ids))
            ):
                positions[event_id] = (topic, partition, offset)
    return positions


async def count_events(db: Database, *, unit_id: str | None = None, type: str | None = None) -> int:  # noqa: A002
    query = select(func.count()).select_from(StoredEvent)
    if unit_id is not None:
        query = query.where(StoredEvent.unit_id == unit_id)
    if type is not None:
        query = query.where(StoredEvent.type == type)
    async with db.sessions() as session:
        return int((await session.execute(query)).scalar_one())


async def get_event(db: Database, *, event_id: str) -> dict[str, Any] | None:
    """The stored event as JSON-ready data: the redacted ``payload`` plus where and when it was stored."""
    async with db.sessions() as session:
        stored = await session.get(StoredEvent, event_id)
    if stored is None:
        return None
    return {
        "event_id": stored.event_id,
        "type": stored.type,
        "family": stored.family,
        "unit_id": stored.unit_id,
        "occurred_at": stored.occurred_at.isoformat(),
        "stored_at": stored.stored_at.isoformat(),
        "source": stored.source,
        "payload": stored.payload,
        "src_topic": stored.src_topic,
        "src_partition": stored.src_partition,
        "src_offset": stored.src_offset,
    }


async def events_of_types(
    db: Database,
    *,
    types: Sequence[str],
    since: datetime | None = None,
    until: datetime | None = None,
    newest_first: bool = False,
    limit: int = 20_000,
) -> list[StoredEvent]:
    """Stored events of ``types`` with ``since <= occurred_at < until``, in event time."""
    query = select(StoredEvent).where(StoredEvent.type.in_(types))
    if since is not None:
        query = query.where(StoredEvent.occurred_at >= since)
    if until is not None:
        query = query.where(StoredEvent.occurred_at < until)
    order = StoredEvent.occurred_at.desc() if newest_first else StoredEvent.occurred_at
    query = query.order_by(order, StoredEvent.stored_at, StoredEvent.event_id).limit(limit)
    async with db.sessions() as session:
        return list((await session.scalars(query)).all())
