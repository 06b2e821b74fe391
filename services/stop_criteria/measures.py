"""The figures behind the stop criteria, counted from the event store as it stood at a moment ``at``.

Only events with ``occurred_at <= at`` count, so the same call gives the same figures later: the daily
report can freeze them, and a decision can be stamped with them. Tickets and diversions follow the shared
folds (:mod:`hypercare.situation.facts`), the same rules as the live picture and the report: the ticket
figures the report shows too are counted by the database under those rules (:func:`ticket_facts`, tested
against the Python fold), the few patient-safety tickets are folded in Python.
Each figure is per unit and summed into administrations and the region by the caller
(:mod:`services.stop_criteria.evaluate`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, case, except_, func, select, true, tuple_, union, union_all
from sqlalchemy.sql.elements import ColumnElement

from hypercare.contract.events import Event, stored_event
from hypercare.situation.facts.diversions import Diversion, DiversionKey, fold_diversions, hours_per_unit
from hypercare.situation.facts.tickets import Ticket, fold_tickets, resolve_minutes
from hypercare.storage.db import Database
from hypercare.storage.models import StoredEvent
from services.console_api.sql import TICKET_TYPES, CodePointOrder, count_where, payload_int, payload_text

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


def _up_to(until: datetime, *, inclusive: bool) -> ColumnElement[bool]:
    return StoredEvent.occurred_at <= until if inclusive else StoredEvent.occurred_at < until


def ticket_events_query(candidates: Any, *, at: datetime, inclusive: bool = True) -> Select[tuple[dict[str, Any]]]:
    """Every ticket event at or before ``at`` (before it unless ``inclusive``) of the tickets ``candidates`` (a
    subquery of ticket ids); on PostgreSQL each candidate is looked up in ``ix_events_ticket_id`` (migration 0012)."""
    return select(StoredEvent.payload).where(
        StoredEvent.type.in_(TICKET_TYPES),
        _up_to(at, inclusive=inclusive),
        payload_text("ticket_id").in_(candidates),
    )


async def _ticket_events(db: Database, candidates: Any, *, at: datetime, inclusive: bool = True) -> list[Event]:
    """The events of :func:`ticket_events_query`, read through the contract models."""
    query = ticket_events_query(candidates, at=at, inclusive=inclusive)
    async with db.sessions() as session:
        return [stored_event(payload) for payload in (await session.execute(query)).scalars()]


def ticket_facts(*, since: datetime, until: datetime, inclusive: bool = False) -> Any:
    """Per ticket ``(unit_id, ticket_id)``, the shared ticket fold's facts as the events up to ``until`` stood
    (a subquery): ``opened_at`` and ``resolved_at`` (the earliest opening and resolve), ``patient_safety``
    (of the earliest opening by ``(occurred_at, event_id)``), ``priority`` and ``category``
    (of the latest event carrying one). The same rules as :func:`~hypercare.situation.facts.tickets.fold_tickets`,
    counted by the database.

    Only the tickets a period ``[since, until)`` (``]`` when ``inclusive``) needs are folded: those with an event
    in it, and those open at ``since`` (opened before it, not resolved before it). Any other ticket was settled
    before ``since``: nothing of it falls in the period and it is not open at ``until``. ``event_id`` orders
    by code point on both dialects (binary collation), as Python compares strings.
    """
    ticket_id = payload_text("ticket_id")
    up_to = _up_to(until, inclusive=inclusive)
    columns = (StoredEvent.unit_id.label("unit_id"), ticket_id.label("ticket_id"))
    touched = select(*columns).where(StoredEvent.type.in_(TICKET_TYPES), StoredEvent.occurred_at >= since, up_to)
    opened_before = select(*columns).where(StoredEvent.type == "ticket.opened", StoredEvent.occurred_at < since)
    resolved_before = select(*columns).where(StoredEvent.type == "ticket.resolved", StoredEvent.occurred_at < since)
    open_at_start = except_(opened_before, resolved_before).subquery("open_at_start")
    candidates = union(touched, select(open_at_start.c.unit_id, open_at_start.c.ticket_id)).subquery("candidates")
    # The candidates' events, narrowed to the columns the fold reads before they are sorted (materialised on
    # PostgreSQL, so the window sorts carry these few columns, not the payload): the period's ticket events as
    # they are, and the candidates' earlier ones (none when the period holds the whole history).
    fold_columns = (
        CodePointOrder(StoredEvent.unit_id).label("unit_id"),  # sorted by bytes: faster than a language's collation
        CodePointOrder(ticket_id).label("ticket_id"),
        StoredEvent.type.label("type"),
        StoredEvent.occurred_at.label("occurred_at"),
        CodePointOrder(StoredEvent.event_id).label("event_id"),
        payload_int("priority").label("priority"),
        payload_text("category").label("category"),
        case((StoredEvent.payload["patient_safety"].as_boolean().is_(true()), 1), else_=0).label("flagged"),
    )
    # Driven by the earlier events (an index range), each looked up among the candidates: SQLite indexes the
    # candidates for ``IN``, where a join driven by the candidates would scan a unit's history for each.
    earlier = select(*fold_columns).where(
        StoredEvent.type.in_(TICKET_TYPES),
        StoredEvent.occurred_at < since,
        tuple_(StoredEvent.unit_id, ticket_id).in_(select(candidates.c.unit_id, candidates.c.ticket_id)),
    )
    rows = (
        union_all(
            select(*fold_columns).where(StoredEvent.type.in_(TICKET_TYPES), StoredEvent.occurred_at >= since, up_to),
            earlier,
        )
        .cte("ticket_rows")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    key = [rows.c.unit_id, rows.c.ticket_id]
    latest = [rows.c.occurred_at.desc(), rows.c.event_id.desc()]
    ranked = select(
        rows,
        func.row_number()
        .over(partition_by=[*key, rows.c.type == "ticket.opened"], order_by=[rows.c.occurred_at, rows.c.event_id])
        .label("nth_opening"),
        func.row_number().over(partition_by=[*key, rows.c.priority.is_(None)], order_by=latest).label("nth_priority"),
        func.row_number().over(partition_by=[*key, rows.c.category.is_(None)], order_by=latest).label("nth_category"),
    ).subquery("ranked")
    first_opening = and_(ranked.c.type == "ticket.opened", ranked.c.nth_opening == 1)
    return (
        select(
            ranked.c.unit_id,
            ranked.c.ticket_id,
            func.min(case((ranked.c.type == "ticket.opened", ranked.c.occurred_at))).label("opened_at"),
            func.min(case((ranked.c.type == "ticket.resolved", ranked.c.occurred_at))).label("resolved_at"),
            func.max(case((first_opening, ranked.c.flagged))).label("patient_safety"),
            func.max(case((and_(ranked.c.priority.is_not(None), ranked.c.nth_priority == 1), ranked.c.priority))).label(
                "priority"
            ),
            func.max(case((and_(ranked.c.category.is_not(None), ranked.c.nth_category == 1), ranked.c.category))).label(
                "category"
            ),
        )
        .group_by(ranked.c.unit_id, ranked.c.ticket_id)
        .subquery("facts")
    )


@dataclass
class UnitTickets:
    """One unit's ticket figures for a period: openings and resolves in it (with the minutes to resolve of those
    whose opening is known), and the tickets open at its end (of priority 1, flagged as a patient-safety risk)."""

    opened: int = 0
    opened_by_category: Counter[str] = field(default_factory=Counter)
    resolved: int = 0
    resolve_minutes: list[float] = field(default_factory=list)
    open: int = 0
    open_p1: int = 0
    patient_safety_open: int = 0


async def unit_tickets(
    db: Database, *, since: datetime, until: datetime, inclusive: bool = False
) -> dict[str, UnitTickets]:
    """Per unit, the ticket figures of ``[since, until)`` (``]`` when ``inclusive``) from :func:`ticket_facts`:
    counted by the database, grouped by unit, category, priority and flag; the minutes to resolve computed here
    from each resolved ticket's two moments (:func:`resolve_minutes`, every reader's rounding)."""
    facts = ticket_facts(since=since, until=until, inclusive=inclusive)

    def within(moment: Any) -> ColumnElement[bool]:
        return and_(moment >= since, moment <= until if inclusive else moment < until)

    is_open = and_(facts.c.opened_at.is_not(None), facts.c.resolved_at.is_(None))
    # A resolved ticket with a known opening is a group of its own (its two moments); the others are counted.
    timed = and_(within(facts.c.resolved_at), facts.c.opened_at.is_not(None))
    opened_at, resolved_at = case((timed, facts.c.opened_at)), case((timed, facts.c.resolved_at))
    counted = (
        select(
            facts.c.unit_id,
            facts.c.category,
            facts.c.priority,
            facts.c.patient_safety,
            opened_at.label("timed_opened_at"),
            resolved_at.label("timed_resolved_at"),
            count_where(within(facts.c.opened_at), "opened"),
            count_where(within(facts.c.resolved_at), "resolved"),
            count_where(is_open, "open"),
        )
        .where(within(facts.c.opened_at) | within(facts.c.resolved_at) | is_open)
        .group_by(facts.c.unit_id, facts.c.category, facts.c.priority, facts.c.patient_safety, opened_at, resolved_at)
    )
    units: dict[str, UnitTickets] = {}
    async with db.sessions() as session:
        for row in await session.execute(counted):
            unit = units.setdefault(row.unit_id, UnitTickets())
            unit.opened += row.opened
            if row.opened:
                unit.opened_by_category[row.category or "other"] += row.opened
            unit.resolved += row.resolved
            unit.open += row.open
            unit.open_p1 += row.open if row.priority == 1 else 0
            unit.patient_safety_open += row.open if row.patient_safety else 0
            if row.timed_resolved_at is not None:
                minutes = resolve_minutes(row.timed_opened_at.timestamp(), row.timed_resolved_at.timestamp())
                unit.resolve_minutes.extend([minutes] * row.resolved)
    return units


async def open_priority1_tickets(db: Database, *, at: datetime) -> Counter[str]:
    """Tickets open at ``at`` whose priority then was 1, per unit (the figure the daily report shows too)."""
    units = await unit_tickets(db, since=at, until=at, inclusive=True)
    return Counter({unit_id: unit.open_p1 for unit_id, unit in units.items() if unit.open_p1})


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


def flagged_opened(*, since: datetime, at: datetime, inclusive: bool = True) -> Any:
    """The ids of tickets with a ``ticket.opened`` flagged as a patient-safety risk in ``[since, at]`` (``[since,
    at)`` unless ``inclusive``), a subquery."""
    return (
        select(payload_text("ticket_id"))
        .where(
            StoredEvent.type == "ticket.opened",
            StoredEvent.occurred_at >= since,
            _up_to(at, inclusive=inclusive),
            StoredEvent.payload["patient_safety"].as_boolean().is_(true()),
        )
        .scalar_subquery()
    )


async def patient_safety_opened(
    db: Database, *, since: datetime, until: datetime, inclusive: bool = True
) -> list[Ticket]:
    """Tickets first opened in ``[since, until]`` (``[since, until)`` unless ``inclusive``) flagged as a
    patient-safety risk, as the events up to ``until`` stood (the stop criteria count them, the report lists them).

    The earliest opening decides both the moment and the flag (a resend today of yesterday's ticket
    does not count today). Only tickets with a flagged opening in the period are read: a ticket that counts
    has one, its earliest.
    """
    candidates = flagged_opened(since=since, at=until, inclusive=inclusive)
    events = await _ticket_events(db, candidates, at=until, inclusive=inclusive)
    return [
        ticket
        for ticket in fold_tickets(events).values()
        if ticket.patient_safety
        and ticket.opened_at is not None
        and since <= ticket.opened_at
        and (ticket.opened_at <= until if inclusive else ticket.opened_at < until)
    ]


async def patient_safety_tickets(db: Database, *, since: datetime, at: datetime) -> Counter[str]:
    """Tickets first opened in ``[since, at]`` flagged as a patient-safety risk, per unit."""
    return Counter(ticket.unit_id for ticket in await patient_safety_opened(db, since=since, until=at))


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
