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

log = logging.getLogger(__name__)

# Fetched batches waiting for the batch loop; a full queue holds the fetcher back.
QUEUE_BATCHES = 8


@dataclass(frozen=True, slots=True)
class FetchedBatch:
    generation: int
    records: list[Any]  # aiokafka ConsumerRecords, in offset order per partition


Handler = Callable[[list[Any]], Awaitable[Sequence[Any]]]  # records in → the records it processed


class RecordFeed:
    """The queue between a Faust consumer's fetches and the batch loop, and the loop's commits."""

    def __init__(self, consumer: Any, *, commit_interval: float = 1.0) -> None:
        self._consumer = consumer
        self._queue: asyncio.Queue[FetchedBatch] = asyncio.Queue(maxsize=QUEUE_BATCHES)
        self._in_flight = asyncio.Lock()
        self._done: dict[TP, int] = {}  # next offset to commit, per partition
        self._committed: dict[TP, int] = {}
        self._commit_interval = commit_interval
        self._last_commit = time.monotonic()

    async def put(self, batch: FetchedBatch) -> None:
        await self._queue.put(batch)

    async def run(self, handle: Handler, *, max_records: int) -> None:
        """Hand every queued batch (several at once, up to ``max_records``) to ``handle``, forever."""
        while True:
            batches = [await self._queue.get()]
            size = len(batches[0].records)
            while size < max_records and not self._queue.empty():
                batches.append(self._queue.get_nowait())
                size += len(batches[-1].records)
            async with self._in_flight:
                generation = self._consumer.app.consumer_generation_id
                records = [record for batch in batches if batch.generation == generation for record in batch.records]
                if not records:
                    continue
                processed = await handle(records)
                for record in processed:
                    tp = TP(record.topic, record.partition)
                    if record.offset >= self._done.get(tp, -1):
                        self._done[tp] = record.offset + 1
                if time.monotonic() - self._last_commit >= self._commit_interval:
                    await self.commit()

    async def quiesce(self) -> None:
        """Drop queued batches, wait for the one in progress and commit (a rebalance is under way)."""
        while not self._queue.empty():
            self._queue.get_nowait()
        async with self._in_flight:
            await self.commit()

    async def commit(self) -> None:
        self._last_commit = time.monotonic()
        assigned = self._consumer.assignment()
        due = {tp: offset for tp, offset in self._done.items()
               if tp in assigned and offset > self._committed.get(tp, -1)}
        for tp in [tp for tp in self._done if tp not in assigned]:
            self._done.pop(tp, None)
            self._committed.pop(tp, None)
        if due and await self._consumer._commit(due):
            self._committed.update(due)


def feed_for(consumer: Any) -> RecordFeed:
    feed: RecordFeed | None = getattr(consumer, "_hypercare_record_feed", None)
    if feed is None:
        feed = RecordFeed(consumer)
        consumer._hypercare_record_feed = feed
    return feed


_fed_topics: frozenset[str] = frozenset()
_installed = False


def install(fed_topics: frozenset[str]) -> None:
    """Feed the records of ``fed_topics`` of every Faust consumer of this process to its :class:`RecordFeed`."""
    global _fed_topics, _installed
    _fed_topics = _fed_topics | fed_topics
    if _installed:
        return
    cls: Any = faust_consumer.Consumer
    original_wait_next_records = cls._wait_next_records
    original_wait_empty = cls.wait_empty

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
            for index, record in enumerate(batch):
                if not guard.fetched_in_order(tp, record.offset):
                    due = guard.fetch_due[tp]
                    log.warning("%s: offset %d fetched while %d was due (stale fetch); reading again from %d",
                                tp, record.offset, due, due)
                    await self.seek(tp, due)
                    batch = batch[:index]
                    break
            fed.extend(batch)
        if fed:
            await feed_for(self).put(FetchedBatch(generation=generation, records=fed))
        return records, active

    async def wait_empty(self: Any) -> None:
        await original_wait_empty(self)
        await feed_for(self).quiesce()

    cls._wait_next_records = _wait_next_records
    cls.wait_empty = wait_empty
    _installed = True


__all__ = ["FetchedBatch", "RecordFeed", "feed_for", "install"]
