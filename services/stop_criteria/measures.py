"""The figures behind the stop criteria, counted from the event store as it stood at a moment ``at``.

Only events with ``occurred_at <= at`` count, so the same call gives the same figures later: the daily
report can freeze them, and a decision can be stamped with them. Each figure is per unit and summed
into administrations and the region by the caller (:mod:`services.stop_criteria.evaluate`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select

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


async def open_priority1_tickets(db: Database, *, at: datetime) -> Counter[str]:
    """Tickets open at ``at`` whose priority then was 1, per the unit they were opened at.

    A ticket's priority is the one of its opening unless a later update changed it; only tickets that
    had priority 1 at some point are folded.
    """
    ticket_id = payload_text("ticket_id")
    ever_p1 = (
        select(ticket_id)
        .where(
            StoredEvent.type.in_(("ticket.opened", "ticket.updated")),
            payload_int("priority") == 1,
            StoredEvent.occurred_at <= at,
        )
        .scalar_subquery()
    )
    query = (
        select(StoredEvent.type, StoredEvent.unit_id, StoredEvent.payload)
        .where(StoredEvent.type.in_(TICKET_TYPES), StoredEvent.occurred_at <= at, ticket_id.in_(ever_p1))
        .order_by(StoredEvent.occurred_at, StoredEvent.stored_at)
    )
    tickets: dict[str, dict[str, object]] = {}
    async with db.sessions() as session:
        for type_, unit_id, payload in await session.execute(query):
            state = tickets.setdefault(str(payload["ticket_id"]), {"unit": unit_id, "priority": None, "open": True})
            if type_ == "ticket.opened":
                state["unit"] = unit_id
                if state["priority"] is None:
                    state["priority"] = payload.get("priority")
            elif type_ == "ticket.updated":
                if payload.get("priority") is not None:
                    state["priority"] = payload["priority"]
            else:
                state["open"] = False
    counts: Counter[str] = Counter()
    for state in tickets.values():
        if state["open"] and state["priority"] == 1:
            counts[str(state["unit"])] += 1
    return counts


async def diversion_hours(db: Database, *, since: datetime, at: datetime) -> dict[str, float]:
    """Hours of diversion per emergency department within ``[since, at]``.

    A diversion runs from its first ``ed.diversion_started`` (a renewal repeats it with the same id) to
    its first ``ed.diversion_ended`` after that, or is still running at ``at``.
    """
    query = (
        select(StoredEvent.type, StoredEvent.unit_id, StoredEvent.occurred_at, payload_text("diversion_id"))
        .where(StoredEvent.type.in_(("ed.diversion_started", "ed.diversion_ended")), StoredEvent.occurred_at <= at)
        .order_by(StoredEvent.occurred_at, StoredEvent.stored_at)
    )
    spans: dict[tuple[str, str], list[datetime | None]] = {}
    async with db.sessions() as session:
        for type_, unit_id, occurred_at, diversion_id in await session.execute(query):
            key = (unit_id, str(diversion_id))
            if type_ == "ed.diversion_started":
                spans.setdefault(key, [occurred_at, None])
            elif key in spans and spans[key][1] is None:
                spans[key][1] = occurred_at
    hours: dict[str, float] = {}
    for (unit_id, _), (start, end) in spans.items():
        assert start is not None
        overlap = min(end or at, at) - max(start, since)
        if overlap > timedelta(0):
            hours[unit_id] = hours.get(unit_id, 0.0) + overlap.total_seconds() / 3600
    return hours


async def patient_safety_tickets(db: Database, *, since: datetime, at: datetime) -> Counter[str]:
    """Tickets opened in ``[since, at]`` flagged as a patient-safety risk, per unit."""
    query = select(StoredEvent.unit_id, StoredEvent.payload).where(
        StoredEvent.type == "ticket.opened", StoredEvent.occurred_at >= since, StoredEvent.occurred_at <= at
    )
    counts: Counter[str] = Counter()
    seen: set[str] = set()
    async with db.sessions() as session:
        for unit_id, payload in await session.execute(query):
            if payload.get("patient_safety") is True and payload["ticket_id"] not in seen:
                seen.add(payload["ticket_id"])
                counts[unit_id] += 1
    return counts


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
