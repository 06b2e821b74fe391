"""events_store against real PostgreSQL and a SQLite file: idempotency and stored positions."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from pg_databases import fresh_pg_database
from sqlalchemy import event, select
from sqlalchemy.exc import DBAPIError

from hypercare.storage.db import Database
from hypercare.storage.errors import classify, describe
from hypercare.storage.events_store import EventRow, count_events, get_event, store_events
from hypercare.storage.models import StoredEvent

T0 = datetime(2024, 11, 12, 5, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    """A database of this module's own: it stores bare rows, not whole events, which readers elsewhere parse."""
    with fresh_pg_database("hc_store") as url:
        yield url


def new_id() -> str:
    return f"ev-{uuid.uuid4().hex}"


def row(event_id: str, offset: int, *, unit_id: str = "U1", partition: int = 0, **changes: Any) -> EventRow:
    values: dict[str, Any] = {
        "event_id": event_id,
        "type": "ticket.opened",
        "family": "tickets",
        "unit_id": unit_id,
        "occurred_at": T0,
        "source": "serviceportal",
        "payload": json.dumps({"event_id": event_id, "type": "ticket.opened", "summary": f"offset {offset}"}),
        "src_topic": "hc.tickets",
        "src_partition": partition,
        "src_offset": offset,
    }
    values.update(changes)
    return EventRow(**values)


async def test_new_events_return_their_own_positions(db: Database) -> None:
    rows = [row(new_id(), offset, partition=offset % 3) for offset in range(5)]
    stored = await store_events(db, rows=rows)
    assert stored == {r.event_id: ("hc.tickets", r.src_partition, r.src_offset) for r in rows}


async def test_resend_returns_the_original_position_and_keeps_the_original_row(db: Database) -> None:
    event_id = new_id()
    original = row(event_id, 10, partition=1)
    assert await store_events(db, rows=[original]) == {event_id: ("hc.tickets", 1, 10)}

    resend = row(event_id, 99, partition=2, payload=json.dumps({"summary": "resent"}))
    fresh = row(new_id(), 100)
    stored = await store_events(db, rows=[resend, fresh])
    assert stored[event_id] == ("hc.tickets", 1, 10)
    assert stored[fresh.event_id] == ("hc.tickets", 0, 100)

    # Reprocessing the original record after a crash: same position, so the caller applies it.
    assert await store_events(db, rows=[original]) == {event_id: ("hc.tickets", 1, 10)}
    kept = await get_event(db, event_id=event_id)
    assert kept is not None and kept["payload"]["summary"] == "offset 10"


async def test_a_duplicate_inside_one_batch_keeps_the_first(db: Database) -> None:
    event_id = new_id()
    first, second = row(event_id, 5), row(event_id, 6, payload=json.dumps({"summary": "second"}))
    stored = await store_events(db, rows=[first, row(new_id(), 7), second])
    assert stored[event_id] == ("hc.tickets", 0, 5)
    async with db.sessions() as session:
        rows = (await session.scalars(select(StoredEvent).where(StoredEvent.event_id == event_id))).all()
    assert [(r.src_offset, r.payload["summary"]) for r in rows] == [(5, "offset 5")]


