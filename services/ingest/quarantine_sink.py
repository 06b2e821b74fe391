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

import logging
from collections.abc import Sequence

from hypercare.observability import metrics
from hypercare.storage.buffered_writer import BufferedWriter
from hypercare.storage.db import Database
from hypercare.storage.quarantine import QuarantineRow, add_quarantined

log = logging.getLogger(__name__)

MAX_PENDING_ROWS = 10_000
MAX_PENDING_CHARS = 64 * 1024 * 1024


async def _write(db: Database, rows: Sequence[QuarantineRow]) -> None:
    await add_quarantined(db, items=rows)


def _chars(row: QuarantineRow) -> int:
    return len(row.raw) + len(row.reason)


class QuarantineSink:
    """Quarantine rows through a :class:`~hypercare.storage.buffered_writer.BufferedWriter`, bounded in rows
    and in characters (a rejected item's raw text may be large)."""

    def __init__(
        self,
        db: Database,
        *,
        max_rows: int = MAX_PENDING_ROWS,
        max_chars: int = MAX_PENDING_CHARS,
        retry_initial: float = 0.5,
        retry_max: float = 15.0,
    ) -> None:
        self._writer: BufferedWriter[QuarantineRow] = BufferedWriter(
            db,
            _write,
            name="quarantine table",
            on_lost=self._topic_only,
            on_pending=metrics.QUARANTINE_PENDING.set,
            max_rows=max_rows,
            max_size=max_chars,
            size_of=_chars,
            retry_initial=retry_initial,
            retry_max=retry_max,
        )

    @property
    def pending(self) -> int:
        return self._writer.pending

    async def start(self) -> None:
        await self._writer.start()

    async def stop(self) -> None:
        await self._writer.stop()

    async def store(self, rows: Sequence[QuarantineRow]) -> bool:
        """True when the rows are in the table; False when they wait for the database (or were refused)."""
        return await self._writer.store(rows)

    @staticmethod
    def _topic_only(count: int, why: str) -> None:
        metrics.QUARANTINE_TOPIC_ONLY.inc(count)
        log.error("%d rejected ingest items are only in the quarantine topic, not its table: %s", count, why)
