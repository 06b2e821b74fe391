"""The outage-surviving buffered writer shared by the audit log and the ingest quarantine: rows written at once
when the database answers, kept in order through an outage and written by the background task when it is back,
a refused row dropped alone, the oldest dropped past the bounds, and every loss reported."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from hypercare.storage.buffered_writer import BufferedWriter


class Refused(ValueError):
    """Neither transient nor a database error: the data is refused (classify: not transient)."""


class Table:
    """A stand-in table: down (ConnectionRefusedError, transient) or up; refuses rows named 'bad' (permanent)."""

    def __init__(self) -> None:
        self.down = False
        self.rows: list[str] = []
        self.attempts = 0

    async def write(self, _db: Any, rows: Sequence[str]) -> None:
        self.attempts += 1
        if self.down:
            raise ConnectionRefusedError("database down")
        if "bad" in rows:
            raise Refused("a row the table refuses")
        self.rows.extend(rows)


def writer(table: Table, **options: Any) -> tuple[BufferedWriter[str], list[tuple[int, str]], list[int]]:
    lost: list[tuple[int, str]] = []
    gauge: list[int] = []
    made: BufferedWriter[str] = BufferedWriter(
        None,  # type: ignore[arg-type]  # the stand-in table takes no database
        table.write,
        name="test table",
        on_lost=lambda count, why: lost.append((count, why)),
        on_pending=gauge.append,
        **{"max_rows": 100, "retry_initial": 0.01, **options},
    )
    return made, lost, gauge


async def test_rows_are_written_at_once_and_wait_in_order_through_an_outage() -> None:
    table = Table()
    sink, lost, gauge = writer(table)
    assert await sink.store(["a", "b"]) and table.rows == ["a", "b"]
    table.down = True
    assert not await sink.store(["c"])
    attempts = table.attempts
    table.down = False
    assert not await sink.store(["d"])  # queued behind "c" without trying the database
    assert table.attempts == attempts and sink.pending == 2 and gauge[-1] == 2
    assert await sink.flush()
    assert table.rows == ["a", "b", "c", "d"] and sink.pending == 0 and gauge[-1] == 0 and lost == []


async def test_a_refused_row_is_dropped_alone_and_reported() -> None:
    table = Table()
    sink, lost, _ = writer(table)
    assert not await sink.store(["x", "bad", "y"])
    assert table.rows == ["x", "y"]
    assert lost == [(1, "refused by the database (Refused)")]
    sink.hold(["p", "bad", "q"])  # the same from the queue
    assert await sink.flush()
    assert table.rows == ["x", "y", "p", "q"] and lost[-1][0] == 1 and sink.pending == 0


async def test_the_oldest_rows_go_past_the_bounds_of_rows_and_size() -> None:
    sink, lost, _ = writer(Table(), max_rows=3)
    sink.hold(["1", "2", "3", "4"])
    assert sink.pending == 3 and lost == [(1, "over the bound of rows waiting for the database")]
    sized, lost_by_size, _ = writer(Table(), max_size=10, size_of=len)
    sized.hold(["aaaa", "bbbb", "cccc"])  # 12 characters: the oldest goes
    assert sized.pending == 2 and lost_by_size == [(1, "over the bound of rows waiting for the database")]


async def test_the_background_task_writes_when_the_database_returns_and_stop_reports_what_waits() -> None:
    table = Table()
    table.down = True
    sink, lost, _ = writer(table, flush_interval=0.01)
    await sink.start()
    try:
        sink.hold(["later"])
        await asyncio.sleep(0.05)
        assert table.rows == [] and table.attempts >= 2  # retried with backoff
        table.down = False
        for _ in range(200):
            if table.rows:
                break
            await asyncio.sleep(0.01)
        assert table.rows == ["later"] and sink.pending == 0
        table.down = True
        sink.hold(["never"])
    finally:
        await sink.stop()
    assert lost == [(1, "still waiting for the database at shutdown")] and sink.pending == 0
