"""Floor-walker presence, folded once: the live picture and the daily report use these rules.

Rules:

- **Where a walker is** is decided by their latest floor-walker event anywhere, ordered by
  ``(occurred_at, a check-in after a checkout, event_id)`` and then the unit id: at one second a
  check-in beats a checkout ("out of A, into B"), and nothing depends on arrival or dict order.
- **Present at T** on a unit: that latest event (at or before T) is a check-in there, no older
  than the presence window and than :data:`WALKER_TTL`.
- **On the unit or on a break**: a present walker whose latest check-in says ``break`` is on a
  break, counted apart (``on_break``), never in ``on_unit``.
- **A visit** is a check-in that is not a break, or a checkout (the walker was there until then):
  "minutes since the last visit" and the report's "units visited" count visits only.
- The same ``event_id`` counts once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hypercare.contract.events import Event, FloorwalkerCheckin, FloorwalkerCheckout

WALKER_TTL = 24 * 60 * 60.0
BREAK = "break"

WalkerEvent = FloorwalkerCheckin | FloorwalkerCheckout


def new_walker() -> dict[str, Any]:
    """One walker's registers on one unit, JSON-safe (the live floor-walker state keeps them)."""
    return {
        "last": None,
        "last_id": "",
        "checked_out": False,
        "status": None,
        "checkin_at": None,
        "checkin_id": "",
        "needs_escalation": False,
    }


def _last_key(walker: Mapping[str, Any]) -> tuple[float, bool, str] | None:
    last = walker.get("last")
    return None if last is None else (float(last), not walker["checked_out"], str(walker.get("last_id", "")))


def absorb(walker: dict[str, Any], event: WalkerEvent) -> None:
    """Fold one of the walker's events on this unit into ``walker`` in place (order-free)."""
    ts = event.occurred_at.timestamp()
    checkin = isinstance(event, FloorwalkerCheckin)
    current = _last_key(walker)
    if current is None or (ts, checkin, event.event_id) > current:
        walker["last"], walker["checked_out"], walker["last_id"] = ts, not checkin, event.event_id
    if isinstance(event, FloorwalkerCheckin):
        known = walker.get("checkin_at")
        if known is None or (ts, event.event_id) > (known, str(walker.get("checkin_id", ""))):
            walker["checkin_at"], walker["checkin_id"] = ts, event.event_id
            walker["status"] = event.status
            walker["needs_escalation"] = event.needs_escalation


def is_visit(event: WalkerEvent) -> bool:
    return isinstance(event, FloorwalkerCheckout) or event.status != BREAK


def on_break(walker: Mapping[str, Any]) -> bool:
    return walker.get("status") == BREAK


@dataclass
class UnitPresence:
    """Walkers present on one unit, split by what their latest check-in says."""

    on_unit: set[str] = field(default_factory=set)
    on_break: set[str] = field(default_factory=set)


def join(
    unit_walkers: Mapping[str, Mapping[str, Mapping[str, Any]]], now: float, presence_seconds: float
) -> dict[str, UnitPresence]:
    """Walkers present per unit at ``now``, from every unit's ``{walker_id: walker}`` (the cross-unit join)."""
    best: dict[str, tuple[tuple[float, bool, str], str, Mapping[str, Any]]] = {}
    cutoff = now - WALKER_TTL
    for unit_id, walkers in unit_walkers.items():
        for walker_id, walker in walkers.items():
            key = _last_key(walker)
            if key is None or key[0] <= cutoff:
                continue
            current = best.get(walker_id)
            if current is None or (key, unit_id) > (current[0], current[1]):
                best[walker_id] = (key, unit_id, walker)
    present: dict[str, UnitPresence] = {}
    for walker_id, ((last, checked_in, _), unit_id, walker) in best.items():
        if checked_in and now - last <= presence_seconds:
            here = present.setdefault(unit_id, UnitPresence())
            (here.on_break if on_break(walker) else here.on_unit).add(walker_id)
    return present


def fold_presence(
    events: Iterable[Event], *, as_of: datetime, presence_seconds: float
) -> tuple[dict[str, UnitPresence], dict[str, float]]:
    """Presence per unit at ``as_of``, and each unit's latest visit (epoch seconds) at or before it."""
    unit_walkers: dict[str, dict[str, dict[str, Any]]] = {}
    last_visit: dict[str, float] = {}
    seen: set[str] = set()
    for event in events:
        if not isinstance(event, FloorwalkerCheckin | FloorwalkerCheckout):
            continue
        if event.occurred_at > as_of or event.event_id in seen:
            continue
        seen.add(event.event_id)
        walkers = unit_walkers.setdefault(event.unit_id, {})
        absorb(walkers.setdefault(event.walker_id, new_walker()), event)
        if is_visit(event):
            ts = event.occurred_at.timestamp()
            last_visit[event.unit_id] = max(ts, last_visit.get(event.unit_id, ts))
    return join(unit_walkers, as_of.timestamp(), presence_seconds), last_visit
