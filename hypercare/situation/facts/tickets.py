"""A ticket's lifecycle, folded once: the rules the live worker, the ticket list, the stop criteria
and the daily report all use.

Rules (settled here, nowhere else):

- **Identity** is ``(unit_id, ticket_id)``: the events of a ticket carry the unit it was opened at.
  The worker partitions by unit and cannot join units, so every reader keys tickets the same way.
- **As of T** only events with ``occurred_at <= T`` count (readers with a half-open period pass the
  events before its end and no ``as_of``).
- **Duplicates**: the same ``event_id`` is the same event and counts once.
- **Order**: every field is decided by the event order ``(occurred_at, event_id)``
  (:mod:`hypercare.situation.facts.order`), never by arrival, so reordered events change nothing.
  Each field is a register that only ever moves one way, which makes the fold commutative and
  idempotent:

  - *opened*: the earliest ``ticket.opened``; it also fixes ``patient_safety``, ``channel`` and
    ``summary`` (a later opening of the same ticket is a resend, not a new ticket);
  - *priority*, *category*: the latest event that carries one (an opening or an update);
  - *status*: the latest ``ticket.updated``'s status, shown as ``resolved`` once resolved;
  - *resolved*: the earliest ``ticket.resolved``.
- **Open at T**: opened and not resolved. A resolve is final: there is no reopen in contract v1, so
  an update or a second resolve after the resolve never reopens the ticket (a later update may still
  change the priority or category shown for the resolved ticket). A resolve that occurred before its
  opening (clock skew) still closes it, with 0 minutes to resolve.
- **Resolved counts** include resolves whose opening was never seen (the service desk did resolve
  a ticket); a time to resolve needs both ends.

The live worker keeps :func:`new_record` records in its unit state and folds them with
:func:`absorb`; the other readers call :func:`fold_tickets` over stored events, except the ticket counts
of the daily report and the stop criteria, which the database computes under these same rules
(``services.stop_criteria.measures.ticket_facts``, tested against :func:`fold_tickets`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from hypercare.contract.events import Event, TicketOpened, TicketResolved, TicketUpdated
from hypercare.situation.facts.order import OrderKey, after, before, order_key

TicketEvent = TicketOpened | TicketUpdated | TicketResolved
TicketKey = tuple[str, str]  # (unit_id, ticket_id)
TICKET_EVENT_TYPES = ("ticket.opened", "ticket.updated", "ticket.resolved")


def new_record() -> dict[str, Any]:
    """A ticket's registers, JSON-safe (the live state stores them as they are)."""
    return {
        "opened_at": None,
        "opened_id": "",
        "patient_safety": False,
        "priority": None,
        "priority_at": None,
        "category": None,
        "category_at": None,
        "status": "open",
        "status_at": None,
        "resolved_at": None,
        "resolved_id": "",
    }


def opened_key(record: dict[str, Any]) -> OrderKey | None:
    opened_at = record.get("opened_at")
    return None if opened_at is None else (float(opened_at), str(record.get("opened_id", "")))


def resolved_key(record: dict[str, Any]) -> OrderKey | None:
    resolved_at = record.get("resolved_at")
    return None if resolved_at is None else (float(resolved_at), str(record.get("resolved_id", "")))


def absorb(record: dict[str, Any], event: TicketEvent) -> None:
    """Fold one ticket event into ``record`` in place: the rules of this module, order-free."""
    key = order_key(event)
    if isinstance(event, TicketOpened):
        if before(key, opened_key(record)):
            record["opened_at"], record["opened_id"] = key
            record["patient_safety"] = event.patient_safety
        _set_latest(record, "priority", event.priority, key)
        _set_latest(record, "category", event.category, key)
    elif isinstance(event, TicketUpdated):
        _set_latest(record, "status", event.status, key)
        if event.priority is not None:
            _set_latest(record, "priority", event.priority, key)
        if event.category is not None:
            _set_latest(record, "category", event.category, key)
    elif before(key, resolved_key(record)):
        record["resolved_at"], record["resolved_id"] = key


def _set_latest(record: dict[str, Any], name: str, value: Any, key: OrderKey) -> None:
    if after(key, record.get(f"{name}_at")):
        record[name] = value
        record[f"{name}_at"] = [key[0], key[1]]


