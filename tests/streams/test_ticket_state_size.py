"""Open tickets are real state that grows until resolved: 20,000 of them on one unit, folded through the real
batch processor, keep every changelog value and the situation record far below the producer's 1 MB limit, and
the figures exact (an oracle computed from the generated tickets, not from the fold)."""

from __future__ import annotations

import asyncio
import json
import math
import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any, cast

import pytest
from aiokafka.errors import KafkaConnectionError, MessageSizeTooLargeError
from faust.exceptions import ProducerSendError

from hypercare.contract.events import TICKET_CATEGORIES, new_id, parse_event_json
from hypercare.observability import metrics
from hypercare.situation import record as situation_record
from hypercare.situation.state import apply_event, store_key, tickets
from hypercare.storage.events_store import EventRow
from hypercare.topics import Topics
from streams.app import TableStates, UnitTable, deliver
from streams.processor import BatchProcessor, Record
from streams.sink import Stored

TOPICS = Topics(prefix=new_id("size"))
TICKETS = TOPICS.family("tickets")
NOW = datetime.now(UTC).replace(microsecond=0)
BOUND = 256 * 1024


class ChangelogStates:
    """A StateStore that keeps what a changelog would, and the largest changelog value it was given."""

    def __init__(self) -> None:
        self.values: dict[tuple[str, str], dict[str, Any]] = {}
        self.largest = 0

    def get(self, family: str, key: str) -> dict[str, Any] | None:
        return self.values.get((family, key))

    def put(self, family: str, key: str, partition: int, value: dict[str, Any]) -> None:
        encoded = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()  # as streams.app sends it
        self.largest = max(self.largest, len(encoded))
        self.values[(family, key)] = json.loads(encoded)


async def store_all(rows: Sequence[EventRow]) -> Stored:
    return Stored({row.event_id: (row.src_topic, row.src_partition, row.src_offset) for row in rows})


def event(kind: str, ticket_id: str, at: datetime, **fields: Any) -> dict[str, Any]:
    return {
        "event_id": new_id("ev"),
        "type": f"ticket.{kind}",
        "occurred_at": at.isoformat(),
        "unit_id": "U1",
        "ticket_id": ticket_id,
        **fields,
    }


async def test_twenty_thousand_open_tickets_stay_small_and_exact() -> None:
    rng = random.Random(7)
    opened: dict[str, dict[str, Any]] = {}
    events: list[dict[str, Any]] = []
    for n in range(20_000):
        ticket_id = f"INC{n:07d}"
        at = NOW - timedelta(seconds=rng.randrange(1, 5 * 86_400))
        fields = {
            "priority": rng.randint(1, 4),
            "category": rng.choice(TICKET_CATEGORIES),
            "patient_safety": rng.random() < 0.05,
        }
        opened[ticket_id] = {**fields, "opened_at": at}
        events.append(event("opened", ticket_id, at, channel="phone", summary="Skrivaren svarar inte", **fields))
    ids = sorted(opened)
    for ticket_id in rng.sample(ids, 2_000):  # a later priority wins
        ticket = opened[ticket_id]
        ticket["priority"] = 1 + ticket["priority"] % 4
        at = ticket["opened_at"] + timedelta(seconds=30)
        events.append(event("updated", ticket_id, min(at, NOW), status="in_progress", priority=ticket["priority"]))
    resolved = set(rng.sample(ids, 2_000))
    for ticket_id in resolved:
        events.append(event("resolved", ticket_id, NOW))
    records = [
        Record(topic=TICKETS, partition=0, offset=offset, key=b'"U1"', value=json.dumps(value).encode())
        for offset, value in enumerate(events)
    ]

    states = ChangelogStates()
    processor = BatchProcessor(topics=TOPICS, states=states, store_events=store_all)
    largest_record = 0
    view: dict[str, Any] = {}
    for start in range(0, len(records), 1_000):
        result = await processor.process(records[start : start + 1_000], now=NOW)
        assert not result.dead_letters
        view = result.views[("tickets", "U1")]
        _, value = situation_record.encode("U1", "tickets", view, as_of=NOW.isoformat())
        largest_record = max(largest_record, len(value))

    assert states.largest < BOUND and largest_record < BOUND
    still_open = [ticket for ticket_id, ticket in opened.items() if ticket_id not in resolved]
    summary = tickets.summarize(view, NOW.timestamp()).block()
    by_priority = {str(p): sum(1 for t in still_open if t["priority"] == p) for p in range(1, 5)}
    oldest = {str(p): max((minutes(t) for t in still_open if t["priority"] == p), default=None) for p in range(1, 5)}
    categories = {c: sum(1 for t in still_open if t["category"] == c) for c in sorted(TICKET_CATEGORIES)}
    assert summary["open"] == 18_000
    assert summary["open_by_priority"] == by_priority
    assert summary["open_by_category"] == {c: n for c, n in categories.items() if n}
    assert summary["patient_safety_open"] == sum(1 for t in still_open if t["patient_safety"])
    assert summary["oldest_open_minutes_by_priority"] == oldest
    assert summary["oldest_open_minutes"] == max(minutes(t) for t in still_open)
    assert summary["resolved_1h"] == 2_000 and summary["resolutions_24h"] == 2_000
    assert summary["opened_1h"] == sum(1 for t in opened.values() if (NOW - t["opened_at"]).total_seconds() < 3_600)

    replay = await processor.process(records[:1_000], now=NOW)  # a replayed batch changes nothing
    assert replay.replayed == 1_000 and replay.applied == 0


