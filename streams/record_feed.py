"""Event-topic records reach the worker as whole fetched batches, past Faust's per-message path.

Faust hands each record through its stream machinery one at a time (a message object, a wait on
two tasks, an event, a queue, an acknowledgement). On this 2-core machine that path alone cost more
than the worker's own decoding, folding and storing (STACK_NOTES.md: a bare Faust agent reaches
about 6,000 records/s on a fast day). The worker folds whole batches anyway, so the records of the
event topics are taken from each fetch as it returns and queued for the batch loop. Faust keeps
everything else: group membership and assignment, pausing and seeking, table recovery and the
changelog records, which still go its way.

Faust never sees these records, so it never acknowledges or commits them: :class:`RecordFeed`
commits what the batch loop reports done. At a rebalance the revocation waits for the batch in
progress, as Faust waits for its agents, and batches fetched under the old assignment are dropped.
The offset guard (``streams.offset_guard``) still checks every fetch and every batch for gaps.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from faust.transport import consumer as faust_consumer
from faust.types import TP

from streams import offset_guard
from streams.faust_patches import Patch
from streams.faust_patches import install as install_patches

log = logging.getLogger(__name__)

# Fetched batches waiting for the batch loop; a full queue holds the fetcher back. A fetch from a backlog can
# return tens of thousands of records: it is queued in batches of at most BATCH_RECORDS, so what waits (decoded,
# about 1.6 KB a record against 0.2 KB raw) stays bounded at QUEUE_BATCHES × BATCH_RECORDS records plus one batch.
QUEUE_BATCHES = 8
BATCH_RECORDS = 5_000


@dataclass(frozen=True, slots=True)
class FetchedBatch:
    generation: int
    records: list[Any]  # aiokafka ConsumerRecords, in offset order per partition (prepared: what ``prepare`` made)
    prepared: bool = False


Handler = Callable[[list[Any]], Awaitable[Sequence[Any]]]  # records in → the records it processed
Checkpoint = Callable[[], Awaitable[None]]  # makes everything handled so far durable
Prepare = Callable[[list[Any]], list[Any]]  # fetched records → what the handler takes (must not raise)


class RecordFeed:
    """The queue between a Faust consumer's fetches and the batch loop, and the loop's commits.

    Offsets are committed only after a checkpoint: the handler's effects (table changelogs) are
    made durable at most every ``interval`` seconds (:meth:`run`) rather than after every batch, so
    a busy unit's state is written once a second, not once per batch. A crash replays the records
    since the last checkpoint, which the processor recognises (see ``streams.processor``).
    """

    def __init__(self, consumer: Any) -> None:
        self._consumer = consumer
        self._queue: asyncio.Queue[FetchedBatch] = asyncio.Queue(maxsize=QUEUE_BATCHES)
        self._getter: asyncio.Task[FetchedBatch] | None = None
        self._in_flight = asyncio.Lock()
        self._checkpoint: Checkpoint | None = None
        self._prepare: Prepare | None = None
        self._handled: dict[TP, int] = {}  # next offset per partition, once the next checkpoint is done
        self._committed: dict[TP, int] = {}
        self._last_checkpoint = time.monotonic()

    async def put(self, batch: FetchedBatch) -> None:
        """Queue a fetched batch in parts of at most ``BATCH_RECORDS``, each prepared here when :meth:`run` has
        named how: the fetching task prepares the next records (the worker decodes them) while the batch loop
        waits on the database."""
        for start in range(0, len(batch.records), BATCH_RECORDS):
            records, prepared = batch.records[start : start + BATCH_RECORDS], batch.prepared
            if self._prepare is not None and not prepared:
                records, prepared = self._prepare(records), True
            await self._queue.put(FetchedBatch(batch.generation, records, prepared))

    def backlog(self) -> bool:
        """Whether fetched records wait for the batch loop (the worker is behind)."""
        return not self._queue.empty()

    async def run(
        self,
        handle: Handler,
        checkpoint: Checkpoint,
        *,
        max_records: int,
        interval: float,
        prepare: Prepare | None = None,
    ) -> None:
        """Hand every queued batch (several at once, up to ``max_records``) to ``handle``, forever; each batch's
        records go through ``prepare`` first (when fetched, or here for a batch queued before this started)."""
        self._checkpoint = checkpoint
        self._prepare = prepare
        try:
            await self._run(handle, max_records=max_records, interval=interval)
        finally:
            if self._getter is not None:  # stopping: nothing waits for records any more
                self._getter.cancel()
                self._getter = None

    async def _run(self, handle: Handler, *, max_records: int, interval: float) -> None:
        prepare = self._prepare
        while True:
            first = await self._next(timeout=self._checkpoint_due_in(interval))
            async with self._in_flight:
                if first is not None:
                    batches = [first]
                    size = len(first.records)
                    while size < max_records and not self._queue.empty():
                        batches.append(self._queue.get_nowait())
                        size += len(batches[-1].records)
                    generation = self._consumer.app.consumer_generation_id
                    records = [
                        r
                        for batch in batches
                        if batch.generation == generation
                        for r in (batch.records if batch.prepared or prepare is None else prepare(batch.records))
                    ]
                    if records:
                        for record in await handle(records):
                            tp = TP(record.topic, record.partition)
                            if record.offset >= self._handled.get(tp, -1):
                                self._handled[tp] = record.offset + 1
                if self._checkpoint_due_in(interval) == 0:
                    await self._checkpoint_and_commit()

    def _checkpoint_due_in(self, interval: float) -> float | None:
        if not self._handled:
            return None
        return max(0.0, interval - (time.monotonic() - self._last_checkpoint))

    async def _next(self, *, timeout: float | None) -> FetchedBatch | None:
        """The next queued batch, or None after ``timeout``; the waiting get survives a timeout."""
        if self._getter is None:
            self._getter = asyncio.ensure_future(self._queue.get())
        done, _ = await asyncio.wait({self._getter}, timeout=timeout)
        if not done:
            return None
        getter, self._getter = self._getter, None
        return getter.result()

    async def quiesce(self) -> None:
        """Drop queued batches, wait for the one in progress, checkpoint and commit (a rebalance or stop)."""
        while not self._queue.empty():
            self._queue.get_nowait()
        async with self._in_flight:
            if self._handled:
                await self._checkpoint_and_commit()

    async def _checkpoint_and_commit(self) -> None:
        if self._checkpoint is not None:
            await self._checkpoint()
        self._last_checkpoint = time.monotonic()
        handled, self._handled = self._handled, {}
        assigned = self._consumer.assignment()
        due = {tp: offset for tp, offset in handled.items() if tp in assigned and offset > self._committed.get(tp, -1)}
        for tp in [tp for tp in self._committed if tp not in assigned]:
            del self._committed[tp]
        if due and await self._consumer._commit(due):
            self._committed.update(due)


def feed_for(consumer: Any) -> RecordFeed:
    feed: RecordFeed | None = getattr(consumer, "_hypercare_record_feed", None)
    if feed is None:
        feed = RecordFeed(consumer)
        consumer._hypercare_record_feed = feed
    return feed


_fed_topics: frozenset[str] = frozenset()


def _feed_fetched_records(original_wait_next_records: Callable[..., Any]) -> Callable[..., Any]:
    async def _wait_next_records(self: Any, timeout: float) -> tuple[Any, Any]:
        generation = self.app.consumer_generation_id
        records, active = await original_wait_next_records(self, timeout)
        # Faust itself seeks back to the committed offsets when the flow stopped during the fetch.
        if not records or self.should_stop or not self.flow_active:
            return records, active
        if self.app.consumer_generation_id != generation:
            return {tp: recs for tp, recs in records.items() if tp.topic not in _fed_topics}, active
        guard = offset_guard.guard_for(self)
        fed: list[Any] = []
        for tp in [tp for tp in records if tp.topic in _fed_topics]:
            batch = records.pop(tp)
            if active is not None and tp not in active and tp not in self._buffered_partitions:
                continue
            batch = [record for record in batch if not guard.already_fetched(tp, record.offset)]
            for index, record in enumerate(batch):
                if not guard.fetched_in_order(tp, record.offset):
                    due = guard.fetch_due[tp]
                    log.warning(
                        "%s: offset %d fetched while %d was due (stale fetch); reading again from %d",
                        tp,
                        record.offset,
                        due,
                        due,
                    )
                    await self.seek(tp, due)
                    batch = batch[:index]
                    break
            fed.extend(batch)
        if fed:
            await feed_for(self).put(FetchedBatch(generation=generation, records=fed))
        return records, active

    return _wait_next_records


def _quiesce_when_empty(original_wait_empty: Callable[..., Any]) -> Callable[..., Any]:
    async def wait_empty(self: Any) -> None:
        await original_wait_empty(self)
        await feed_for(self).quiesce()

    return wait_empty


PATCHES = (
    Patch(
        faust_consumer.Consumer,
        "_wait_next_records",
        _feed_fetched_records,
        why="event-topic records go from each fetch to the batch loop, past Faust's per-message path",
    ),
    Patch(
        faust_consumer.Consumer,
        "wait_empty",
        _quiesce_when_empty,
        why="a rebalance or stop waits for the batch in progress and commits it",
    ),
)


def install(fed_topics: frozenset[str]) -> None:
    """Feed the records of ``fed_topics`` of every Faust consumer of this process to its :class:`RecordFeed`."""
    global _fed_topics
    _fed_topics = _fed_topics | fed_topics
    install_patches(*PATCHES)


__all__ = ["PATCHES", "FetchedBatch", "RecordFeed", "feed_for", "install"]
