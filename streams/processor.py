"""One batch of event records → stored events, updated unit states, dead letters.

Exactness without transactions (the embedded broker has none, STACK_NOTES.md):
- a record already folded into a unit's state is recognised by the last applied offset per source
  partition, kept inside that same state value, so replay after a crash skips it;
- a resend of an already seen ``event_id`` (a new record) is recognised by the events table,
  which remembers the position of the first record that carried the id.
Both checks are per record, so the result does not depend on where a crash cut a batch.
A record the database refuses (``streams.sink``) is dead-lettered and its offset marked as done, like any
other record that cannot be processed: a partition never waits on one bad record.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from hypercare.contract.events import Event, InvalidEvent, event_to_json_text, parse_event_json
from hypercare.privacy.redact import redact
from hypercare.situation.state import STATEFUL_FAMILIES, apply_event, new_state
from hypercare.storage.events_store import EventRow
from hypercare.topics import Topics
from streams.sink import Stored

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Record:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp: float | None = None  # seconds since the epoch, as the broker stamped the record


@dataclass(frozen=True)
class DeadLetter:
    record: Record
    reason: str

    def as_json(self) -> dict[str, Any]:
        raw = self.record.value.decode("utf-8", "replace") if self.record.value is not None else None
        return {
            "reason": self.reason,
            "topic": self.record.topic,
            "partition": self.record.partition,
            "offset": self.record.offset,
            "raw": redact(raw) if raw is not None else None,
        }


class StateStore(Protocol):
    """Where unit states live between batches (a Faust table per family in the worker)."""

    def get(self, family: str, unit_id: str) -> dict[str, Any] | None: ...

    def put(self, family: str, unit_id: str, partition: int, value: dict[str, Any]) -> None: ...


StoreEvents = Callable[[Sequence[EventRow]], Awaitable[Stored]]


@dataclass
class BatchResult:
    applied: int = 0
    replayed: int = 0
    duplicates: int = 0
    dead_letters: list[DeadLetter] = field(default_factory=list)
    # (family, unit_id) -> the unit's new state value (also written to the StateStore)
    changed: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    applied_events: list[Event] = field(default_factory=list)
    applied_records: list[Record] = field(default_factory=list)
    # (family, outcome) -> records; outcome is applied, duplicate, replayed or dead_letter
    outcomes: Counter[tuple[str, str]] = field(default_factory=Counter)


class BatchProcessor:
    def __init__(self, *, topics: Topics, states: StateStore, store_events: StoreEvents) -> None:
        self._family_by_topic = {name: family for family, name in topics.families.items()}
        self._states = states
        self._store_events = store_events

    async def process(self, records: Sequence[Record], *, now: datetime) -> BatchResult:
        result = BatchResult()
        fresh: list[tuple[Record, str, Event]] = []
        working: dict[tuple[str, str], tuple[int, dict[str, Any]]] = {}

        for record in records:
            family = self._family_by_topic.get(record.topic)
            if family is None:
                result.dead_letters.append(DeadLetter(record, f"topic {record.topic!r} carries no event family"))
                result.outcomes["unknown", "dead_letter"] += 1
                continue
            try:
                event = self._decode(record, family)
            except InvalidEvent as error:
                result.dead_letters.append(DeadLetter(record, str(error)))
                result.outcomes[family, "dead_letter"] += 1
                continue
            if family not in STATEFUL_FAMILIES:
                fresh.append((record, family, event))
                continue
            value = self._working_value(working, family, event.unit_id, record.partition)
            if value["offsets"].get(_tp(record), -1) >= record.offset:
                result.replayed += 1
                result.outcomes[family, "replayed"] += 1
                continue
            fresh.append((record, family, event))

        if fresh:
            stored = await self._store_events([_row(record, family, event) for record, family, event in fresh])
        else:
            stored = Stored({})
        positions = stored.positions

        for index, (record, family, event) in enumerate(fresh):
            refusal = stored.refused.get(index)
            if refusal is not None:
                result.dead_letters.append(DeadLetter(record, refusal))
                result.outcomes[family, "dead_letter"] += 1
                if family in STATEFUL_FAMILIES:  # done with: a replay must not dead-letter it again
                    _, value = working[(family, event.unit_id)]
                    value["offsets"][_tp(record)] = record.offset
                    result.changed[(family, event.unit_id)] = value
                continue
            original = positions.get(event.event_id) == (record.topic, record.partition, record.offset)
            if family not in STATEFUL_FAMILIES:
                result.outcomes[family, "applied" if original else "duplicate"] += 1
                if original:
                    result.applied += 1
                    result.applied_events.append(event)
                    result.applied_records.append(record)
                else:
                    result.duplicates += 1
                continue
            _, value = working[(family, event.unit_id)]
            value["offsets"][_tp(record)] = record.offset
            result.changed[(family, event.unit_id)] = value
            if not original:
                result.duplicates += 1
                result.outcomes[family, "duplicate"] += 1
                continue
            try:
                apply_event(family, value["state"], event, now=now)
            except Exception as error:  # a bad record must never stop the agent
                log.exception("could not apply event %s", event.event_id)
                result.dead_letters.append(DeadLetter(record, f"could not be applied: {error!r}"))
                result.outcomes[family, "dead_letter"] += 1
                continue
            result.applied += 1
            result.applied_events.append(event)
            result.applied_records.append(record)
            result.outcomes[family, "applied"] += 1

        for (family, unit_id), value in result.changed.items():
            partition, _ = working[(family, unit_id)]
            self._states.put(family, unit_id, partition, value)
        return result

    def _working_value(
        self, working: dict[tuple[str, str], tuple[int, dict[str, Any]]], family: str, unit_id: str, partition: int
    ) -> dict[str, Any]:
        key = (family, unit_id)
        if key not in working:
            stored = self._states.get(family, unit_id)
            # Mutated in place: nothing is changed before the batch's events are stored.
            value = stored if stored else {"offsets": {}, "state": new_state(family)}
            working[key] = (partition, value)
        return working[key][1]

    @staticmethod
    def _decode(record: Record, family: str) -> Event:
        if record.value is None:
            raise InvalidEvent("record has no value")
        event = parse_event_json(record.value)
        if event.family != family:
            raise InvalidEvent(f"type {event.type} does not belong on the {family} topic")
        return event


def _tp(record: Record) -> str:
    return f"{record.topic}:{record.partition}"


def _row(record: Record, family: str, event: Event) -> EventRow:
    return EventRow(
        event_id=event.event_id,
        type=event.type,
        family=family,
        unit_id=event.unit_id,
        occurred_at=event.occurred_at,
        source=event.source,
        payload=event_to_json_text(event),
        src_topic=record.topic,
        src_partition=record.partition,
        src_offset=record.offset,
    )
