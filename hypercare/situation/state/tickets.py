"""Ticket state of one unit, and its read-side summary.

State (JSON-safe, bounded by the windows except for genuinely open tickets)::

    {"v": 1,
     "open": {ticket_id: {"opened_at": epoch, "priority": 1-4, "category": str,
                          "patient_safety": bool, "status": "open"|..., "updated_at": epoch|None}},
     "closed": {ticket_id: [resolved_epoch, matched 0|1]},   # tombstones, 24 h
     "opened": {"<second>": n}, "resolved": {"<second>": n},   # 1 h buckets
     "resolutions": [[resolved_epoch, minutes], ...],          # 24 h, for the median
     "pruned_at": epoch|None}

A tombstone keeps a late ``ticket.opened`` (after its ``resolved``) from reopening the ticket; an
unmatched tombstone (resolved before we saw the opening) still yields a resolve time once the
opening arrives.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

from hypercare.contract.events import Event, TicketOpened, TicketResolved, TicketUpdated
from hypercare.situation.state import windows as w

COUNT_WINDOW = w.HOUR
MEDIAN_WINDOW = w.DAY
TOMBSTONE_TTL = w.DAY
# Safety valve for one unit's 24 h of resolve times (the median stays exact below it).
MAX_RESOLUTIONS = 20_000
PRIORITIES = ("1", "2", "3", "4")


def new_state() -> dict[str, Any]:
    return {"v": 1, "open": {}, "closed": {}, "opened": {}, "resolved": {}, "resolutions": [], "pruned_at": None}


def apply(state: dict[str, Any], event: Event, now: float) -> None:
    ts = event.occurred_at.timestamp()
    if isinstance(event, TicketOpened):
        _opened(state, event, ts, now)
    elif isinstance(event, TicketUpdated):
        _updated(state, event, ts)
    elif isinstance(event, TicketResolved):
        _resolved(state, event, ts, now)
    else:
        raise ValueError(f"{event.type} is not a ticket event")
    if w.prune_due(state, now):
        prune(state, now)


def _opened(state: dict[str, Any], event: TicketOpened, ts: float, now: float) -> None:
    ticket_id = event.ticket_id
    if ticket_id in state["open"]:
        return  # a second opening of the same ticket is not a new ticket
    tombstone = state["closed"].get(ticket_id)
    if tombstone is not None:
        resolved_at, matched = tombstone
        if matched:
            return  # resolved after an opening we already counted: a resend, not a new ticket
        tombstone[1] = 1  # the opening arrived after its resolution: count it, never reopen
        _record_resolution(state, resolved_at, ts, now)
    if not w.too_old(ts, now, COUNT_WINDOW):
        w.add(state["opened"], ts)
    if tombstone is not None:
        return
    state["open"][ticket_id] = {
        "opened_at": ts,
        "priority": event.priority,
        "category": event.category,
        "patient_safety": event.patient_safety,
        "status": "open",
        "updated_at": None,
    }


def _updated(state: dict[str, Any], event: TicketUpdated, ts: float) -> None:
    ticket = state["open"].get(event.ticket_id)
    if ticket is None:
        return  # unknown or already resolved: nothing to update
    last = ticket.get("updated_at")
    if last is not None and ts < last:
        return  # an older update arriving late never overrides a newer one
    ticket["updated_at"] = ts
    ticket["status"] = event.status
    if event.priority is not None:
        ticket["priority"] = event.priority
    if event.category is not None:
        ticket["category"] = event.category


def _resolved(state: dict[str, Any], event: TicketResolved, ts: float, now: float) -> None:
    ticket_id = event.ticket_id
    if ticket_id in state["closed"]:
        return  # already resolved once
    ticket = state["open"].pop(ticket_id, None)
    if not w.too_old(ts, now, COUNT_WINDOW):
        w.add(state["resolved"], ts)
    state["closed"][ticket_id] = [ts, 0 if ticket is None else 1]
    if ticket is not None:
        _record_resolution(state, ts, ticket["opened_at"], now)


def _record_resolution(state: dict[str, Any], resolved_at: float, opened_at: float, now: float) -> None:
    if w.too_old(resolved_at, now, MEDIAN_WINDOW):
        return
    minutes = round(max(0.0, resolved_at - opened_at) / w.MINUTE, 2)
    resolutions: list[list[float]] = state["resolutions"]
    resolutions.append([resolved_at, minutes])
    if len(resolutions) > MAX_RESOLUTIONS:
        resolutions.sort(key=lambda pair: pair[0])
        del resolutions[: len(resolutions) - MAX_RESOLUTIONS]


def prune(state: dict[str, Any], now: float) -> None:
    w.prune_buckets(state["opened"], now - COUNT_WINDOW)
    w.prune_buckets(state["resolved"], now - COUNT_WINDOW)
    w.prune_times(state["closed"], now - TOMBSTONE_TTL, at=0)
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
        for priority, n in other.open_by_priority.items():
            self.open_by_priority[priority] = self.open_by_priority.get(priority, 0) + n
        for category, n in other.open_by_category.items():
            self.open_by_category[category] = self.open_by_category.get(category, 0) + n
        if other.oldest_open_minutes is not None:
            self.oldest_open_minutes = max(self.oldest_open_minutes or 0, other.oldest_open_minutes)
        for priority, minutes in other.oldest_open_minutes_by_priority.items():
            if minutes is not None:
                mine = self.oldest_open_minutes_by_priority.get(priority)
                self.oldest_open_minutes_by_priority[priority] = minutes if mine is None else max(mine, minutes)
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

    The worker publishes this after every batch; the whole state, with every open ticket, goes to
    the changelog only at checkpoints. ``summarize`` gives the same figures for both.
    """
    by_priority: dict[str, int] = {}
    by_category: dict[str, int] = {}
    oldest_by_priority: dict[str, float] = {}
    patient_safety = 0
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
    return {
        "v": 1,
        "open_summary": {
            "by_priority": by_priority,
            "by_category": by_category,
            "patient_safety": patient_safety,
            "oldest_by_priority": oldest_by_priority,
        },
        "opened": state.get("opened", {}),
        "resolved": state.get("resolved", {}),
        "resolutions": state.get("resolutions", []),
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
    summary.resolve_minutes = [
        minutes for resolved_at, minutes in state.get("resolutions", []) if w.in_window(resolved_at, now, MEDIAN_WINDOW)
    ]
    return summary
