"""One batch of event records → stored events, updated unit states, dead letters.

Exactness without transactions (the embedded broker has none, STACK_NOTES.md):
- a record already folded into a unit's state is recognised by the last applied offset per source
  partition, kept inside that same state value, so replay after a crash skips it (and a record delivered
  twice within one batch by its position);
- a resend of an already seen ``event_id`` (a new record) is recognised by the events table,
  which remembers the position of the first record that carried the id.
Both checks are per record, so the result does not depend on where a crash cut a batch.
A record the database refuses (``streams.sink``) is dead-lettered and its offset marked as done, like any
other record that cannot be processed: a partition never waits on one bad record.

A family kept in parts (tickets, :func:`hypercare.situation.state.parts`) has one such state value per
part, each with its own offsets: a record is folded into exactly one part, so the checks hold per part.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from hypercare.contract.events import Event, InvalidEvent, parse_event_json
from hypercare.privacy.redact import redact
from hypercare.situation.state import (
    STATEFUL_FAMILIES,
    apply_event,
    holds,
    new_state,
    part_of,
    parts,
    split_key,
    store_key,
    unit_view,
)
from hypercare.storage.events_store import EventRow
from hypercare.topics import Topics
from streams.sink import Stored

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Record:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp: float | None = None  # seconds since the epoch, as the broker stamped the record
    # The value decoded ahead of the batch (:meth:`BatchProcessor.decode_ahead`): the event, or why it is not one;
    # None: decoded when the batch is processed.
    decoded: Event | str | None = field(default=None, compare=False, repr=False)


DEAD_LETTER_RAW_CHARS = 65_536


@dataclass(frozen=True)
class DeadLetter:
    record: Record
    reason: str

    def as_json(self) -> dict[str, Any]:
        """The dead letter as it goes to the dead-letter topic and the quarantine: the raw record redacted and cut
        to :data:`DEAD_LETTER_RAW_CHARS` (a record near the broker's size limit, wrapped, would be refused again);
        ``raw_chars`` tells how long it was."""
        raw = self.record.value.decode("utf-8", "replace") if self.record.value is not None else None
        return {
            "reason": self.reason,
            "topic": self.record.topic,
            "partition": self.record.partition,
            "offset": self.record.offset,
            "raw": redact(raw)[:DEAD_LETTER_RAW_CHARS] if raw is not None else None,
            "raw_chars": len(raw) if raw is not None else 0,
        }


class StateStore(Protocol):
    """Where unit states live between batches (a Faust table per family in the worker), by
    :func:`~hypercare.situation.state.store_key`: the unit id, or the unit id and a part."""

    def get(self, family: str, key: str) -> dict[str, Any] | None: ...

    def put(self, family: str, key: str, partition: int, value: dict[str, Any]) -> None: ...


StoreEvents = Callable[[Sequence[EventRow]], Awaitable[Stored]]


@dataclass
class BatchResult:
    applied: int = 0
    replayed: int = 0
    duplicates: int = 0
    dead_letters: list[DeadLetter] = field(default_factory=list)
    # (family, store key) -> the new state value of a unit or of one part of it (also written to the StateStore)
    changed: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    # (family, unit_id) of every unit whose state changed, in order
    changed_units: list[tuple[str, str]] = field(default_factory=list)
    # (family, unit_id) -> the changed unit's read-side view, all its parts added (the situation record's state);
    # empty when the batch was processed without views (the worker builds them with :meth:`BatchProcessor.views`)
    views: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    applied_events: list[Event] = field(default_factory=list)
    applied_records: list[Record] = field(default_factory=list)
    # (family, outcome) -> records; outcome is applied, duplicate, replayed or dead_letter
    outcomes: Counter[tuple[str, str]] = field(default_factory=Counter)


class BatchProcessor:
    def __init__(self, *, topics: Topics, states: StateStore, store_events: StoreEvents) -> None:
        self._family_by_topic = {name: family for family, name in topics.families.items()}
        self._states = states
        self._store_events = store_events
        # (family, unit_id) -> the store keys of the unit's state that hold a value, in part order (the unit's one
        # value of before first); probing every part of every changed unit in every batch cost a fifth of the
        # worker's time, and building the keys again in every batch a tenth at 2,000 units.
        self._present: dict[tuple[str, str], list[str]] = {}

    def forget(self) -> None:
        """Forget which parts of which units' states hold values: after a rebalance another worker may have
        written parts of units this one owned before (the worker calls this when partitions move)."""
        self._present.clear()

    async def process(self, records: Sequence[Record], *, now: datetime, views: bool = True) -> BatchResult:
        """Store and fold ``records``; with ``views``, the changed units' views too (else only which changed)."""
        result = BatchResult()
        fresh: list[tuple[Record, str, Event, str]] = []  # the store key of the state the event folds into
        working: dict[tuple[str, str], tuple[int, dict[str, Any]]] = {}
        # A state's offsets move only once the batch is stored, so a record delivered twice within one batch
        # is recognised by its position here.
        positions_seen: set[tuple[str, int, int]] = set()

        for record in records:
            position = (record.topic, record.partition, record.offset)
            family = self._family_by_topic.get(record.topic)
            if position in positions_seen:
                result.replayed += 1
                result.outcomes[family or "unknown", "replayed"] += 1
                continue
            positions_seen.add(position)
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
                fresh.append((record, family, event, ""))
                continue
            key = self._key(working, family, event)
            value = self._working_value(working, family, key, record.partition)
            if value["offsets"].get(_tp(record), -1) >= record.offset:
                result.replayed += 1
                result.outcomes[family, "replayed"] += 1
                continue
            fresh.append((record, family, event, key))

        if fresh:
            stored = await self._store_events([_row(record, event) for record, _, event, _ in fresh])
        else:
            stored = Stored({})
        positions = stored.positions

        changed_units: set[tuple[str, str]] = set()
        for index, (record, family, event, key) in enumerate(fresh):
            refusal = stored.refused.get(index)
            if refusal is not None:
                result.dead_letters.append(DeadLetter(record, refusal))
                result.outcomes[family, "dead_letter"] += 1
                if family in STATEFUL_FAMILIES:  # done with: a replay must not dead-letter it again
                    _, value = working[(family, key)]
                    value["offsets"][_tp(record)] = record.offset
                    result.changed[(family, key)] = value
                    changed_units.add((family, event.unit_id))
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
            _, value = working[(family, key)]
            value["offsets"][_tp(record)] = record.offset
            result.changed[(family, key)] = value
            changed_units.add((family, event.unit_id))
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

        for (family, key), value in result.changed.items():
            partition, _ = working[(family, key)]
            self._states.put(family, key, partition, value)
            present = self._present.get((family, split_key(key)[0]))
            if present is not None and key not in present:
                present.append(key)
                present.sort(key=_part_order)
        result.changed_units = sorted(changed_units)
        if views:
            result.views = self.views(result.changed_units)
        return result

    def views(self, units: Sequence[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
        """The read-side view of each ``(family, unit_id)`` as its state holds now, all its parts added.

        The worker asks for them once for the batches it processed while more records waited (at most once a
        checkpoint while it reads a backlog): a unit changed by several of those batches is viewed once.
        """
        return {(family, unit_id): unit_view(family, self._unit_states(family, unit_id)) for family, unit_id in units}

    def _key(self, working: dict[tuple[str, str], tuple[int, dict[str, Any]]], family: str, event: Event) -> str:
        """The store key of the state that folds ``event``: its part, or the unit's one value of before
        while that still holds the event's ticket (a ticket never moves between states)."""
        part = part_of(family, event)
        if part is None:
            return event.unit_id
        whole = working.get((family, event.unit_id))
        state = whole[1]["state"] if whole is not None else (self._states.get(family, event.unit_id) or {}).get("state")
        return event.unit_id if state and holds(family, state, event) else store_key(event.unit_id, part)

    def _unit_states(self, family: str, unit_id: str) -> list[dict[str, Any]]:
        present = self._present.get((family, unit_id))
        if present is None:
            candidates = [unit_id, *(store_key(unit_id, part) for part in range(parts(family)))]
            present = self._present[(family, unit_id)] = [key for key in candidates if self._states.get(family, key)]
        return [value["state"] for key in present if (value := self._states.get(family, key))]

    def _working_value(
        self, working: dict[tuple[str, str], tuple[int, dict[str, Any]]], family: str, key: str, partition: int
    ) -> dict[str, Any]:
        if (family, key) not in working:
            stored = self._states.get(family, key)
            # Mutated in place: nothing is changed before the batch's events are stored.
            value = stored if stored else {"offsets": {}, "state": new_state(family)}
            working[(family, key)] = (partition, value)
        return working[(family, key)][1]

    def decode_ahead(self, topic: str, value: bytes | None) -> Event | str | None:
        """A record's value decoded before its batch is processed (``Record.decoded``): the worker decodes each
        fetch as it arrives, so decoding the next records overlaps the database's storing of the batch before.
        Decoding needs no state, so its result is the same whenever it runs; None when there is nothing to decode."""
        if value is None or topic not in self._family_by_topic:
            return None
        try:
            return parse_event_json(value)
        except InvalidEvent as error:
            return str(error)
        except Exception:  # whatever else a record provokes is met again, and answered, when its batch is processed
            return None

    @staticmethod
    def _decode(record: Record, family: str) -> Event:
        decoded = record.decoded
        if isinstance(decoded, str):
            raise InvalidEvent(decoded)
        if decoded is not None:
            event = decoded
        elif record.value is None:
            raise InvalidEvent("record has no value")
        else:
            event = parse_event_json(record.value)
        if event.family != family:
            raise InvalidEvent(f"type {event.type} does not belong on the {family} topic")
        return event


def _part_order(key: str) -> int:
    """Where a store key comes among its unit's: the unit's one value of before first, then by part."""
    part = split_key(key)[1]
    return -1 if part is None else part


def _tp(record: Record) -> str:
    return f"{record.topic}:{record.partition}"


def _row(record: Record, event: Event) -> EventRow:
    return EventRow.of(event, src_topic=record.topic, src_partition=record.partition, src_offset=record.offset)
