"""Ticket state of one unit, and its read-side summary.

The lifecycle rules (what is open, which priority wins, duplicates, reorders) are the shared fold's,
:mod:`hypercare.situation.facts.tickets`: every ticket here is one of its records, folded with
:func:`~hypercare.situation.facts.tickets.absorb`, so the live picture, the ticket list, the stop
criteria and the daily report cannot disagree. This module only adds the incremental bookkeeping.

State (JSON-safe, bounded by the windows except for genuinely open tickets)::

    {"v": 1,
     "open": {ticket_id: record},                 # facts.tickets.new_record(), opened and not resolved
     "pending": {ticket_id: record},              # updates seen before their opening, 24 h
     "closed": {ticket_id: [resolved_epoch, matched 0|1, resolved_event_id,
                            opened_epoch|None, opened_event_id]},   # tombstones, 24 h
     "opened": {"<second>": n}, "resolved": {"<second>": n},   # 1 h buckets
     "resolutions": [[resolved_epoch, minutes], ...],          # 24 h, for the median
     "pruned_at": epoch|None}

A tombstone makes the resolve final (a late ``ticket.opened`` or update never reopens the ticket);
an unmatched tombstone (resolved before we saw the opening) still yields a resolve time once the
opening arrives. An earlier resolve or opening arriving late moves the counted second and the
resolve time, so arrival order changes nothing. Older states (two-item tombstones, open entries
without order keys) are read as they are and upgraded when touched.

Parts: open tickets are real state that grows until resolved, and one state value travels as one
changelog record (the producer refuses requests over 1 MB: about 5,000 open tickets). So a unit's
tickets are split by ticket id into :data:`PARTS` states (:func:`part_of`), each a state of the
layout above with its own applied offsets in the worker: a ticket's every event folds into the same
part, every figure is a sum over tickets, and :func:`merged_view` adds the parts' states into the
unit's one view (20,000 open tickets on one unit are about 80 KB per part). A unit state of before
(one value under the unit id) keeps the tickets it holds (:func:`holds`) until they are resolved
and pruned; new tickets go to the parts.
"""

from __future__ import annotations

import math
import statistics
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from hypercare.contract.events import Event, TicketOpened, TicketResolved, TicketUpdated
from hypercare.situation.facts import tickets as facts
from hypercare.situation.facts.order import order_key
from hypercare.situation.state import windows as w

COUNT_WINDOW = w.HOUR
MEDIAN_WINDOW = w.DAY
TOMBSTONE_TTL = w.DAY
PENDING_TTL = w.DAY
# Safety valve for one unit's 24 h of resolve times (the median stays exact below it).
MAX_RESOLUTIONS = 20_000
PRIORITIES = ("1", "2", "3", "4")
# Parts of one unit's ticket state (fixed: a ticket's part must never change).
PARTS = 64


def new_state() -> dict[str, Any]:
    return {
        "v": 1,
        "open": {},
        "pending": {},
        "closed": {},
        "opened": {},
        "resolved": {},
        "resolutions": [],
        "pruned_at": None,
    }


def part_of(ticket_id: str) -> int:
    """The part of a unit's ticket state that folds every event of ``ticket_id`` (stable across runs)."""
    return zlib.crc32(ticket_id.encode()) % PARTS


def holds(state: dict[str, Any], ticket_id: str) -> bool:
    """Whether ``state`` already folds events of ``ticket_id`` (open, waiting for its opening, or resolved)."""
    return ticket_id in state["open"] or ticket_id in state.get("pending", {}) or ticket_id in state["closed"]


def apply(state: dict[str, Any], event: Event, now: float) -> None:
    if not isinstance(event, TicketOpened | TicketUpdated | TicketResolved):
        raise ValueError(f"{event.type} is not a ticket event")
    tombstone = state["closed"].get(event.ticket_id)
    if tombstone is None:
        _fold(state, event, now)
    else:
        _fold_closed(state, _full_tombstone(state["closed"], event.ticket_id, tombstone), event, now)
    if w.prune_due(state, now):
        prune(state, now)