def is_open(record: dict[str, Any]) -> bool:
    return record.get("opened_at") is not None and record.get("resolved_at") is None


def resolve_minutes(opened_at: float, resolved_at: float) -> float:
    """Minutes from opening to resolve, never negative, to two decimals (every reader's rounding)."""
    return round(max(0.0, resolved_at - opened_at) / 60, 2)


def _moment(ts: float | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC)


@dataclass(frozen=True)
class Ticket:
    """One ticket as known at the fold's moment."""

    unit_id: str
    ticket_id: str
    event_id: str | None  # the opening event (its stored payload carries the redacted summary)
    opened_at: datetime | None
    channel: str | None
    summary: str | None
    patient_safety: bool
    priority: int | None
    category: str | None
    status: str  # open, in_progress, waiting, escalated or resolved
    updated_at: datetime | None
    resolved_at: datetime | None

    @property
    def is_open(self) -> bool:
        return self.opened_at is not None and self.resolved_at is None

    @property
    def minutes_to_resolve(self) -> float | None:
        if self.opened_at is None or self.resolved_at is None:
            return None
        return resolve_minutes(self.opened_at.timestamp(), self.resolved_at.timestamp())


def fold_tickets(events: Iterable[Event], *, as_of: datetime | None = None) -> dict[TicketKey, Ticket]:
    """Every ticket with an event among ``events`` (at or before ``as_of``), by ``(unit_id, ticket_id)``."""
    records: dict[TicketKey, dict[str, Any]] = {}
    openings: dict[TicketKey, TicketOpened] = {}
    seen: set[str] = set()
    for event in events:
        if not isinstance(event, TicketOpened | TicketUpdated | TicketResolved):
            continue
        if (as_of is not None and event.occurred_at > as_of) or event.event_id in seen:
            continue
        seen.add(event.event_id)
        key = (event.unit_id, event.ticket_id)
        record = records.get(key)
        if record is None:
            record = records[key] = new_record()
        absorb(record, event)
        if isinstance(event, TicketOpened):
            first = openings.get(key)
            if first is None or order_key(event) < order_key(first):
                openings[key] = event
    return {key: _ticket(key, record, openings.get(key)) for key, record in records.items()}


def _ticket(key: TicketKey, record: dict[str, Any], opening: TicketOpened | None) -> Ticket:
    resolved_at = record["resolved_at"]
    status_at = record["status_at"]
    return Ticket(
        unit_id=key[0],
        ticket_id=key[1],
        event_id=opening.event_id if opening is not None else None,
        opened_at=_moment(record["opened_at"]),
        channel=opening.channel if opening is not None else None,
        summary=opening.summary if opening is not None else None,
        patient_safety=bool(record["patient_safety"]),
        priority=record["priority"],
        category=record["category"],
        status="resolved" if resolved_at is not None else str(record["status"]),
        updated_at=_moment(status_at[0]) if status_at is not None else None,
        resolved_at=_moment(resolved_at),
    )


@dataclass
class TicketCounts:
    """The ticket figures every reader reports, from one set of folded tickets."""

    open: int = 0
    open_p1: int = 0
    patient_safety_open: int = 0
    open_by_priority: dict[int, int] = field(default_factory=dict)
    opened: int = 0
    resolved: int = 0


def count_tickets(
    tickets: Iterable[Ticket], *, since: datetime | None = None, until: datetime | None = None
) -> TicketCounts:
    """Open figures of ``tickets`` and openings/resolves inside ``[since, until)`` (unbounded if None)."""

    def inside(moment: datetime | None) -> bool:
        return moment is not None and (since is None or moment >= since) and (until is None or moment < until)

    counts = TicketCounts()
    for ticket in tickets:
        if ticket.is_open:
            counts.open += 1
            counts.open_p1 += ticket.priority == 1
            counts.patient_safety_open += ticket.patient_safety
            if ticket.priority is not None:
                counts.open_by_priority[ticket.priority] = counts.open_by_priority.get(ticket.priority, 0) + 1
        counts.opened += inside(ticket.opened_at)
        counts.resolved += inside(ticket.resolved_at)
    return counts
