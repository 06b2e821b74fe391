"""Rows for a table that must outlast a database outage: a bounded, ordered buffer and a background writer.

Used where a request must not wait on (or fail with) the database, and a row lost silently is not acceptable:
the audit log (:mod:`services.audit.service`) and the ingest quarantine (:mod:`services.ingest.quarantine_sink`).

- :meth:`BufferedWriter.hold` queues rows (never blocks, never raises) for the background task;
  :meth:`BufferedWriter.store` tries the database at once unless rows already wait (then it queues behind them,
  so requests do not wait on connection attempts during an outage).
- A transient error (:func:`hypercare.storage.errors.classify`) keeps the rows waiting, in order; the task
  retries with capped exponential backoff. A permanent error is retried row by row, so one bad row does not
  take its batch with it.
- Past the bound (rows, or the rows' size) the oldest rows go; rows the database refuses and rows still
  waiting at shutdown go too. Every loss is reported to the owner's ``on_lost`` (count and why, never content),
  which logs and counts it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Generic, TypeVar

from hypercare.storage.db import Database
from hypercare.storage.errors import classify, describe

log = logging.getLogger(__name__)

Row = TypeVar("Row")
WRITE_BATCH = 500


def _no_size(_row: object) -> int:
    return 0


class BufferedWriter(Generic[Row]):
    """See the module's docstring. ``write`` stores a batch in one transaction; ``name`` is what logs call the
    table; ``on_pending`` sees the number of waiting rows after each change (a gauge)."""

    def __init__(
        self,
        db: Database,
        write: Callable[[Database, Sequence[Row]], Awaitable[None]],
        *,
        name: str,
        on_lost: Callable[[int, str], None],
        on_pending: Callable[[int], None],
        max_rows: int,
        max_size: int | None = None,
        size_of: Callable[[Row], int] = _no_size,
        flush_interval: float = 0.0,
        retry_initial: float = 0.5,
        retry_max: float = 15.0,
        batch: int = WRITE_BATCH,
    ) -> None:
        self._db = db
        self._write = write
        self._name = name
        self._on_lost = on_lost
        self._on_pending = on_pending
        self._max_rows = max_rows
        self._max_size = max_size
        self._size_of = size_of
        self._flush_interval = flush_interval
        self._retry_initial = retry_initial
        self._retry_max = retry_max
        self._batch = batch
        self._pending: deque[Row] = deque()
        self._pending_size = 0
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def pending(self) -> int:
        return len(self._pending)

    def hold(self, rows: Iterable[Row]) -> None:
        """Queue ``rows`` behind those waiting, dropping the oldest beyond the bound; wakes the writer."""
        for row in rows:
            self._pending.append(row)
            self._pending_size += self._size_of(row)
        dropped = 0
        while len(self._pending) > self._max_rows or (
            self._max_size is not None and self._pending_size > self._max_size
        ):
            self._pending_size -= self._size_of(self._pending.popleft())
            dropped += 1
        if dropped:
            self._on_lost(dropped, "over the bound of rows waiting for the database")
        self._on_pending(len(self._pending))
        self._wake.set()

    async def store(self, rows: Sequence[Row]) -> bool:
        """True when ``rows`` are in the table now; False when they wait for the database (or were refused)."""
        if not rows:
            return True
        if self._pending:
            self.hold(rows)
            return False
        try:
            await self._write(self._db, rows)
        except Exception as error:
            if classify(error) != "transient":
                await self._one_by_one(rows, error)
                return False
            why = describe(error, message=False)
            log.warning("%s unreachable (%s); %d rows wait for it", self._name, why, len(rows))
            self.hold(rows)
            return False
        return True

    async def flush(self) -> bool:
        """Write every waiting row now; False when the database did not take them (they keep waiting)."""
        async with self._lock:
            while self._pending:
                batch = [self._pending[index] for index in range(min(self._batch, len(self._pending)))]
                try:
                    await self._write(self._db, batch)
                except Exception as error:
                    if classify(error) == "transient":
                        return False
                    self._release(len(batch))
                    await self._one_by_one(batch, error)
                    continue
                self._release(len(batch))
            return True

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"{self._name}-writer")

    async def stop(self) -> None:
        """Stops the task, writes what it can, and reports what is still waiting as lost."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._pending:
            with contextlib.suppress(Exception):
                await self.flush()
        if self._pending:
            self._on_lost(len(self._pending), "still waiting for the database at shutdown")
            self._pending.clear()
            self._pending_size = 0
            self._on_pending(0)

    def _release(self, count: int) -> None:
        for _ in range(count):
            self._pending_size -= self._size_of(self._pending.popleft())
        self._on_pending(len(self._pending))

    async def _one_by_one(self, rows: Sequence[Row], first: BaseException) -> None:
        """After a permanent error: each row alone; a transient error now puts the row back in the queue."""
        refused = 0
        for row in rows:
            try:
                await self._write(self._db, [row])
            except Exception as error:
                if classify(error) == "transient":
                    self.hold([row])
                else:
                    refused += 1
        if refused:
            self._on_lost(refused, f"refused by the database ({describe(first, message=False)})")

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            if self._flush_interval:
                await asyncio.sleep(self._flush_interval)  # gather a batch
            delay = self._retry_initial
            outage = False
            while self._pending:
                try:
                    written = await self.flush()
                except Exception as error:  # never let the task die on an unexpected error; rows stay queued
                    log.warning("%s: writing waiting rows failed (%s)", self._name, type(error).__name__)
                    written = False
                if written:
                    break
                if not outage:
                    log.warning("%s unreachable; %d rows wait for the database", self._name, len(self._pending))
                    outage = True
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._retry_max)
            if outage:
                log.info("%s reachable again; the waiting rows are written", self._name)
