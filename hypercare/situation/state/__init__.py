"""Per-(unit, family) aggregate state: pure functions over JSON-safe dicts, no broker involved.

The worker keeps one state dict per (unit_id, family), folds each new event in with
:func:`apply_event` and publishes its :func:`state_view`; the gateway summarises the views at read
time (:mod:`hypercare.situation.rollup`). Each family module owns its state layout and its read-side summary.

A family whose state grows with real open work (tickets) is kept in parts, each one state value under
its own :func:`store_key` (one changelog record each, so none outgrows the producer's request limit);
:func:`part_of` says which part folds an event and :func:`unit_view` adds the parts into one view.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from types import ModuleType
from typing import Any

from hypercare.contract.events import Event, TicketOpened, TicketResolved, TicketUpdated
from hypercare.situation.state import access, ed, floorwalkers, tickets

_MODULES: dict[str, ModuleType] = {
    "tickets": tickets,
    "access": access,
    "floorwalkers": floorwalkers,
    "ed": ed,
}
# Families with a live aggregate per unit. Others (coordination) are only stored: the event store is their
# record, and storing is idempotent by event_id, so a replay after a crash cannot count anything twice.
STATEFUL_FAMILIES: frozenset[str] = frozenset(_MODULES)
_APPLY: dict[str, Callable[[dict[str, Any], Event, float], None]] = {
    family: module.apply for family, module in _MODULES.items()
}
_VIEW: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    family: module.view for family, module in _MODULES.items() if hasattr(module, "view")
}


def _module(family: str) -> ModuleType:
    try:
        return _MODULES[family]
    except KeyError:
        raise ValueError(f"unknown event family {family!r}") from None


def new_state(family: str) -> dict[str, Any]:
    """A fresh, empty state for one unit of ``family``."""
    state: dict[str, Any] = _module(family).new_state()
    return state


def state_view(family: str, state: dict[str, Any]) -> dict[str, Any]:
    """The part of a state the read side summarises (the whole state where a family has no ``view``)."""
    _module(family)
    view = _VIEW.get(family)
    return view(state) if view is not None else state


def parts(family: str) -> int:
    """How many parts a unit's state of ``family`` is kept in (0: one state under the unit id)."""
    return tickets.PARTS if family == "tickets" else 0


def part_of(family: str, event: Event) -> int | None:
    """The part of the unit's ``family`` state that folds ``event`` (None: the one state)."""
    if family == "tickets" and isinstance(event, TicketOpened | TicketUpdated | TicketResolved):
        return tickets.part_of(event.ticket_id)
    return None


def holds(family: str, state: dict[str, Any], event: Event) -> bool:
    """Whether a one-value unit state of before already folds the thing ``event`` is about (kept there)."""
    if family == "tickets" and isinstance(event, TicketOpened | TicketUpdated | TicketResolved):
        return tickets.holds(state, event.ticket_id)
    return True


def store_key(unit_id: str, part: int | None) -> str:
    """The key of one part of a unit's state (the unit id itself for a state kept whole)."""
    return unit_id if part is None else f"{unit_id}#{part}"


def split_key(key: str) -> tuple[str, int | None]:
    """The unit id and part of a :func:`store_key` (unit ids never hold ``#``: the contract's id pattern)."""
    unit_id, sep, part = key.rpartition("#")
    return (unit_id, int(part)) if sep else (key, None)


def unit_view(family: str, states: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The read-side view of one unit from its state's parts (a whole state is its only part)."""
    if family == "tickets":
        return tickets.merged_view(states)  # no parts: every figure zero, as an empty state's view
    if len(states) != 1:
        raise ValueError(f"a {family} state is kept whole, not in {len(states)} parts")
    return state_view(family, states[0])


def apply_event(family: str, state: dict[str, Any], event: Event, *, now: datetime) -> None:
    """Fold one event into ``state`` in place; ``now`` (aware, wall clock) only decides pruning.

    Deterministic: the same state, event and ``now`` always give the same result.
    """
    apply = _APPLY.get(family)
    if apply is None:
        raise ValueError(f"unknown event family {family!r}")
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    apply(state, event, now.timestamp())


__all__ = [
    "STATEFUL_FAMILIES",
    "access",
    "apply_event",
    "ed",
    "floorwalkers",
    "holds",
    "new_state",
    "part_of",
    "parts",
    "split_key",
    "state_view",
    "store_key",
    "tickets",
    "unit_view",
]
