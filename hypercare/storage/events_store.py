"""The event table: idempotent batch writes on the stream worker's hot path, and simple reads.

``store_events`` answers, for every event_id of a batch, the Kafka position of the record that was
stored first. The caller compares it with its own record's position: equal means "this record is the
original" (e.g. reprocessed after a crash), different means "a resend of an event already seen".
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, func, select, text
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from hypercare.contract.events import Event, event_to_json_text
from hypercare.storage.db import Database
from hypercare.storage.models import StoredEvent, UTCDateTime, utcnow

Position = tuple[str, int, int]
EVENTS = cast(Table, StoredEvent.__table__)

# Bound parameters per statement: asyncpg allows 32767, SQLite >= 3.32 allows 32766.
_MAX_SELECT_PARAMS = 30_000
# The staging table of a PostgreSQL connection: created when missing, emptied at every commit.
_STAGING = "hc_events_staging"
_COLUMNS = tuple(column.name for column in EVENTS.columns)


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

    @classmethod
    def of(cls, event: Event, *, src_topic: str, src_partition: int, src_offset: int) -> EventRow:
        """The row of a validated event read at a position (a source record, or a tool's own numbering)."""
        return cls(
            event_id=event.event_id,
            type=event.type,
            family=event.family,
            unit_id=event.unit_id,
            occurred_at=event.occurred_at,
            source=event.source,
            payload=event_to_json_text(event),
            src_topic=src_topic,
            src_partition=src_partition,
            src_offset=src_offset,
        )


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


_UTC = UTCDateTime()


def _bindable(value: datetime, dialect: Dialect) -> datetime | str:
    """The model's own check and conversion (aware only, UTC), then SQLite's stored text form.

    On SQLite the text is SQLAlchemy's own ``DateTime`` format, so comparisons with the model's bound
    values stay right.
    """
    # A validated event's times are UTC already (the contract converts them); anything else takes the model's way.
    utc = value if value.tzinfo is UTC else _UTC.process_bind_param(value, dialect)
    assert utc is not None
    return utc.strftime("%Y-%m-%d %H:%M:%S.%f") if dialect.name == "sqlite" else utc


def _tuples(rows: Sequence[EventRow], dialect: Dialect) -> list[tuple[Any, ...]]:
    """Each row in ``_COLUMNS`` order, in the form the database stores (no per-row type processing)."""
    stored_at = _bindable(utcnow(), dialect)
    return [
        (
            row.event_id,
            row.type,
            row.family,
            row.unit_id,
            _bindable(row.occurred_at, dialect),
            stored_at,
            row.source,
            row.payload,
            row.src_topic,
            row.src_partition,
            row.src_offset,
        )
        for row in rows
    ]


def _position(value: tuple[Any, ...]) -> Position:
    """Where the row in ``_COLUMNS`` order was read: its (src_topic, src_partition, src_offset)."""
    return value[8], value[9], value[10]


_PG_STAGING = text(
    f"CREATE TEMPORARY TABLE IF NOT EXISTS {_STAGING} (LIKE {EVENTS.name} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
)
_PG_MOVE = (
    f"INSERT INTO {EVENTS.name} ({', '.join(_COLUMNS)}) SELECT {', '.join(_COLUMNS)} FROM {_STAGING} "
    "ON CONFLICT (event_id) DO NOTHING RETURNING event_id"
)
_SQLITE_INSERT = (
    f"INSERT INTO {EVENTS.name} ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' for _ in _COLUMNS)}) "
    "ON CONFLICT (event_id) DO NOTHING"
)


async def _copy_postgresql(connection: AsyncConnection, values: list[tuple[Any, ...]]) -> dict[str, Position]:
    """COPY into the connection's staging table, then one INSERT … SELECT that skips ids already stored.

    Binary COPY skips the per-row parse, plan and parameter round of an INSERT: the event store's cost
    on the worker's hot path (issue 12). The staging table lives in the transaction's connection and is
    emptied at commit (and by a rollback), so a failed attempt leaves nothing behind.
    """
    # In the attempt's own transaction, every time: the first statement through SQLAlchemy begins the transaction
    # (a COPY sent to the driver before it would run on its own and be emptied at its commit), and behind a pooler
    # in transaction mode the next transaction may be on another server connection that lacks the table.
    await connection.execute(_PG_STAGING)
    raw = await connection.get_raw_connection()
    driver: Any = raw.driver_connection
    statement = f"COPY {_STAGING}"
    try:
        await driver.copy_records_to_table(_STAGING, records=values, columns=_COLUMNS)
        # Through the driver too: SQLAlchemy's result rows cost more than the insert's own work here. A returned
        # id was stored by this batch, so its position is the row's own.
        statement = _PG_MOVE
        inserted = {record[0] for record in await driver.fetch(_PG_MOVE)}
    except Exception as error:
        # The same wrapper (and hidden parameters) as every statement that goes through SQLAlchemy, so the
        # sink classifies and describes it alike; a driver's message never carries the copied values.
        raise DBAPIError.instance(
            statement, None, error, Exception, hide_parameters=True, dialect=connection.dialect
        ) from error
    return {value[0]: _position(value) for value in values if value[0] in inserted}


async def _executemany_sqlite(connection: AsyncConnection, values: list[tuple[Any, ...]]) -> dict[str, Position]:
    """One ``executemany`` (sqlite3 loops in C over one prepared statement).

    sqlite3 sums the rows inserted over the whole ``executemany``: when every row went in, each position is
    the row's own; otherwise none is returned and the caller reads them all back.
    """
    inserted = (await connection.exec_driver_sql(_SQLITE_INSERT, values)).rowcount
    if inserted != len(values):
        return {}
    return {value[0]: _position(value) for value in values}


async def store_events(db: Database, *, rows: Sequence[EventRow]) -> dict[str, Position]:
    """Insert new events (first occurrence of an id wins), return event_id → stored (topic, partition, offset).

    One transaction per call: the whole batch is stored or nothing (the worker's sink narrows down a row
    the database refuses by splitting the batch, ``streams.sink``).
    """
    first: dict[str, EventRow] = {}
    for row in rows:
        first.setdefault(row.event_id, row)
    if not first:
        return {}
    if db.dialect == "postgresql":
        bulk = _copy_postgresql
    elif db.dialect == "sqlite":
        bulk = _executemany_sqlite
    else:
        raise NotImplementedError(f"unsupported database dialect {db.dialect!r}")
    values = _tuples(list(first.values()), db.engine.dialect)
    table = EVENTS
    position_columns = (table.c.event_id, table.c.src_topic, table.c.src_partition, table.c.src_offset)
    async with db.engine.begin() as connection:
        positions = await bulk(connection, values)
        # Ids that hit the conflict clause (or all, on SQLite): read the position of the row stored first.
        missing = [event_id for event_id in first if event_id not in positions]
        for ids in _chunks(missing, _MAX_SELECT_PARAMS):
            for event_id, topic, partition, offset in await connection.execute(
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


async def stream_payloads(
    db: Database, *, since: datetime, until: datetime, chunk: int = 1000
) -> AsyncIterator[dict[str, Any]]:
    """Every stored event (its redacted payload) with ``since <= occurred_at < until``, in event time (then
    event id), streamed from one query with a server-side cursor: ``chunk`` rows in memory at a time."""
    query = (
        select(StoredEvent.payload)
        .where(StoredEvent.occurred_at >= since, StoredEvent.occurred_at < until)
        .order_by(StoredEvent.occurred_at, StoredEvent.event_id)
        .execution_options(yield_per=chunk)
    )
    async with db.engine.connect() as connection:
        result = await connection.stream(query)
        async for rows in result.partitions():
            for (payload,) in rows:
                yield payload
