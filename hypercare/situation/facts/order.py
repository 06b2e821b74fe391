"""The one order of events: event time first, the event id breaks ties.

Arrival order never decides anything: two events are compared by ``(occurred_at, event_id)``, so
every reader, whatever order it reads the log in, picks the same "latest" or "earliest" event.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hypercare.contract.events import Envelope

# (occurred_at as epoch seconds, event_id); stored as a two-item list in JSON-safe states.
OrderKey = tuple[float, str]


def order_key(event: Envelope) -> OrderKey:
    return (event.occurred_at.timestamp(), event.event_id)


def as_key(value: Sequence[Any] | None) -> OrderKey | None:
    """A key read back from a JSON-safe state (``[ts, event_id]``), or None."""
    if value is None:
        return None
    return (float(value[0]), str(value[1]) if len(value) > 1 else "")


def after(candidate: OrderKey, current: Sequence[Any] | None) -> bool:
    """True when ``candidate`` is later than ``current`` (or there is no current)."""
    known = as_key(current)
    return known is None or candidate > known


def before(candidate: OrderKey, current: Sequence[Any] | None) -> bool:
    """True when ``candidate`` is earlier than ``current`` (or there is no current)."""
    known = as_key(current)
    return known is None or candidate < known
