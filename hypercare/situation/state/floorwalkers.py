"""Floor-walker state of one unit, the cross-unit presence join, and the read-side summary.

State::

    {"v": 1,
     "walkers": {walker_id: {"last": epoch of their latest event here, "last_id": its event id,
                             "checked_out": bool (latest event here is a checkout),
                             "status": status of their latest check-in here | None,
                             "checkin_at": epoch of that check-in | None, "checkin_id": its event id,
                             "needs_escalation": flag of that check-in}},   # dropped after 24 h
     "last_visit": epoch of the latest visit here (a check-in that is not a break, or a checkout) | None,
     "assists": {"<second>": n}, "assists_by_category": {category: {"<second>": n}},  # 1 h
     "pruned_at": epoch|None}

Where a walker *is* cannot be decided per unit: their latest event across all units wins, so
:func:`presence` joins the unit states at read time. The walker records and the join are the shared
fold's (:mod:`hypercare.situation.facts.presence`): a walker whose latest check-in says ``break`` is
counted in ``on_break``, not in ``on_unit`` (before, ``on_unit`` counted them too), and a break
check-in is not a visit.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hypercare.contract.events import Event, FloorwalkerCheckin, FloorwalkerCheckout
from hypercare.situation.facts import presence as presence_facts
from hypercare.situation.state import windows as w

FAMILY = "floorwalkers"
ASSIST_WINDOW = w.HOUR
WALKER_TTL = presence_facts.WALKER_TTL


def new_state() -> dict[str, Any]:
    return {"v": 1, "walkers": {}, "last_visit": None, "assists": {}, "assists_by_category": {}, "pruned_at": None}


def apply(state: dict[str, Any], event: Event, now: float) -> None:
    if not isinstance(event, FloorwalkerCheckin | FloorwalkerCheckout):
        raise ValueError(f"{event.type} is not a floor-walker event")
    ts = event.occurred_at.timestamp()
    walker = state["walkers"].get(event.walker_id)
    if walker is None:
        walker = state["walkers"][event.walker_id] = presence_facts.new_walker()
    presence_facts.absorb(walker, event)
    if presence_facts.is_visit(event) and (state["last_visit"] is None or ts > state["last_visit"]):
        state["last_visit"] = ts
    if isinstance(event, FloorwalkerCheckin) and not w.too_old(ts, now, ASSIST_WINDOW):
        if event.assists:
            w.add(state["assists"], ts, event.assists)
        by_category = state["assists_by_category"]
        for category in dict.fromkeys(event.categories):  # each listed category once per check-in
            w.add(by_category.setdefault(category, {}), ts)
    if w.prune_due(state, now):
        prune(state, now)


def prune(state: dict[str, Any], now: float) -> None:
    cutoff = now - WALKER_TTL
    walkers = state["walkers"]
    for walker_id in [k for k, v in walkers.items() if v["last"] <= cutoff]:
        del walkers[walker_id]
    w.prune_buckets(state["assists"], now - ASSIST_WINDOW)
    w.prune_nested(state["assists_by_category"], now - ASSIST_WINDOW)


def presence(
    unit_states: Mapping[str, Mapping[str, Mapping[str, Any]]], now: float, presence_seconds: float
) -> dict[str, set[str]]:
    """Walkers present on each unit now, on the unit or on a break (:func:`summarize` splits them).

    The rules are the shared fold's (:mod:`hypercare.situation.facts.presence`).
    """
    walkers = {
        unit_id: state.get("walkers", {})
        for unit_id, families in unit_states.items()
        if (state := families.get(FAMILY))
    }
    return {
        unit_id: here.on_unit | here.on_break
        for unit_id, here in presence_facts.join(walkers, now, presence_seconds).items()
    }


@dataclass
class FloorwalkersSummary:
    """Floor-walker figures of a unit or a roll-up (sums; the longest time since a visit)."""

    on_unit: int = 0  # present, latest check-in not a break
    on_break: int = 0  # present, latest check-in says break: counted apart, never in on_unit
    open_escalations: int = 0
    minutes_since_last_visit: int | None = None
    last_visit_at: float | None = None
    units_never_visited: int = 0
    assists: int = 0
    assists_by_category: dict[str, int] = field(default_factory=dict)

    def merge(self, other: FloorwalkersSummary) -> None:
        self.on_unit += other.on_unit
        self.on_break += other.on_break
        self.open_escalations += other.open_escalations
        if other.minutes_since_last_visit is not None:
            self.minutes_since_last_visit = max(self.minutes_since_last_visit or 0, other.minutes_since_last_visit)
        if other.last_visit_at is not None:
            self.last_visit_at = max(self.last_visit_at or other.last_visit_at, other.last_visit_at)
        self.units_never_visited += other.units_never_visited
        self.assists += other.assists
        for category, n in other.assists_by_category.items():
            self.assists_by_category[category] = self.assists_by_category.get(category, 0) + n

    def block(self, *, rollup: bool) -> dict[str, Any]:
        block: dict[str, Any] = {
            "on_unit": self.on_unit,
            "on_break": self.on_break,
            "minutes_since_last_visit": self.minutes_since_last_visit,
            "open_escalations": self.open_escalations,
            "assists_1h": self.assists,
            "assists_by_category_1h": {c: n for c, n in sorted(self.assists_by_category.items()) if n},
        }
        if rollup:
            block["units_never_visited"] = self.units_never_visited
        else:
            block["last_visit_at"] = w.iso(self.last_visit_at) if self.last_visit_at is not None else None
        return block


def summarize(state: dict[str, Any] | None, now: float, present: set[str] | None) -> FloorwalkersSummary:
    """One unit; ``present`` is this unit's entry of :func:`presence` (on the unit or on a break)."""
    summary = FloorwalkersSummary()
    walkers = state.get("walkers", {}) if state else {}
    for walker_id in present or ():
        walker = walkers.get(walker_id)
        if walker is not None and presence_facts.on_break(walker):
            summary.on_break += 1
        else:
            summary.on_unit += 1
    last_visit = state.get("last_visit") if state else None
    if summary.on_unit:
        summary.minutes_since_last_visit = 0
    elif last_visit is not None:
        summary.minutes_since_last_visit = w.floor_minutes(now - last_visit)
    summary.last_visit_at = last_visit
    if last_visit is None and not summary.on_unit:
        summary.units_never_visited = 1
    if not state:
        return summary
    cutoff = now - WALKER_TTL
    summary.open_escalations = sum(
        1 for walker in state.get("walkers", {}).values() if walker["needs_escalation"] and walker["last"] > cutoff
    )
    summary.assists = w.count(state.get("assists", {}), now, ASSIST_WINDOW)
    for category, buckets in state.get("assists_by_category", {}).items():
        n = w.count(buckets, now, ASSIST_WINDOW)
        if n:
            summary.assists_by_category[category] = n
    return summary


def changes_at(state: dict[str, Any] | None, now: float, presence_seconds: float) -> float:
    """When :func:`summarize` of this unit first gives other figures after ``now`` with no new event.

    The next whole minute since the last visit, the assists' window edges, and for every walker here
    the moments their presence window and their 24 h record end (presence is decided by the walker's
    latest record anywhere, and only the unit holding it can lose them by the clock; the other units'
    records of that walker are older and end no later). ``math.inf`` when none.
    """
    if not state:
        return math.inf
    moments = [w.next_bucket_change(state.get("assists", {}), now, ASSIST_WINDOW)]
    moments.extend(
        w.next_bucket_change(buckets, now, ASSIST_WINDOW) for buckets in state.get("assists_by_category", {}).values()
    )
    last_visit = state.get("last_visit")
    if last_visit is not None:
        moments.append(w.next_minute(last_visit, now))
    for walker in state.get("walkers", {}).values():
        last = walker["last"]
        if last is None:
            continue
        if last > now - WALKER_TTL:
            moments.append(last + WALKER_TTL)
        if now - last <= presence_seconds:
            moments.append(last + presence_seconds)
    return min(moments)