def _fold(state: dict[str, Any], event: facts.TicketEvent, now: float) -> None:
    """A ticket not yet resolved: fold the event into its record, then keep the counters in step."""
    ticket_id = event.ticket_id
    pending: dict[str, Any] = state.setdefault("pending", {})
    record = state["open"].get(ticket_id)
    was_open = record is not None
    if record is None:
        record = pending.pop(ticket_id, None) or facts.new_record()
    else:
        _upgrade(record)
    opened_before = record["opened_at"]
    facts.absorb(record, event)
    opened_at, resolved_at = record["opened_at"], record["resolved_at"]
    if resolved_at is not None:
        state["open"].pop(ticket_id, None)
        _count(state["resolved"], resolved_at, now)
        state["closed"][ticket_id] = [
            resolved_at,
            0 if opened_at is None else 1,
            record["resolved_id"],
            opened_at,
            record["opened_id"],
        ]
        if opened_at is not None:
            _record_resolution(state, resolved_at, opened_at, now)
    elif opened_at is None:
        pending[ticket_id] = record
    elif not was_open:
        state["open"][ticket_id] = record
        _count(state["opened"], opened_at, now)
    elif opened_at != opened_before:
        _move(state["opened"], opened_before, opened_at, now)


def _fold_closed(state: dict[str, Any], tombstone: list[Any], event: facts.TicketEvent, now: float) -> None:
    """A resolved ticket: only an earlier opening or resolve changes the live figures."""
    resolved_at, matched, resolved_id, opened_at, opened_id = tombstone
    key = order_key(event)
    if isinstance(event, TicketOpened):
        if not matched:
            tombstone[1], tombstone[3], tombstone[4] = 1, key[0], key[1]
            _count(state["opened"], key[0], now)
            _record_resolution(state, resolved_at, key[0], now)
        elif opened_at is not None and key < (opened_at, opened_id):
            tombstone[3], tombstone[4] = key
            _move(state["opened"], opened_at, key[0], now)
            _replace_resolution(state, (resolved_at, opened_at), (resolved_at, key[0]), now)
    elif isinstance(event, TicketResolved) and key < (resolved_at, resolved_id):
        tombstone[0], tombstone[2] = key
        _move(state["resolved"], resolved_at, key[0], now)
        if matched and opened_at is not None:
            _replace_resolution(state, (resolved_at, opened_at), (key[0], opened_at), now)
    # An update of a resolved ticket: it stays resolved, and nothing of it is on the live picture.


def _full_tombstone(closed: dict[str, Any], ticket_id: str, tombstone: list[Any]) -> list[Any]:
    if len(tombstone) < 5:
        tombstone = closed[ticket_id] = [tombstone[0], tombstone[1], "", None, ""]
    return tombstone


def _upgrade(record: dict[str, Any]) -> None:
    """An open entry of an older state, given the order keys of a record (its event ids unknown)."""
    if "opened_id" in record:
        return
    updated_at = record.pop("updated_at", None)
    last = [updated_at if updated_at is not None else record["opened_at"], ""]
    record.update(
        opened_id="",
        priority_at=list(last),
        category_at=list(last),
        status_at=[updated_at, ""] if updated_at is not None else None,
        resolved_at=None,
        resolved_id="",
    )


def _count(buckets: dict[str, int], ts: float, now: float) -> None:
    if not w.too_old(ts, now, COUNT_WINDOW):
        w.add(buckets, ts)


def _move(buckets: dict[str, int], old: float, new: float, now: float) -> None:
    """Move one count from second ``old`` to ``new`` (a count too old to matter is left alone)."""
    if not w.too_old(old, now, COUNT_WINDOW):
        w.remove(buckets, old)
    _count(buckets, new, now)


def _record_resolution(state: dict[str, Any], resolved_at: float, opened_at: float, now: float) -> None:
    if w.too_old(resolved_at, now, MEDIAN_WINDOW):
        return
    resolutions: list[list[float]] = state["resolutions"]
    resolutions.append([resolved_at, facts.resolve_minutes(opened_at, resolved_at)])
    if len(resolutions) > MAX_RESOLUTIONS:
        resolutions.sort(key=lambda pair: pair[0])
        del resolutions[: len(resolutions) - MAX_RESOLUTIONS]


