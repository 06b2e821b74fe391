"""The worker's event sink: outages waited out, refused records narrowed down and returned, nothing retried forever.

The pure behaviour runs on a scripted store; the classification runs on the real databases: a NUL character
is refused by PostgreSQL (permanent), a database that does not answer is an outage (transient).
"""

from __future__ import annotations

import json
import socket
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.exc import DBAPIError, OperationalError

from hypercare.storage.db import Database
from hypercare.storage.errors import classify, describe
from hypercare.storage.events_store import EventRow, Position, store_events
from streams.sink import Backoff, EventSink

# Stored rows stay in the session's shared PostgreSQL database, where other tests read events back: whole,
# valid events, on a day and a unit no other test reads.
T0 = datetime(2001, 2, 3, 4, 5, tzinfo=UTC)
UNIT = "SE2321000131-SINKTEST"


def row(index: int, event_id: str | None = None, summary: str | None = None) -> EventRow:
    """A login as stored; with ``summary``, a ticket whose summary carries it (for a poisoned row)."""
    event_id = event_id or f"ev-{index}"
    payload: dict[str, object] = {
        "event_id": event_id,
        "type": "access.login",
        "occurred_at": T0.isoformat(),
        "unit_id": UNIT,
        "source": "test",
        "user_ref": "sink-test",
        "outcome": "success",
    }
    if summary is not None:
        payload |= {"type": "ticket.opened", "ticket_id": f"SINK-{index}", "channel": "phone", "category": "other",
                    "priority": 4, "summary": summary}  # fmt: skip
        del payload["user_ref"], payload["outcome"]
    return EventRow(
        event_id=event_id,
        type=str(payload["type"]),
        family="tickets" if summary is not None else "access",
        unit_id=UNIT,
        occurred_at=T0,
        source="test",
        payload=json.dumps(payload),
        src_topic="t",
        src_partition=0,
        src_offset=index,
    )


class Refusal(Exception):
    """Stands for the database refusing data (SQLSTATE 22P05, as PostgreSQL says of a NUL in text)."""

    sqlstate = "22P05"


class ScriptedStore:
    """First record of an event_id wins; refuses a batch holding a poisoned row; fails ``outages`` times first."""

    def __init__(self, poisoned: set[int], outages: int = 0) -> None:
        self.poisoned = poisoned
        self.outages = outages
        self.stored: dict[str, Position] = {}
        self.calls = 0

    async def __call__(self, rows: Sequence[EventRow]) -> dict[str, Position]:
        self.calls += 1
        if self.outages:
            self.outages -= 1
            raise ConnectionRefusedError("connection refused")
        if any(r.src_offset in self.poisoned for r in rows):
            raise Refusal("poison")
        for r in rows:
            self.stored.setdefault(r.event_id, (r.src_topic, r.src_partition, r.src_offset))
        return {r.event_id: self.stored[r.event_id] for r in rows}


async def no_sleep(_seconds: float) -> None:
    return None


@given(
    size=st.integers(1, 60),
    poisoned=st.sets(st.integers(0, 59), max_size=8),
    repeats=st.lists(st.tuples(st.integers(0, 59), st.integers(0, 59)), max_size=5),
)
async def test_refused_rows_are_isolated_and_every_other_row_is_stored_first_wins(
    size: int, poisoned: set[int], repeats: list[tuple[int, int]]
) -> None:
    ids = [f"ev-{i}" for i in range(size)]
    for source, target in repeats:  # a resend: a later row carries an earlier row's event_id
        if source < target < size:
            ids[target] = ids[source]
    rows = [row(i, ids[i]) for i in range(size)]
    store = ScriptedStore({p for p in poisoned if p < size})
    stored = await EventSink(store, sleep=no_sleep)(rows)

    assert set(stored.refused) == store.poisoned
    assert all("22P05" in reason for reason in stored.refused.values())
    first_good: dict[str, int] = {}
    for i in range(size):
        if i not in store.poisoned:
            first_good.setdefault(ids[i], i)
    assert {event_id: position[2] for event_id, position in stored.positions.items()} == first_good


async def test_an_outage_is_waited_out_and_reported_while_it_lasts() -> None:
    now = [0.0]

    async def sleep(seconds: float) -> None:
        now[0] += seconds

    waited: list[float] = []
    store = ScriptedStore(set(), outages=3)
    sink = EventSink(store, sleep=sleep, clock=lambda: now[0], on_stuck=waited.append)
    stored = await sink([row(0), row(1)])
    assert set(stored.positions) == {"ev-0", "ev-1"} and not stored.refused
    assert store.calls == 4
    assert waited == pytest.approx([0.0, 0.2, 0.6, 0.0])  # backoff 0.2, 0.4, …; then no longer stuck


async def test_an_error_of_unknown_kind_is_tried_a_few_times_then_the_record_is_refused() -> None:
    calls = 0

    async def broken(rows: Sequence[EventRow]) -> dict[str, Position]:
        nonlocal calls
        calls += 1
        raise RuntimeError("something odd")

    stored = await EventSink(broken, sleep=no_sleep, backoff=Backoff(unknown_attempts=3))([row(0), row(1)])
    assert set(stored.refused) == {0, 1}
    assert calls == 3 + 1 + 1  # the whole batch three times, then each half once


async def test_what_postgresql_refuses_is_permanent_and_described_without_parameters(db: Database) -> None:
    poison = row(0, f"ev-{uuid.uuid4().hex}", summary="nul \u0000 191212-1212")
    if db.dialect != "postgresql":
        await store_events(db, rows=[poison])  # SQLite keeps a NUL: nothing to refuse there
        return
    with pytest.raises(DBAPIError) as caught:
        await store_events(db, rows=[poison])
    assert classify(caught.value) == "permanent"
    assert "191212-1212" not in str(caught.value) and "nul" not in str(caught.value)  # hide_parameters
    assert describe(caught.value, message=False).endswith("[22P05]")
    stored = await EventSink(lambda rows: store_events(db, rows=rows), sleep=no_sleep)(
        [row(1, f"ev-{uuid.uuid4().hex}"), poison, row(2, f"ev-{uuid.uuid4().hex}")]
    )
    assert list(stored.refused) == [1] and len(stored.positions) == 2


async def test_a_database_that_does_not_answer_is_an_outage() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens here once the socket closes
    db = Database.from_url(f"postgresql+asyncpg://postgres@127.0.0.1:{port}/nowhere")
    try:
        with pytest.raises((OperationalError, OSError)) as caught:
            await store_events(db, rows=[row(0)])
        assert classify(caught.value) == "transient"
    finally:
        await db.close()
