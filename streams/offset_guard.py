"""Every record of an event topic is processed: no silent gaps after a seek.

Faust loses records around a restart in two ways (both reproduced by
tests/e2e/test_worker_crash.py, 1-15 of 80 tickets lost in about half of the runs):

1. Recovery seeks each source partition back to its committed offset, but records fetched
   before that seek can still be handed out after it. Faust sees offset 257 after 238, assumes
   a compacted topic, and marks 239..256 as acknowledged (``Consumer._add_gap``): they are
   committed without ever being processed.
2. Recovery ends with ``flow_control.resume()``, which clears every stream queue (mode-streaming),
   after its seek: records delivered in between are dropped while the fetch position moves on.

Event topics are never compacted and never written in transactions, so for them a jump in
offsets is always one of these. :class:`OffsetGuard` keeps, per partition, the next offset due
for fetching and for processing; every seek resets both. A fetched record beyond its due offset
is held back before it is queued (``streams.record_feed``); a batch record beyond its due offset is
dropped and the partition is read again from the due offset. A record before its due offset (delivered
again without a seek) is dropped at both points: it was fetched and admitted already. Only the offsets
of records processed in order are committed, so a dropped record never lets a commit pass the records
it waits for.
Table changelogs (compacted on Apache Kafka) are left alone.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from faust.transport import consumer as faust_consumer
from faust.types import TP

from streams.faust_patches import Patch
from streams.faust_patches import install as install_patches

log = logging.getLogger(__name__)

# A rewind to the same offset that keeps yielding a later first record means the records in
# between are gone from the log (retention on Apache Kafka): accept the jump after this many.
MAX_REWINDS = 3
REWIND_RETRY_SECONDS = 5.0


class Positioned(Protocol):
    @property
    def topic(self) -> str: ...

    @property
    def partition(self) -> int: ...

    @property
    def offset(self) -> int: ...


R = TypeVar("R", bound=Positioned)


@dataclass
class _Rewind:
    offset: int
    attempts: int
    at: float


@dataclass
class OffsetGuard:
    is_gapless: Callable[[str], bool]
    fetch_due: dict[TP, int] = field(default_factory=dict)
    process_due: dict[TP, int] = field(default_factory=dict)
    _rewinds: dict[TP, _Rewind] = field(default_factory=dict)
    clock: Callable[[], float] = time.monotonic

    def seeked(self, tp: TP, offset: int) -> None:
        """The consumer will read ``tp`` from ``offset`` next."""
        self.fetch_due[tp] = offset
        self.process_due[tp] = offset

    def tracks(self, tp: TP) -> bool:
        return tp in self.process_due

    def already_fetched(self, tp: TP, offset: int) -> bool:
        """True for a record before the offset due: fetched once already since the last seek (a fetch that
        answered again for a partition after a seek of another). Queued twice, the two copies could meet in
        one batch, where the processor's per-state offsets cannot tell them apart."""
        if not self.is_gapless(tp.topic):
            return False
        due = self.fetch_due.get(tp)
        return due is not None and offset < due

    def fetched_in_order(self, tp: TP, offset: int) -> bool:
        """False for a record fetched past the offset due (it must not reach Faust)."""
        if not self.is_gapless(tp.topic):
            return True
        due = self.fetch_due.get(tp)
        if due is not None and offset > due:
            return False
        if due is None or offset == due:
            self.fetch_due[tp] = offset + 1
        return True

    def admit(self, records: Sequence[R]) -> tuple[list[R], dict[TP, int]]:
        """The records to process, in order, and the partitions to read again from an offset."""
        admitted: list[R] = []
        rewind: dict[TP, int] = {}
        for record in records:
            tp = TP(record.topic, record.partition)
            due = self.process_due.get(tp)
            if tp in rewind or not self.is_gapless(record.topic):
                if tp not in rewind:
                    admitted.append(record)
                continue
            if due is None or record.offset == due:
                # ``None``: not seen since start-up and no seek yet; Faust seeks before it processes.
                self.process_due[tp] = record.offset + 1
                self._rewinds.pop(tp, None)
            elif record.offset < due:
                continue  # admitted before, maybe in this very batch: a second copy would be counted twice
            elif not self._gone(tp, due, record.offset):
                if self._rewind_due(tp, due):
                    rewind[tp] = due
                else:
                    rewind[tp] = -1  # a rewind to ``due`` is under way: only drop
                continue
            admitted.append(record)
        return admitted, {tp: offset for tp, offset in rewind.items() if offset >= 0}

    def _rewind_due(self, tp: TP, due: int) -> bool:
        now = self.clock()
        previous = self._rewinds.get(tp)
        if previous is not None and previous.offset == due and now - previous.at < REWIND_RETRY_SECONDS:
            return False
        attempts = previous.attempts + 1 if previous is not None and previous.offset == due else 1
        self._rewinds[tp] = _Rewind(offset=due, attempts=attempts, at=now)
        return True

    def _gone(self, tp: TP, due: int, offset: int) -> bool:
        previous = self._rewinds.get(tp)
        if previous is None or previous.offset != due or previous.attempts < MAX_REWINDS:
            return False
        log.error(
            "%s: offsets %d..%d could not be read after %d attempts (removed by retention?); continuing at %d",
            tp,
            due,
            offset - 1,
            previous.attempts,
            offset,
        )
        self.process_due[tp] = offset + 1
        self._rewinds.pop(tp, None)
        return True


def guard_for(consumer: Any) -> OffsetGuard:
    """The guard of a Faust consumer (created by :func:`install`'s patches on first use)."""
    guard: OffsetGuard | None = getattr(consumer, "_hypercare_offset_guard", None)
    if guard is None:
        guard = OffsetGuard(is_gapless=_is_gapless)
        consumer._hypercare_offset_guard = guard
    return guard


def _is_gapless(topic: str) -> bool:
    return topic in _gapless_topics


_gapless_topics: frozenset[str] = frozenset()


def _track_seek(original_seek: Callable[..., Any]) -> Callable[..., Any]:
    async def seek(self: Any, partition: TP, offset: int) -> None:
        await original_seek(self, partition, offset)
        guard_for(self).seeked(partition, offset)

    return seek


def _track_perform_seek(original_perform_seek: Callable[..., Any]) -> Callable[..., Any]:
    async def perform_seek(self: Any) -> None:
        await original_perform_seek(self)
        guard = guard_for(self)
        # No committed offset: Faust does not seek and the position goes on from wherever it is,
        # so keep what is known; a partition never read yet starts at its earliest offset.
        unknown = []
        for tp, offset in list(self._read_offset.items()):
            if offset is not None:
                guard.seeked(tp, offset)
            elif _is_gapless(tp.topic) and not guard.tracks(tp):
                unknown.append(tp)
        if unknown:
            for tp, offset in (await self.earliest_offsets(*unknown)).items():
                if not guard.tracks(tp):
                    guard.seeked(tp, offset)

    return perform_seek


PATCHES = (
    Patch(faust_consumer.Consumer, "seek", _track_seek, why="every seek resets the offsets due"),
    Patch(
        faust_consumer.Consumer,
        "perform_seek",
        _track_perform_seek,
        why="recovery's seek to the committed offsets resets the offsets due",
    ),
)


def install(gapless_topics: frozenset[str]) -> None:
    """Track seeks of ``gapless_topics`` in every Faust consumer of this process (idempotent)."""
    global _gapless_topics
    _gapless_topics = _gapless_topics | gapless_topics
    install_patches(*PATCHES)


__all__ = ["PATCHES", "OffsetGuard", "guard_for", "install"]