def _replace_resolution(state: dict[str, Any], old: tuple[float, float], new: tuple[float, float], now: float) -> None:
    """Swap the resolve time of (resolved, opened) ``old`` for ``new``.

    Only a late earlier opening or resolve of an already resolved ticket gets here (rare); the entry
    was appended when the ticket was resolved, so the search runs from the newest end.
    """
    resolved_at, minutes = old[0], facts.resolve_minutes(old[1], old[0])
    resolutions: list[list[float]] = state["resolutions"]
    for index in range(len(resolutions) - 1, -1, -1):
        pair = resolutions[index]
        if pair[0] == resolved_at and pair[1] == minutes:
            del resolutions[index]
            break
    _record_resolution(state, new[0], new[1], now)


def prune(state: dict[str, Any], now: float) -> None:
    w.prune_buckets(state["opened"], now - COUNT_WINDOW)
    w.prune_buckets(state["resolved"], now - COUNT_WINDOW)
    w.prune_times(state["closed"], now - TOMBSTONE_TTL, at=0)
    pending = state.setdefault("pending", {})
    for ticket_id in [k for k, record in pending.items() if record["status_at"][0] <= now - PENDING_TTL]:
        del pending[ticket_id]
    cutoff = now - MEDIAN_WINDOW
    state["resolutions"] = [pair for pair in state["resolutions"] if pair[0] > cutoff]


@dataclass
class TicketsSummary:
    """Ticket figures of a unit or of a roll-up; roll-ups merge unit summaries (sums, max, pooled median)."""

    open: int = 0
    opened_1h: int = 0
    resolved_1h: int = 0
    open_by_priority: dict[str, int] = field(default_factory=lambda: dict.fromkeys(PRIORITIES, 0))
    open_by_category: dict[str, int] = field(default_factory=dict)
    oldest_open_minutes: int | None = None
    # Per priority: minutes the oldest open ticket of that priority has been open (None: none open).
    oldest_open_minutes_by_priority: dict[str, int | None] = field(default_factory=lambda: dict.fromkeys(PRIORITIES))
    patient_safety_open: int = 0
    resolve_minutes: list[float] = field(default_factory=list)

    def merge(self, other: TicketsSummary) -> None:
        self.open += other.open
        self.opened_1h += other.opened_1h
        self.resolved_1h += other.resolved_1h
        # The dicts bound once: a roll-up merges every child's summary each time one of them changes.
        by_priority = self.open_by_priority
        for priority, n in other.open_by_priority.items():
            by_priority[priority] = by_priority.get(priority, 0) + n
        by_category = self.open_by_category
        for category, n in other.open_by_category.items():
            by_category[category] = by_category.get(category, 0) + n
        if other.oldest_open_minutes is not None:
            self.oldest_open_minutes = max(self.oldest_open_minutes or 0, other.oldest_open_minutes)
        oldest = self.oldest_open_minutes_by_priority
        for priority, minutes in other.oldest_open_minutes_by_priority.items():
            if minutes is not None:
                mine = oldest.get(priority)
                oldest[priority] = minutes if mine is None or minutes > mine else mine
        self.patient_safety_open += other.patient_safety_open
        self.resolve_minutes.extend(other.resolve_minutes)

    def block(self) -> dict[str, Any]:
        median = round(float(statistics.median(self.resolve_minutes)), 1) if self.resolve_minutes else None
        return {
            "open": self.open,
            "opened_1h": self.opened_1h,
            "resolved_1h": self.resolved_1h,
            "open_by_priority": dict(self.open_by_priority),
            "open_by_category": {c: n for c, n in sorted(self.open_by_category.items()) if n},
            "oldest_open_minutes": self.oldest_open_minutes,
            "oldest_open_minutes_by_priority": dict(self.oldest_open_minutes_by_priority),
            "patient_safety_open": self.patient_safety_open,
            "median_minutes_to_resolve_24h": median,
            "resolutions_24h": len(self.resolve_minutes),
        }


def view(state: dict[str, Any]) -> dict[str, Any]:
    """The read side's part of a state: open tickets counted rather than listed, no tombstones.

    The worker publishes this after every batch (once for a backlog's batches); the whole state, with every open
    ticket, goes to the changelog only at checkpoints. ``summarize`` gives the same figures for both.
    """
    return merged_view((state,))


