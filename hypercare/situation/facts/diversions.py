"""ED diversion spans, folded once: the live ED state, the stop criteria and the daily report use these rules.

Rules:

- **Identity** is ``(unit_id, diversion_id)``; ``unit_id`` is the diverting emergency department.
- **As of T** only events with ``occurred_at <= T`` count; the same ``event_id`` counts once.
- **Started** at the earliest ``ed.diversion_started`` by ``(occurred_at, event_id)``; a later one
  with the same id is a renewal: it amends scope, receiving units, reason and expected end (the
  latest renewal wins) and keeps the start.
- **Ended** at the earliest ``ed.diversion_ended``. An end is final: a start or renewal after it
  never resurrects the diversion (a new diversion needs a new id). An end with no start is no span;
  an end that occurred before its start (clock skew) leaves a span of zero length.
- **Active at T**: started and not ended. **Hours within [a, b]**: the overlap of
  ``[start, end or b]`` with ``[a, b]``.

Every rule is a register decided by event order, so duplicates and reordered arrival change nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from hypercare.contract.events import EdDiversionEnded, EdDiversionStarted, Event
from hypercare.situation.facts.order import after, before, order_key

DiversionKey = tuple[str, str]  # (unit_id, diversion_id)


def new_record() -> dict[str, Any]:
    """A diversion's registers, JSON-safe (the live ED state keeps the active ones)."""
    return {
        "since_ts": None,
        "since_id": "",
        "since": None,
        "updated_at": None,
        "updated_id": "",
        "scope": None,
        "to_unit_ids": [],
        "reason": None,
        "decided_by": None,
        "expected_end": None,
        "ended_at": None,
        "ended_id": "",
    }


def absorb(record: dict[str, Any], event: EdDiversionStarted | EdDiversionEnded) -> None:
    """Fold one diversion event into ``record`` in place (order-free)."""
    key = order_key(event)
    if isinstance(event, EdDiversionEnded):
        if before(key, _key(record, "ended_at", "ended_id")):
            record["ended_at"], record["ended_id"] = key
        return
    if before(key, _key(record, "since_ts", "since_id")):
        record["since_ts"], record["since_id"] = key
        record["since"] = event.occurred_at.astimezone(UTC).isoformat()
    if after(key, _key(record, "updated_at", "updated_id")):
        record["updated_at"], record["updated_id"] = key
        record["scope"] = event.scope
        record["to_unit_ids"] = list(event.to_unit_ids)
        record["reason"] = event.reason
        record["decided_by"] = event.decided_by
        record["expected_end"] = event.expected_end.astimezone(UTC).isoformat() if event.expected_end else None


def _key(record: dict[str, Any], ts: str, event_id: str) -> tuple[float, str] | None:
    value = record.get(ts)
    return None if value is None else (float(value), str(record.get(event_id, "")))


@dataclass(frozen=True)
class Diversion:
    """One diversion as known at the fold's moment (``since`` None: only its end was seen)."""

    unit_id: str
    diversion_id: str
    since: datetime | None
    ended_at: datetime | None
    scope: str = ""
    to_unit_ids: list[str] = field(default_factory=list)
    reason: str | None = None
    decided_by: str | None = None
    expected_end: str | None = None

    @property
    def is_active(self) -> bool:
        return self.since is not None and self.ended_at is None

    def seconds_within(self, start: datetime, until: datetime) -> float:
        """Seconds of this diversion inside ``[start, until]`` (still running: up to ``until``)."""
        if self.since is None:
            return 0.0
        end = max(self.ended_at, self.since) if self.ended_at is not None else until
        return max(0.0, (min(end, until) - max(self.since, start)).total_seconds())


def fold_diversions(events: Iterable[Event], *, as_of: datetime | None = None) -> dict[DiversionKey, Diversion]:
    """Every diversion with an event among ``events`` (at or before ``as_of``)."""
    records: dict[DiversionKey, dict[str, Any]] = {}
    seen: set[str] = set()
    for event in events:
        if not isinstance(event, EdDiversionStarted | EdDiversionEnded):
            continue
        if (as_of is not None and event.occurred_at > as_of) or event.event_id in seen:
            continue
        seen.add(event.event_id)
        record = records.setdefault((event.unit_id, event.diversion_id), new_record())
        absorb(record, event)
    return {key: diversion(key, record) for key, record in records.items()}


def diversion(key: DiversionKey, record: dict[str, Any]) -> Diversion:
    since, ended = record["since_ts"], record["ended_at"]
    return Diversion(
        unit_id=key[0],
        diversion_id=key[1],
        since=None if since is None else datetime.fromtimestamp(since, UTC),
        ended_at=None if ended is None else datetime.fromtimestamp(ended, UTC),
        scope=str(record["scope"] or ""),
        to_unit_ids=list(record["to_unit_ids"]),
        reason=record["reason"],
        decided_by=record["decided_by"],
        expected_end=record["expected_end"],
    )


def hours_per_unit(diversions: Iterable[Diversion], *, start: datetime, until: datetime) -> dict[str, float]:
    """Diversion hours per emergency department inside ``[start, until]``; units with none are left out."""
    hours: dict[str, float] = {}
    for item in diversions:
        seconds = item.seconds_within(start, until)
        if seconds > 0:
            hours[item.unit_id] = hours.get(item.unit_id, 0.0) + seconds / 3600
    return hours
