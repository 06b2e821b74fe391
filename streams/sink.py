"""The worker's event sink: waits out a database outage, and never lets one refused record hold a partition.

- A transient error (connection lost, serialization failure, deadlock, timeout; ``hypercare.storage.errors``)
  is retried with capped exponential backoff for as long as it lasts: the store of record may not skip an
  event. ``on_stuck`` hears how long the batch has waited, so the worker can export it and turn unready.
- A permanent error (data the database refuses, e.g. a NUL character PostgreSQL cannot keep in text) is
  narrowed down by splitting the batch in halves until the refused rows stand alone; they are returned with
  a reason (for the dead-letter topic and the quarantine), every other row is stored.
- An error of unknown kind is retried a few times for the whole batch (it may pass), then treated as
  permanent while splitting, so a record is never retried forever.

Each attempt is one transaction of :func:`hypercare.storage.events_store.store_events`, so a split never
stores half of a group; groups are stored in their original order, so "the first record of an event_id
wins" still holds.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from hypercare.storage.errors import classify, describe
from hypercare.storage.events_store import EventRow, Position

log = logging.getLogger(__name__)

StoreRows = Callable[[Sequence[EventRow]], Awaitable[dict[str, Position]]]


@dataclass(frozen=True)
class Stored:
    """What became of a batch: each stored event_id's position, and the rows the database refused."""

    positions: dict[str, Position]
    refused: dict[int, str] = field(default_factory=dict)  # index in the batch → reason


class _Refused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Backoff:
    first: float = 0.2
    cap: float = 10.0
    unknown_attempts: int = 4  # tries of a whole batch whose error is neither transient nor permanent


class EventSink:
    def __init__(
        self,
        store: StoreRows,
        *,
        backoff: Backoff | None = None,
        on_stuck: Callable[[float], None] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._backoff = backoff or Backoff()
        self._on_stuck = on_stuck or (lambda _seconds: None)
        self._sleep = sleep
        self._clock = clock

    async def __call__(self, rows: Sequence[EventRow]) -> Stored:
        positions: dict[str, Position] = {}
        refused: dict[int, str] = {}
        pending: list[tuple[list[int], bool]] = [(list(range(len(rows))), True)]
        while pending:
            group, whole = pending.pop()
            try:
                positions.update(await self._attempt([rows[i] for i in group], retry_unknown=whole))
            except _Refused as refusal:
                if len(group) == 1:
                    refused[group[0]] = refusal.reason
                    log.warning("the database refused one event record: %s", refusal.reason.split(":")[0])
                else:
                    middle = len(group) // 2
                    pending.append((group[middle:], False))  # popped second: order is kept
                    pending.append((group[:middle], False))
        return Stored(positions, refused)

    async def _attempt(self, rows: list[EventRow], *, retry_unknown: bool) -> dict[str, Position]:
        delay = self._backoff.first
        started: float | None = None
        unknown = 0
        while True:
            try:
                positions = await self._store(rows)
            except Exception as error:
                kind = classify(error)
                if kind == "permanent":
                    raise _Refused(f"the database refused the event: {describe(error)}") from None
                if kind == "unknown":
                    unknown += 1
                    if not retry_unknown or unknown >= self._backoff.unknown_attempts:
                        raise _Refused(f"the event could not be stored: {describe(error)}") from None
                if started is None:
                    started = self._clock()
                waited = self._clock() - started
                self._on_stuck(waited)
                # Only the error's class and SQLSTATE: a driver's message may quote a value.
                log.warning(
                    "storing %d events failed (%s, %s); retrying in %.1f s, stuck for %.0f s",
                    len(rows),
                    kind,
                    describe(error, message=False),
                    delay,
                    waited,
                )
                await self._sleep(delay)
                delay = min(delay * 2, self._backoff.cap)
                continue
            if started is not None:
                self._on_stuck(0.0)
            return positions