async def test_a_batch_of_2000_is_one_insert_statement(db: Database) -> None:
    unit = f"unit-{uuid.uuid4().hex[:8]}"
    rows = [row(new_id(), offset, unit_id=unit) for offset in range(2000)]
    inserts: list[str] = []
    drivers: list[Any] = []

    def record(statement: str) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO EVENTS"):
            inserts.append(statement)

    def through_sqlalchemy(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if db.dialect == "sqlite":
            record(statement)

    def through_the_driver(logged: Any) -> None:  # PostgreSQL: the store moves the COPY's rows through asyncpg
        record(logged.query)

    def watch(dbapi_connection: Any, *args: Any) -> None:
        if db.dialect == "postgresql":
            drivers.append(dbapi_connection.driver_connection)
            drivers[-1].add_query_logger(through_the_driver)

    event.listen(db.engine.sync_engine, "before_cursor_execute", through_sqlalchemy)
    event.listen(db.engine.sync_engine.pool, "checkout", watch)
    try:
        stored = await store_events(db, rows=rows)
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", through_sqlalchemy)
        event.remove(db.engine.sync_engine.pool, "checkout", watch)
        for driver in drivers:
            driver.remove_query_logger(through_the_driver)
    assert len(stored) == 2000
    assert len(inserts) == 1
    assert await count_events(db, unit_id=unit) == 2000
    # Half of them again plus new ones: the old half keeps the old positions.
    again = [row(r.event_id, r.src_offset + 5000, unit_id=unit) for r in rows[:1000]]
    more = [row(new_id(), 9000 + i, unit_id=unit) for i in range(1000)]
    stored = await store_events(db, rows=again + more)
    assert all(stored[r.event_id][2] == r.src_offset for r in rows[:1000])
    assert all(stored[r.event_id][2] == r.src_offset for r in more)
    assert await count_events(db, unit_id=unit) == 3000


async def test_concurrent_writers_of_one_event_agree_on_the_first(db: Database) -> None:
    ids = [new_id() for _ in range(50)]
    a = [row(event_id, i) for i, event_id in enumerate(ids)]
    b = [row(event_id, 1000 + i, partition=3) for i, event_id in enumerate(ids)]
    first, second = await asyncio.gather(store_events(db, rows=a), store_events(db, rows=b))
    assert first == second
    assert set(first.values()) in (
        {("hc.tickets", 0, i) for i in range(50)},
        {("hc.tickets", 3, 1000 + i) for i in range(50)},
    )


async def test_get_event_returns_payload_and_stored_fields_in_utc(db: Database) -> None:
    event_id = new_id()
    stockholm = timezone(timedelta(hours=1))
    occurred = datetime(2024, 11, 12, 6, 30, 15, 123456, tzinfo=stockholm)
    before = datetime.now(UTC)
    await store_events(db, rows=[row(event_id, 42, occurred_at=occurred, source=None)])
    stored = await get_event(db, event_id=event_id)
    assert stored is not None
    json.dumps(stored)  # JSON-ready
    assert stored["payload"] == {"event_id": event_id, "type": "ticket.opened", "summary": "offset 42"}
    assert datetime.fromisoformat(stored["occurred_at"]) == occurred
    assert stored["occurred_at"] == "2024-11-12T05:30:15.123456+00:00"
    assert datetime.fromisoformat(stored["stored_at"]) >= before - timedelta(seconds=1)
    assert stored["source"] is None
    assert (stored["src_topic"], stored["src_partition"], stored["src_offset"]) == ("hc.tickets", 0, 42)
    assert (stored["type"], stored["family"], stored["unit_id"]) == ("ticket.opened", "tickets", "U1")
    async with db.sessions() as session:
        model = await session.get(StoredEvent, event_id)
    assert model is not None and model.occurred_at.tzinfo is not None
    assert model.occurred_at.utcoffset() == timedelta(0)


async def test_count_events_filters_by_unit_and_type(db: Database) -> None:
    unit = f"unit-{uuid.uuid4().hex[:8]}"
    await store_events(
        db,
        rows=[
            row(new_id(), 1, unit_id=unit),
            row(new_id(), 2, unit_id=unit, type="access.login", family="access"),
            row(new_id(), 3, unit_id=unit, type="access.login", family="access"),
        ],
    )
    assert await count_events(db, unit_id=unit) == 3
    assert await count_events(db, unit_id=unit, type="access.login") == 2
    assert await count_events(db, unit_id=unit, type="ed.status") == 0
    assert await count_events(db) >= 3


async def test_edge_cases(db: Database) -> None:
    assert await store_events(db, rows=[]) == {}
    assert await get_event(db, event_id=new_id()) is None
    with pytest.raises(ValueError, match="naive datetime"):
        await store_events(db, rows=[row(new_id(), 1, occurred_at=datetime(2024, 11, 12, 5, 30))])


async def test_a_refused_batch_leaves_nothing_behind_and_the_next_batch_is_stored_whole(db: Database) -> None:
    """PostgreSQL's COPY goes through a staging table per connection: a batch the database refuses must not
    leave rows there for the next batch, and the next batch on the same connection is stored in full."""
    unit = f"unit-{uuid.uuid4().hex[:8]}"
    refused = [row(new_id(), 1, unit_id=unit), row("x" * 65, 2, unit_id=unit)]  # event_id is VARCHAR(64)
    if db.dialect == "postgresql":
        with pytest.raises(DBAPIError) as caught:
            await store_events(db, rows=refused)
        assert classify(caught.value) == "permanent"
        assert describe(caught.value, message=False).endswith("[22001]")  # string data right truncation
        assert await count_events(db, unit_id=unit) == 0
    good = [row(new_id(), 10 + i, unit_id=unit) for i in range(3)]
    for _ in range(3):  # the pool hands the same connection out again: its staging table is empty
        stored = await store_events(db, rows=good)
        assert stored == {r.event_id: ("hc.tickets", 0, r.src_offset) for r in good}
    assert await count_events(db, unit_id=unit) == 3


async def test_text_the_database_refuses_in_any_column_is_permanent(db: Database) -> None:
    """A NUL in a plain text column (not only in the JSON payload) is refused by PostgreSQL's COPY."""
    if db.dialect != "postgresql":
        pytest.skip("SQLite keeps a NUL")
    with pytest.raises(DBAPIError) as caught:
        await store_events(db, rows=[row(new_id(), 1, source="nul \u0000 191212-1212")])
    assert classify(caught.value) == "permanent"
    assert "191212-1212" not in str(caught.value) and "191212-1212" not in describe(caught.value)
