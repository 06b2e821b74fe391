"""The record feed: fetched batches reach the batch loop in order; offsets are committed only after a checkpoint."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import pytest
from faust.types import TP

from streams.record_feed import FetchedBatch, RecordFeed

TOPIC = "hc.events.access"


@dataclass(frozen=True)
class Rec:
    topic: str
    partition: int
    offset: int


@dataclass
class FakeApp:
    consumer_generation_id: int = 1


@dataclass
class FakeConsumer:
    app: FakeApp = field(default_factory=FakeApp)
    assigned: set[TP] = field(default_factory=lambda: {TP(TOPIC, 0), TP(TOPIC, 1)})
    commits: list[dict[TP, int]] = field(default_factory=list)

    def assignment(self) -> set[TP]:
        return self.assigned

    async def _commit(self, offsets: dict[TP, int]) -> bool:
        self.commits.append(dict(offsets))
        return True


def recs(*offsets: int, partition: int = 0) -> list[Rec]:
    return [Rec(TOPIC, partition, offset) for offset in offsets]


class Loop:
    """Runs a feed with a handler that records what it was given and a counting checkpoint."""

    def __init__(self, feed: RecordFeed, *, interval: float) -> None:
        self.handled: list[list[int]] = []
        self.checkpoints = 0
        self.feed = feed
        self.interval = interval
        self.task: asyncio.Task[None] | None = None

    async def handle(self, records: list[Any]) -> list[Any]:
        self.handled.append([r.offset for r in records])
        return records

    async def checkpoint(self) -> None:
        self.checkpoints += 1

    def start(self, prepare: Any = None) -> None:
        self.task = asyncio.create_task(
            self.feed.run(self.handle, self.checkpoint, max_records=100, interval=self.interval, prepare=prepare)
        )

    async def stop(self) -> None:
        assert self.task is not None
        self.task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await self.task


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def test_queued_batches_are_handled_together_and_stale_generations_dropped() -> None:
    consumer = FakeConsumer()
    feed = RecordFeed(consumer)
    await feed.put(FetchedBatch(generation=0, records=recs(1, 2)))  # fetched before a rebalance
    await feed.put(FetchedBatch(generation=1, records=recs(3, 4)))
    await feed.put(FetchedBatch(generation=1, records=recs(7, partition=1)))
    loop = Loop(feed, interval=60)
    loop.start()
    await settle()
    await loop.stop()
    assert loop.handled == [[3, 4, 7]]
    assert consumer.commits == [] and loop.checkpoints == 0  # the interval has not passed


async def test_offsets_are_committed_after_the_checkpoint_also_when_no_more_records_come() -> None:
    consumer = FakeConsumer()
    feed = RecordFeed(consumer)
    loop = Loop(feed, interval=0.05)
    loop.start()
    await feed.put(FetchedBatch(generation=1, records=recs(10, 11) + recs(5, partition=1)))
    await settle()
    assert consumer.commits == []
    await asyncio.sleep(0.2)
    assert loop.checkpoints == 1
    assert consumer.commits == [{TP(TOPIC, 0): 12, TP(TOPIC, 1): 6}]
    await asyncio.sleep(0.1)
    assert loop.checkpoints == 1  # nothing new: no checkpoint, no commit
    await loop.stop()


async def test_quiesce_drops_what_is_queued_and_commits_what_was_handled() -> None:
    consumer = FakeConsumer()
    feed = RecordFeed(consumer)
    loop = Loop(feed, interval=60)
    loop.start()
    await feed.put(FetchedBatch(generation=1, records=recs(0, 1, 2)))
    await settle()
    await loop.stop()
    await feed.put(FetchedBatch(generation=1, records=recs(3)))
    consumer.assigned = {TP(TOPIC, 0)}
    await feed.quiesce()
    assert loop.handled == [[0, 1, 2]]
    assert loop.checkpoints == 1
    assert consumer.commits == [{TP(TOPIC, 0): 3}]


async def test_partitions_no_longer_assigned_are_not_committed() -> None:
    consumer = FakeConsumer()
    feed = RecordFeed(consumer)
    loop = Loop(feed, interval=60)
    loop.start()
    await feed.put(FetchedBatch(generation=1, records=recs(4, partition=1)))
    await settle()
    await loop.stop()
    consumer.assigned = {TP(TOPIC, 0)}
    await feed.quiesce()
    assert consumer.commits == []


async def test_batches_are_prepared_once_whether_queued_before_or_after_the_loop_started() -> None:
    """The worker decodes records in ``prepare``: as they are fetched once the loop runs, and a batch queued
    before it started is prepared when it is taken."""
    consumer = FakeConsumer()
    feed = RecordFeed(consumer)
    prepared: list[list[int]] = []

    def prepare(records: list[Any]) -> list[Any]:
        prepared.append([r.offset for r in records])
        return [Rec(r.topic, r.partition, r.offset + 100) for r in records]

    await feed.put(FetchedBatch(generation=1, records=recs(1, 2)))  # before the loop: not prepared yet
    assert prepared == []
    loop = Loop(feed, interval=60)
    loop.start(prepare)
    await settle()
    await feed.put(FetchedBatch(generation=1, records=recs(3)))
    assert prepared == [[1, 2], [3]]  # the second as it was put, in the fetching task
    await settle()
    await loop.stop()
    assert loop.handled == [[101, 102], [103]]


async def test_a_large_fetch_is_queued_in_bounded_parts_and_handled_in_order() -> None:
    """A fetch from a backlog (tens of thousands of records) waits decoded in parts, so the queue stays bounded."""
    from streams import record_feed

    consumer = FakeConsumer()
    feed = RecordFeed(consumer)
    loop = Loop(feed, interval=60)
    loop.start()
    await feed.put(FetchedBatch(generation=1, records=recs(*range(2 * record_feed.BATCH_RECORDS + 7))))
    await settle()
    await loop.stop()
    assert [len(handled) for handled in loop.handled] == [record_feed.BATCH_RECORDS, record_feed.BATCH_RECORDS, 7]
    assert [offset for handled in loop.handled for offset in handled] == list(range(2 * record_feed.BATCH_RECORDS + 7))
