"""The figures behind the stop criteria, counted from the event store as it stood at a moment ``at``.

Only events with ``occurred_at <= at`` count, so the same call gives the same figures later: the daily
report can freeze them, and a decision can be stamped with them. Tickets and diversions are folded by
the shared folds (:mod:`hypercare.situation.facts`), the same rules as the live picture and the report.
Each figure is per unit and summed into administrations and the region by the caller
(:mod:`services.stop_criteria.evaluate`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, case, func, select, true

from hypercare.contract.events import Event, stored_event
from hypercare.situation.facts.diversions import Diversion, DiversionKey, fold_diversions, hours_per_unit
from hypercare.situation.facts.tickets import Ticket, fold_tickets
from hypercare.storage.db import Database
from hypercare.storage.models import StoredEvent
from services.console_api.sql import TICKET_TYPES, payload_int, payload_text

LOGIN_WINDOW = timedelta(minutes=15)


@dataclass(frozen=True)
class UnitFigures:
    """Per unit id: the raw counts every metric is computed from."""

    logins_15m: Counter[str] = field(default_factory=Counter)
    login_failures_15m: Counter[str] = field(default_factory=Counter)
    open_priority1_tickets: Counter[str] = field(default_factory=Counter)
    diversion_hours_today: dict[str, float] = field(default_factory=dict)
    patient_safety_tickets_today: Counter[str] = field(default_factory=Counter)


def day_start(at: datetime, zone: ZoneInfo) -> datetime:
    """Local midnight of the day ``at`` falls on, as an aware datetime."""
    local = at.astimezone(zone)
    return datetime.combine(local.date(), time(0), tzinfo=zone)


async def logins(db: Database, *, at: datetime) -> tuple[Counter[str], Counter[str]]:
    """Logins and failed logins per unit in ``(at - 15 min, at]``."""
    failed = case((payload_text("outcome") == "failure", 1), else_=0)
    query = (
        select(StoredEvent.unit_id, func.count(), func.coalesce(func.sum(failed), 0))
        .where(
            StoredEvent.type == "access.login",
            StoredEvent.occurred_at > at - LOGIN_WINDOW,
            StoredEvent.occurred_at <= at,
        )
        .group_by(StoredEvent.unit_id)
    )
    attempts: Counter[str] = Counter()
    failures: Counter[str] = Counter()
    async with db.sessions() as session:
        for unit_id, count, failed_count in await session.execute(query):
            attempts[unit_id] = int(count)
            failures[unit_id] = int(failed_count)
    return attempts, failures


def ticket_events_query(candidates: Any, *, at: datetime) -> Select[tuple[dict[str, Any]]]:
    """Every ticket event at or before ``at`` of the tickets ``candidates`` (a subquery of ticket ids); on
    PostgreSQL each candidate is looked up in ``ix_events_ticket_id`` (migration 0012)."""
    return select(StoredEvent.payload).where(
        StoredEvent.type.in_(TICKET_TYPES), StoredEvent.occurred_at <= at, payload_text("ticket_id").in_(candidates)
    )


async def _ticket_events(db: Database, candidates: Any, *, at: datetime) -> list[Event]:
    """Every ticket event at or before ``at`` of the tickets ``candidates``, read through the contract models."""
    query = ticket_events_query(candidates, at=at)
    async with db.sessions() as session:
        return [stored_event(payload) for payload in (await session.execute(query)).scalars()]


async def open_priority1_tickets(db: Database, *, at: datetime) -> Counter[str]:
    """Tickets open at ``at`` whose priority then was 1, per unit (the shared ticket fold decides both).

    Only tickets that had priority 1 at some point are read: the latest priority is one of those values.
    """
    ever_p1 = (
        select(payload_text("ticket_id"))
        .where(
            StoredEvent.type.in_(("ticket.opened", "ticket.updated")),
            payload_int("priority") == 1,
            StoredEvent.occurred_at <= at,
        )
        .scalar_subquery()
    )
    tickets = fold_tickets(await _ticket_events(db, ever_p1, at=at), as_of=at)
    return Counter(ticket.unit_id for ticket in tickets.values() if ticket.is_open and ticket.priority == 1)


async def diversions_at(db: Database, *, at: datetime) -> dict[DiversionKey, Diversion]:
    """Every diversion as the stored events stood at ``at`` (the shared diversion fold)."""
    query = select(StoredEvent.payload).where(
        StoredEvent.type.in_(("ed.diversion_started", "ed.diversion_ended")), StoredEvent.occurred_at <= at
    )
    async with db.sessions() as session:
        events = [stored_event(payload) for payload in (await session.execute(query)).scalars()]
    return fold_diversions(events, as_of=at)


async def diversion_hours(db: Database, *, since: datetime, at: datetime) -> dict[str, float]:
    """Hours of diversion per emergency department within ``[since, at]`` (the shared diversion fold's spans)."""
    return hours_per_unit((await diversions_at(db, at=at)).values(), start=since, until=at)


async def active_diversions(db: Database, *, at: datetime) -> Counter[str]:
    """Diversions running at ``at`` (started, not ended), per emergency department."""
    return Counter(item.unit_id for item in (await diversions_at(db, at=at)).values() if item.is_active)


async def tickets_opened_in(db: Database, *, since: datetime, until: datetime, at: datetime) -> list[Ticket]:
    """The tickets first opened in ``[since, until)``, folded as the stored events stood at ``at`` (the earliest
    opening decides the moment, as in :func:`patient_safety_tickets`); the caller counts them per day and unit."""
    opened = (
        select(payload_text("ticket_id"))
        .where(StoredEvent.type == "ticket.opened", StoredEvent.occurred_at >= since, StoredEvent.occurred_at < until)
        .scalar_subquery()
    )
    tickets = fold_tickets(await _ticket_events(db, opened, at=at), as_of=at)
    return [ticket for ticket in tickets.values() if ticket.opened_at is not None and since <= ticket.opened_at < until]


def flagged_opened(*, since: datetime, at: datetime) -> Any:
    """The ids of tickets with a ``ticket.opened`` flagged as a patient-safety risk in ``[since, at]`` (a subquery)."""
    return (
        select(payload_text("ticket_id"))
        .where(
            StoredEvent.type == "ticket.opened",
            StoredEvent.occurred_at >= since,
            StoredEvent.occurred_at <= at,
            StoredEvent.payload["patient_safety"].as_boolean().is_(true()),
        )
        .scalar_subquery()
    )


async def patient_safety_tickets(db: Database, *, since: datetime, at: datetime) -> Counter[str]:
    """Tickets first opened in ``[since, at]`` flagged as a patient-safety risk, per unit.

    The earliest opening decides both the moment and the flag (a resend today of yesterday's ticket
    does not count today). Only tickets with a flagged opening today are read: a ticket that counts has one,
    its earliest.
    """
    tickets = fold_tickets(await _ticket_events(db, flagged_opened(since=since, at=at), at=at), as_of=at)
    return Counter(
        ticket.unit_id
        for ticket in tickets.values()
        if ticket.patient_safety and ticket.opened_at is not None and since <= ticket.opened_at <= at
    )


async def unit_figures(db: Database, *, at: datetime, zone: ZoneInfo) -> UnitFigures:
    since = day_start(at, zone)
    attempts, failures = await logins(db, at=at)
    return UnitFigures(
        logins_15m=attempts,
        login_failures_15m=failures,
        open_priority1_tickets=await open_priority1_tickets(db, at=at),
        diversion_hours_today=await diversion_hours(db, since=since, at=at),
        patient_safety_tickets_today=await patient_safety_tickets(db, since=since, at=at),
    )
