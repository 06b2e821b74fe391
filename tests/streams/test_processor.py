"""One batch → stored events, unit states and dead letters; exact under replay and resend, without a broker."""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st
from memory_states import MemoryStates

from hypercare.storage.events_store import EventRow
from hypercare.topics import Topics
from streams.processor import DEAD_LETTER_RAW_CHARS, BatchProcessor, DeadLetter, Record
from streams.sink import Stored

TOPICS = Topics(prefix="p")
ACCESS = TOPICS.family("access")
NOW = datetime.now(UTC)


class MemoryEventStore:
    """The events table's contract: the first record carrying an event_id wins."""

    def __init__(self) -> None:
        self.rows: dict[str, EventRow] = {}

    async def __call__(self, rows: Sequence[EventRow]) -> Stored:
        for row in rows:
            self.rows.setdefault(row.event_id, row)
        return Stored(
            {
                r.event_id: (
                    self.rows[r.event_id].src_topic,
                    self.rows[r.event_id].src_partition,
                    self.rows[r.event_id].src_offset,
                )
                for r in rows
            }
        )


def login(offset: int, event_id: str, outcome: str = "success", topic: str = ACCESS) -> Record:
    value = {
        "event_id": event_id,
        "type": "access.login",
        "occurred_at": NOW.isoformat(),
        "unit_id": "U1",
        "user_ref": f"user-{event_id}",
        "outcome": outcome,
    }
    if outcome == "failure":
        value["reason"] = "wrong_password"
    return Record(topic=topic, partition=0, offset=offset, key=b'"U1"', value=json.dumps(value).encode())


def logins_of(states: MemoryStates) -> int:
    return sum((states.get("access", "U1") or {"state": {"logins": {}}})["state"]["logins"].values())


async def test_a_replayed_record_and_a_resent_event_are_counted_once() -> None:
    states, store = MemoryStates(), MemoryEventStore()
    processor = BatchProcessor(topics=TOPICS, states=states, store_events=store)
    first = await processor.process([login(0, "a"), login(1, "b", "failure")], now=NOW)
    assert (first.applied, first.outcomes["access", "applied"]) == (2, 2)
    # After a crash the same records come again (replay), and a client resent "a" as a new record.
    again = await processor.process([login(0, "a"), login(1, "b", "failure"), login(2, "a")], now=NOW)
    assert (again.applied, again.replayed, again.duplicates) == (0, 2, 1)
    assert logins_of(states) == 2
    assert sorted(store.rows) == ["a", "b"]


async def test_a_crash_before_the_state_was_saved_applies_the_batch_exactly_once() -> None:
    store = MemoryEventStore()
    crashed = BatchProcessor(topics=TOPICS, states=MemoryStates(), store_events=store)
    await crashed.process([login(0, "a"), login(1, "b")], now=NOW)  # events stored, state lost with the worker
    states = MemoryStates()
    restarted = BatchProcessor(topics=TOPICS, states=states, store_events=store)
    result = await restarted.process([login(0, "a"), login(1, "b"), login(2, "c")], now=NOW)
    assert result.applied == 3
    assert logins_of(states) == 3


async def test_a_record_delivered_twice_within_one_batch_is_counted_once() -> None:
    """A fetch answered again for a partition queued its records twice and both copies met in one batch (seen
    in the SIGKILL fault run): the state's offsets move only after the batch, the events table says "first
    occurrence" for both copies, so only the record's position can tell them apart."""
    store = MemoryEventStore()
    crashed = BatchProcessor(topics=TOPICS, states=MemoryStates(), store_events=store)
    await crashed.process([login(0, "a"), login(1, "b")], now=NOW)  # stored, state lost with the worker
    states = MemoryStates()
    restarted = BatchProcessor(topics=TOPICS, states=states, store_events=store)
    batch = [login(0, "a"), login(1, "b"), login(2, "c"), login(1, "b"), login(2, "c")]
    result = await restarted.process(batch, now=NOW)
    assert (result.applied, result.replayed, result.outcomes["access", "replayed"]) == (3, 2, 2)
    assert logins_of(states) == 3


@st.composite
def deliveries(draw: st.DrawFn) -> tuple[int, list[tuple[list[int], bool]]]:
    """A partition of ``n`` records as a broker and a crashing worker may deliver it: each batch starts at or
    before the first record not yet checkpointed (a replay), may carry a tail of itself again, and may be
    followed by a crash that takes the states back to the last checkpoint."""
    n = draw(st.integers(min_value=1, max_value=30))
    batches: list[tuple[list[int], bool]] = []
    delivered = 0
    for _ in range(draw(st.integers(min_value=1, max_value=8))):
        start = draw(st.integers(min_value=0, max_value=delivered))
        end = draw(st.integers(min_value=start, max_value=n))
        again = draw(st.integers(min_value=start, max_value=end))
        crash = draw(st.booleans())
        batches.append((list(range(start, end)) + list(range(again, end)), crash))
        if not crash:  # else the consumer goes back to the offset committed with the last checkpoint
            delivered = max(delivered, end)
    return n, batches