def minutes(ticket: dict[str, Any]) -> int:
    return math.floor((NOW - ticket["opened_at"]).total_seconds() / 60)


class RefusingProducer:
    """The app's producer refusing one key's record as too large, as aiokafka does through Faust's producer."""

    def __init__(self, refused: str) -> None:
        self.refused = refused
        self.sent: list[tuple[str, str, int | None]] = []

    async def send(self, topic: str, key: bytes | None, value: bytes, partition: int | None) -> asyncio.Future[None]:
        name = json.loads(key or b"null")
        if name == self.refused:
            try:
                raise MessageSizeTooLargeError("The message is 1048577 bytes when serialized")
            except MessageSizeTooLargeError as error:
                raise ProducerSendError(f"Error while sending: {error!r}") from error
        self.sent.append((topic, name, partition))
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


async def test_a_record_refused_as_too_large_is_counted_and_skipped_not_a_halt() -> None:
    producer = RefusingProducer(refused="U2")
    table = SimpleNamespace(
        data={}, changelog_topic=SimpleNamespace(get_topic_name=lambda: "p-units-tickets-changelog")
    )
    states = TableStates(cast(dict[str, UnitTable], {"tickets": table}), producer.send)
    before = metrics.WORKER_RECORDS_TOO_LARGE.labels(kind="changelog")._value.get()
    for key in ("U1", "U2", "U3"):
        states.put("tickets", key, 0, {"offsets": {}, "state": tickets.new_state()})
    await deliver(await states.flush_changelog())
    assert producer.sent == [("p-units-tickets-changelog", "U1", 0), ("p-units-tickets-changelog", "U3", 0)]
    assert metrics.WORKER_RECORDS_TOO_LARGE.labels(kind="changelog")._value.get() == before + 1
    assert await states.flush_changelog() == []  # not retried

    refused: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    refused.set_exception(MessageSizeTooLargeError())
    await deliver([refused])  # the broker's refusal on the delivery: counted, skipped
    failed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    failed.set_exception(KafkaConnectionError())
    with pytest.raises(KafkaConnectionError):  # any other failure still stops the checkpoint
        await deliver([failed])


async def test_a_unit_state_of_before_keeps_its_tickets_and_new_ones_go_to_parts() -> None:
    """A worker upgraded in place: the one value under the unit id still folds the tickets it holds."""
    at = NOW - timedelta(minutes=90)
    before = [
        event("opened", "INC-A", at, channel="phone", category="printing", priority=2),
        event("opened", "INC-B", at + timedelta(minutes=10), channel="chat", category="login", priority=3),
    ]
    legacy = tickets.new_state()
    for value in before:
        apply_event("tickets", legacy, parse_event_json(json.dumps(value)), now=NOW)
    states = ChangelogStates()
    states.values[("tickets", "U1")] = {"offsets": {f"{TICKETS}:0": 1}, "state": legacy}

    after = [
        *before,  # replayed: already in the state of before
        event("resolved", "INC-A", NOW - timedelta(minutes=30)),
        event("updated", "INC-B", NOW - timedelta(minutes=20), status="in_progress", priority=1),
        event("opened", "INC-C", NOW - timedelta(minutes=5), channel="portal", category="printing", priority=1),
    ]
    records = [
        Record(topic=TICKETS, partition=0, offset=offset, key=b'"U1"', value=json.dumps(value).encode())
        for offset, value in enumerate(after)
    ]
    result = await BatchProcessor(topics=TOPICS, states=states, store_events=store_all).process(records, now=NOW)

    assert result.replayed == 2 and result.applied == 3
    part = store_key("U1", tickets.part_of("INC-C"))
    assert set(result.changed) == {("tickets", "U1"), ("tickets", part)}
    assert sorted(states.values[("tickets", "U1")]["state"]["open"]) == ["INC-B"]
    assert sorted(states.values[("tickets", part)]["state"]["open"]) == ["INC-C"]
    summary = tickets.summarize(result.views[("tickets", "U1")], NOW.timestamp()).block()
    assert summary["open"] == 2
    assert summary["open_by_priority"] == {"1": 2, "2": 0, "3": 0, "4": 0}
    assert summary["oldest_open_minutes_by_priority"] == {"1": 80, "2": None, "3": None, "4": None}
    assert summary["opened_1h"] == 1 and summary["resolved_1h"] == 1
    assert summary["median_minutes_to_resolve_24h"] == 60.0


