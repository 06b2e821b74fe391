"""Per-(unit, family) aggregate state: pure functions over JSON-safe dicts, no broker involved.

The worker keeps one state dict per (unit_id, family), folds each new event in with
:func:`apply_event` and publishes its :func:`state_view`; the gateway summarises the views at read
time (:mod:`hypercare.situation.rollup`). Each family module owns its state layout and its read-side summary.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from types import ModuleType
from typing import Any

from hypercare.contract.events import Event
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


__all__ = ["STATEFUL_FAMILIES", "access", "apply_event", "ed", "floorwalkers", "new_state", "state_view", "tickets"]