def merged_view(parts: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One unit's :func:`view` from the states of its parts, in one pass: counts and buckets added, the oldest
    kept; the 24 h resolve times keep the newest :data:`MAX_RESOLUTIONS`, the same safety valve as one state's.

    No view of each part is built first: at 2,000 units a batch of 1,000 events merged about 17 parts for each
    of 300 units, and building those views was the largest cost of the worker's batch after decoding.
    """
    by_priority: dict[str, int] = {}
    by_category: dict[str, int] = {}
    oldest_by_priority: dict[str, float] = {}
    patient_safety = 0
    for state in parts:
        for ticket in state.get("open", {}).values():
            priority = str(ticket["priority"])
            by_priority[priority] = by_priority.get(priority, 0) + 1
            category = ticket["category"]
            by_category[category] = by_category.get(category, 0) + 1
            if ticket.get("patient_safety"):
                patient_safety += 1
            opened_at = ticket["opened_at"]
            if priority not in oldest_by_priority or opened_at < oldest_by_priority[priority]:
                oldest_by_priority[priority] = opened_at
    if len(parts) == 1:  # one state's own buckets and list (the view is encoded before the state changes again)
        opened: dict[str, int] = parts[0].get("opened", {})
        resolved: dict[str, int] = parts[0].get("resolved", {})
        resolutions: list[list[float]] = parts[0].get("resolutions", [])
    else:
        opened, resolved, resolutions = {}, {}, []
        for state in parts:
            for second, n in state.get("opened", {}).items():
                opened[second] = opened.get(second, 0) + n
            for second, n in state.get("resolved", {}).items():
                resolved[second] = resolved.get(second, 0) + n
            resolutions.extend(state.get("resolutions", ()))
        if len(resolutions) > MAX_RESOLUTIONS:
            resolutions.sort(key=lambda pair: pair[0])
            del resolutions[: len(resolutions) - MAX_RESOLUTIONS]
    return {
        "v": 1,
        "open_summary": {
            "by_priority": by_priority,
            "by_category": by_category,
            "patient_safety": patient_safety,
            "oldest_by_priority": oldest_by_priority,
        },
        "opened": opened,
        "resolved": resolved,
        "resolutions": resolutions,
    }


def summarize(state: dict[str, Any] | None, now: float) -> TicketsSummary:
    """Figures of one unit from its state or its :func:`view`."""
    summary = TicketsSummary()
    if not state:
        return summary
    if "open_summary" not in state:
        state = view(state)
    open_summary = state["open_summary"]
    for priority, n in open_summary["by_priority"].items():
        summary.open += n
        summary.open_by_priority[priority] = summary.open_by_priority.get(priority, 0) + n
    summary.open_by_category = dict(open_summary["by_category"])
    summary.patient_safety_open = open_summary["patient_safety"]
    oldest_by_priority: dict[str, float] = open_summary["oldest_by_priority"]
    if oldest_by_priority:
        summary.oldest_open_minutes = w.floor_minutes(now - min(oldest_by_priority.values()))
    for priority, opened_at in oldest_by_priority.items():
        summary.oldest_open_minutes_by_priority[priority] = w.floor_minutes(now - opened_at)
    summary.opened_1h = w.count(state.get("opened", {}), now, COUNT_WINDOW)
    summary.resolved_1h = w.count(state.get("resolved", {}), now, COUNT_WINDOW)
    summary.resolve_minutes = w.values_in_window(state.get("resolutions", []), now, MEDIAN_WINDOW)
    return summary


def changes_at(state: dict[str, Any] | None, now: float) -> float:
    """When :func:`summarize` of this state first gives other figures after ``now`` with no new event.

    The 1 h counts' and the 24 h resolve times' window edges, and the next whole minute of each
    priority's oldest open ticket; ``math.inf`` when nothing moves with the clock.
    """
    if not state:
        return math.inf
    if "open_summary" not in state:
        state = view(state)
    oldest: dict[str, float] = state["open_summary"]["oldest_by_priority"]
    return min(
        min((w.next_minute(opened_at, now) for opened_at in oldest.values()), default=math.inf),
        w.next_bucket_change(state.get("opened", {}), now, COUNT_WINDOW),
        w.next_bucket_change(state.get("resolved", {}), now, COUNT_WINDOW),
        w.next_window_change((pair[0] for pair in state.get("resolutions", [])), now, MEDIAN_WINDOW),
    )