async def test_a_unit_view_counts_parts_another_worker_wrote_after_a_rebalance() -> None:
    """The processor remembers which parts of a unit hold values; ``forget`` (called when partitions move) makes it
    look again, so parts written meanwhile by the worker that owned the partition are in the next view."""
    states = ChangelogStates()
    mine = BatchProcessor(topics=TOPICS, states=states, store_events=store_all)
    other = BatchProcessor(topics=TOPICS, states=states, store_events=store_all)
    ids = [f"INC-{n}" for n in range(40)]
    by_part: dict[int, str] = {}
    for ticket_id in ids:
        by_part.setdefault(tickets.part_of(ticket_id), ticket_id)
    first, second, third = list(by_part.values())[:3]
    at = NOW - timedelta(minutes=10)

    def opened(ticket_id: str, offset: int) -> Record:
        value = event("opened", ticket_id, at, channel="phone", category="login", priority=3)
        return Record(topic=TICKETS, partition=0, offset=offset, key=b'"U1"', value=json.dumps(value).encode())

    result = await mine.process([opened(first, 0)], now=NOW)
    assert tickets.summarize(result.views[("tickets", "U1")], NOW.timestamp()).block()["open"] == 1
    await other.process([opened(second, 1)], now=NOW)  # the partition was the other worker's for a while
    mine.forget()
    result = await mine.process([opened(third, 2)], now=NOW)
    assert tickets.summarize(result.views[("tickets", "U1")], NOW.timestamp()).block()["open"] == 3
    result = await mine.process([opened(first, 3)], now=NOW)  # a resend of the first ticket under a new event id
    assert tickets.summarize(result.views[("tickets", "U1")], NOW.timestamp()).block()["open"] == 3


async def test_views_built_once_for_several_batches_equal_the_views_of_each_batch() -> None:
    """The worker processes a backlog's batches without views and builds the changed units' views once
    (``views``); they must equal what building them after each batch gives, and the parts a processor has
    learned of batch by batch must come in the order a processor that looks afresh finds them."""
    rng = random.Random(7)
    at = NOW - timedelta(minutes=30)
    batches: list[list[Record]] = []
    offset = 0
    for _ in range(6):
        batch = []
        for _ in range(40):
            ticket_id, unit = f"INC-{rng.randrange(300)}", f"U{rng.randrange(3)}"
            value = (
                event("opened", ticket_id, at, channel="phone", category="login", priority=rng.randint(1, 4))
                if rng.random() < 0.6
                else event("resolved", ticket_id, at + timedelta(minutes=rng.randrange(20)))
            )
            value["unit_id"] = unit
            batch.append(Record(topic=TICKETS, partition=0, offset=offset, key=None, value=json.dumps(value).encode()))
            offset += 1
        batches.append(batch)

    each, deferred = ChangelogStates(), ChangelogStates()
    per_batch = BatchProcessor(topics=TOPICS, states=each, store_events=store_all)
    once = BatchProcessor(topics=TOPICS, states=deferred, store_events=store_all)
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    changed: dict[tuple[str, str], None] = {}
    for batch in batches:
        latest.update((await per_batch.process(batch, now=NOW)).views)
        result = await once.process(batch, now=NOW, views=False)
        assert result.views == {}
        changed.update(dict.fromkeys(result.changed_units))
    assert sorted(changed) == sorted(latest)
    assert once.views(sorted(changed)) == latest
    fresh = BatchProcessor(topics=TOPICS, states=deferred, store_events=store_all)
    assert fresh.views(sorted(changed)) == latest
