"""Rejected ingest items into the quarantine table, also while the database is down.

Every rejected item goes to the quarantine topic (``topics.quarantine``, redacted) before the batch is
answered; its table row is written at once when the database answers. When it does not (a transient
error, see :func:`hypercare.storage.errors.classify`), the rows wait here, in order, and a background task
writes them as soon as the database is back: the batch is still answered normally (its valid events go
to Kafka) and the topic record says ``"stored": false``. While rows wait, new ones queue behind them
without trying the database first, so requests do not wait on connection attempts.

An item never disappears silently: an item the database refuses outright (a permanent error, retried
row by row), rows beyond the waiting bound, and rows still waiting when the process stops are logged
(counts and error class, never content), counted in ``hypercare_quarantine_topic_only_total`` and remain
in the quarantine topic, the record to backfill from.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Sequence

from hypercare.observability import metrics
from hypercare.storage.db import Database
from hypercare.storage.errors import classify, describe
from hypercare.storage.quarantine import QuarantineRow, add_quarantined

log = logging.getLogger(__name__)

MAX_PENDING_ROWS = 10_000
MAX_PENDING_CHARS = 64 * 1024 * 1024
WRITE_BATCH = 500


class QuarantineSink:
    def __init__(
        self,
        db: Database,
        *,
        max_rows: int = MAX_PENDING_ROWS,
        max_chars: int = MAX_PENDING_CHARS,
        retry_initial: float = 0.5,
        retry_max: float = 15.0,
    ) -> None:
        self._db = db
        self._max_rows = max_rows
        self._max_chars = max_chars
        self._retry_initial = retry_initial
        self._retry_max = retry_max
        self._pending: deque[QuarantineRow] = deque()
        self._pending_chars = 0
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def pending(self) -> int:
        return len(self._pending)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="quarantine-sink")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._pending:
            with contextlib.suppress(Exception):
                await self._write_pending(retry=False)
        if self._pending:
            self._topic_only(len(self._pending), "still waiting for the database at shutdown")
            self._pending.clear()
            self._pending_chars = 0
            metrics.QUARANTINE_PENDING.set(0)

    async def store(self, rows: Sequence[QuarantineRow]) -> bool:
        """True when the rows are in the table; False when they wait for the database (or were refused)."""
        if not rows:
            return True
        if self._pending:
            self._hold(rows)
            return False
        try:
            await add_quarantined(self._db, items=rows)
        except Exception as error:
            if classify(error) != "transient":
                await self._store_one_by_one(rows, error)
                return False
            why = describe(error, message=False)
            log.warning("quarantine table unreachable (%s); %d rejected items wait for it", why, len(rows))
            self._hold(rows)
            return False
        return True

    def _hold(self, rows: Sequence[QuarantineRow]) -> None:
        for row in rows:
            self._pending.append(row)
            self._pending_chars += len(row.raw) + len(row.reason)
        dropped = 0
        while len(self._pending) > self._max_rows or self._pending_chars > self._max_chars:
            oldest = self._pending.popleft()
            self._pending_chars -= len(oldest.raw) + len(oldest.reason)
            dropped += 1
        if dropped:
            self._topic_only(dropped, "over the bound of rows waiting for the database")
        metrics.QUARANTINE_PENDING.set(len(self._pending))
        self._wake.set()

    async def _store_one_by_one(self, rows: Sequence[QuarantineRow], first: BaseException) -> None:
        refused = 0
        for row in rows:
            try:
                await add_quarantined(self._db, items=[row])
            except Exception as error:
                if classify(error) == "transient":
                    self._hold([row])
                else:
                    refused += 1
        if refused:
            self._topic_only(refused, f"refused by the database ({describe(first, message=False)})")

    @staticmethod
    def _topic_only(count: int, why: str) -> None:
        metrics.QUARANTINE_TOPIC_ONLY.inc(count)
        log.error("%d rejected ingest items are only in the quarantine topic, not its table: %s", count, why)

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            await self._write_pending(retry=True)

    async def _write_pending(self, *, retry: bool) -> None:
        delay = self._retry_initial
        while self._pending:
            batch = [self._pending[index] for index in range(min(WRITE_BATCH, len(self._pending)))]
            try:
                await add_quarantined(self._db, items=batch)
            except Exception as error:
                if classify(error) == "transient":
                    if not retry:
                        raise
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, self._retry_max)
                    continue
                self._release(len(batch))
                await self._store_one_by_one(batch, error)
                continue
            self._release(len(batch))
            delay = self._retry_initial
            if not self._pending:
                log.info("quarantine table reachable again; waiting rejected items written")

    def _release(self, count: int) -> None:
        for _ in range(count):
            row = self._pending.popleft()
            self._pending_chars -= len(row.raw) + len(row.reason)
        metrics.QUARANTINE_PENDING.set(len(self._pending))