@settings(max_examples=150, deadline=None)
@given(deliveries(), st.booleans())
async def test_any_delivery_with_replays_repeats_and_crashes_counts_every_event_once(
    case: tuple[int, list[tuple[list[int], bool]]], resends: bool
) -> None:
    """Also with event ids sent again in later records (a resend: the first record carrying the id counts)."""
    n, batches = case
    ids = [f"e{offset // 2 if resends else offset}" for offset in range(n)]
    records = [login(offset, ids[offset]) for offset in range(n)]
    store, states = MemoryEventStore(), MemoryStates()
    checkpoint = copy.deepcopy(states.values)

    def new_processor() -> BatchProcessor:
        return BatchProcessor(topics=TOPICS, states=states, store_events=store)

    processor = new_processor()
    done = 0  # records up to here are folded into the checkpointed states
    for offsets, crash in batches:
        await processor.process([records[i] for i in offsets], now=NOW)
        if crash:  # back to the last checkpoint; the consumer replays from the offset committed with it
            states.values = copy.deepcopy(checkpoint)
            processor = new_processor()
        else:
            checkpoint = copy.deepcopy(states.values)
            done = max([done, *(i + 1 for i in offsets)])
    await processor.process(records[done:], now=NOW)
    assert logins_of(states) == len(set(ids))


async def test_bad_records_become_dead_letters_and_the_rest_of_the_batch_lands() -> None:
    states = MemoryStates()
    processor = BatchProcessor(topics=TOPICS, states=states, store_events=MemoryEventStore())
    garbage = Record(topic=ACCESS, partition=0, offset=1, key=None, value=b"{not json")
    wrong_topic = login(2, "t", topic=TOPICS.family("tickets"))
    pnr = Record(
        topic=ACCESS, partition=0, offset=3, key=None, value=b'{"type": "access.login", "note": "19121212-1212"}'
    )
    result = await processor.process([login(0, "ok"), garbage, wrong_topic, pnr, login(4, "ok2")], now=NOW)
    assert result.applied == 2
    assert [letter.record.offset for letter in result.dead_letters] == [1, 2, 3]
    assert "not valid JSON" in result.dead_letters[0].reason
    assert "does not belong on the tickets topic" in result.dead_letters[1].reason
    assert "19121212-1212" not in json.dumps(result.dead_letters[2].as_json())
    assert logins_of(states) == 2


async def test_records_decoded_ahead_give_the_same_batch_as_records_decoded_in_it() -> None:
    """The worker decodes each fetch as it arrives (``decode_ahead``); the batch's outcome must not change."""
    garbage = Record(topic=ACCESS, partition=0, offset=1, key=None, value=b"{not json")
    batch = [login(0, "ok"), garbage, login(2, "t", topic=TOPICS.family("tickets")), login(3, "ok"), login(4, "x")]
    outcomes = []
    for ahead in (False, True):
        states = MemoryStates()
        processor = BatchProcessor(topics=TOPICS, states=states, store_events=MemoryEventStore())
        records = (
            [replace(r, decoded=processor.decode_ahead(r.topic, r.value)) for r in batch] if ahead else list(batch)
        )
        if ahead:
            assert isinstance(records[1].decoded, str) and records[0].decoded is not None
        result = await processor.process(records, now=NOW)
        letters = [(letter.record.offset, letter.reason) for letter in result.dead_letters]
        outcomes.append((result.applied, result.duplicates, letters, dict(result.outcomes), logins_of(states)))
    assert outcomes[0] == outcomes[1]
    assert outcomes[1][0] == 2 and outcomes[1][1] == 1 and [offset for offset, _ in outcomes[1][2]] == [1, 2]


async def test_decisions_are_only_stored_once_and_build_no_unit_state() -> None:
    states, store = MemoryStates(), MemoryEventStore()
    processor = BatchProcessor(topics=TOPICS, states=states, store_events=store)
    decision = {
        "event_id": "d1",
        "type": "decision.recorded",
        "occurred_at": NOW.isoformat(),
        "unit_id": "SE2321000131-R",
        "decision_id": "B-1",
        "title": "Fortsätt driftstart",
        "decision": "Fortsätt enligt plan",
        "decided_by": "produktionschef",
    }
    record = Record(
        topic=TOPICS.family("coordination"), partition=0, offset=0, key=None, value=json.dumps(decision).encode()
    )
    resent = Record(topic=record.topic, partition=0, offset=1, key=None, value=record.value)
    result = await processor.process([record, resent], now=NOW)
    assert (result.applied, result.duplicates) == (1, 1)
    assert result.changed == {} and states.values == {}
    assert list(store.rows) == ["d1"]


def test_a_dead_letter_of_a_huge_record_is_cut_after_redaction() -> None:
    """A record near the broker's size limit, wrapped as a dead letter, must not be refused again as too large."""
    raw = ("x" * (DEAD_LETTER_RAW_CHARS - 5) + " 19121212-1212 " + "y" * 900_000).encode()
    letter = DeadLetter(Record(topic="t", partition=0, offset=7, key=None, value=raw), "not JSON")
    document = letter.as_json()
    assert len(document["raw"]) == DEAD_LETTER_RAW_CHARS
    assert document["raw_chars"] == len(raw)
    assert "1912" not in document["raw"]  # redacted before it was cut: no part of the number is left at the edge
