"""What happened in a period, per administration and for the region, read from the event store.

Reads ``events`` only (each accepted event stored once, so resends never count twice) and folds the
rows into one :class:`Tally` per administration plus one for the region. Distinct counts (users,
floor walkers, units) are unions, never sums of per-unit counts, and rates are recomputed from the
summed parts, never averaged. Counts cover ``[start, counted_until)``; states (open tickets, active
diversions, the latest ED report) are read at ``counted_until``.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Float, and_, case, cast, func, or_, select, true

from hypercare.contract.events import EdStatus, Event, stored_event
from hypercare.org.registry import OrgRegistry
from hypercare.situation.facts import presence
from hypercare.situation.facts.diversions import Diversion, fold_diversions
from hypercare.situation.facts.tickets import Ticket
from hypercare.storage.db import Database
from hypercare.storage.models import StoredEvent
from services.console_api.sql import CodePointOrder, count_where, payload_int, payload_text
from services.reports.period import Period
from services.stop_criteria.measures import patient_safety_opened, unit_tickets

REGION = "region"
FLOORWALKER_TYPES = ("floorwalker.checkin", "floorwalker.checkout")
DIVERSION_TYPES = ("ed.diversion_started", "ed.diversion_ended")


def _max(current: Any, value: Any) -> Any:
    return value if current is None or value > current else current


@dataclass
class EdLoad:
    """Status reports of emergency departments: how many, the most waiting, the highest occupancy."""

    reports: int = 0
    max_waiting: int | None = None
    max_occupancy: float | None = None  # patients in the department / capacity

    def add(self, reports: int, max_waiting: int | None, max_occupancy: float | None) -> None:
        """Another group of reports: counts add up, maxima are the larger."""
        self.reports += reports
        if max_waiting is not None:
            self.max_waiting = _max(self.max_waiting, max_waiting)
        if max_occupancy is not None:
            self.max_occupancy = _max(self.max_occupancy, max_occupancy)


@dataclass
class Tally:
    """Figures of one administration (or the region) for the period."""

    tickets_opened: int = 0
    tickets_resolved: int = 0
    tickets_open: int = 0
    tickets_open_p1: int = 0
    patient_safety_opened: int = 0
    patient_safety_open: int = 0
    resolve_minutes: list[float] = field(default_factory=list)
    opened_by_category: dict[str, int] = field(default_factory=dict)
    logins: int = 0
    login_failures: int = 0
    locked_accounts: int = 0
    users_failing: set[str] = field(default_factory=set)
    permission_denied: int = 0
    denied_by_role: dict[str, int] = field(default_factory=dict)
    checkins: int = 0
    walkers: set[str] = field(default_factory=set)
    assists: int = 0
    escalations: int = 0
    units_visited: set[str] = field(default_factory=set)
    walkers_on_unit: int = 0  # at counted_until, as the live picture counts them
    walkers_on_break: int = 0
    units_with_tickets: set[str] = field(default_factory=set)
    ed: EdLoad = field(default_factory=EdLoad)
    diversions_started: int = 0
    diversion_seconds: float = 0.0
    diversions_active: int = 0

    @property
    def median_resolve_minutes(self) -> float | None:
        return round(float(statistics.median(self.resolve_minutes)), 1) if self.resolve_minutes else None

    @property
    def units_with_tickets_unvisited(self) -> int:
        return len(self.units_with_tickets - self.units_visited)


@dataclass
class EdUnit:
    """One emergency department over the period."""

    unit_id: str
    load: EdLoad = field(default_factory=EdLoad)
    latest: dict[str, Any] | None = None
    diversion_seconds: float = 0.0
    active: Diversion | None = None


@dataclass
class Activity:
    """The folded period: tallies per administration id (and ``REGION``), tickets, diversions, EDs."""

    tallies: dict[str, Tally]
    safety_tickets: list[Ticket]  # the patient-safety tickets opened in the period
    diversions: list[Diversion]
    eds: dict[str, EdUnit]

    def patient_safety_tickets(self, period: Period) -> list[Ticket]:
        """Patient-safety tickets opened in the period, oldest first."""
        found = [t for t in self.safety_tickets if _inside(t.opened_at, period)]
        return sorted(found, key=lambda t: (t.opened_at or period.start, t.unit_id, t.ticket_id))


def _inside(moment: datetime | None, period: Period) -> bool:
    return moment is not None and period.start <= moment < period.counted_until


class _Tallies:
    def __init__(self, org: OrgRegistry) -> None:
        self.org = org
        self.by_id: dict[str, Tally] = {admin.id: Tally() for admin in org.administrations}
        self.by_id[REGION] = Tally()

    def of(self, unit_id: str) -> tuple[Tally, Tally]:
        admin_id = self.org.place(unit_id).administration_id
        return self.by_id.setdefault(admin_id, Tally()), self.by_id[REGION]


async def _rows(db: Database, query: Any) -> list[Any]:
    async with db.sessions() as session:
        return list((await session.execute(query)).all())


async def _stored(db: Database, *conditions: Any) -> list[Event]:
    """Stored events read back through the contract models (the same defaults and types as the worker)."""
    async with db.sessions() as session:
        return [
            stored_event(p) for p in (await session.execute(select(StoredEvent.payload).where(*conditions))).scalars()
        ]


async def _tickets(db: Database, tallies: _Tallies, period: Period) -> list[Ticket]:
    """Ticket figures of the period, counted by the database as the stop criteria count them
    (:func:`~services.stop_criteria.measures.unit_tickets`); the patient-safety tickets opened in it, folded one
    by one (:func:`~services.stop_criteria.measures.patient_safety_opened`)."""
    units = await unit_tickets(db, since=period.start, until=period.counted_until)
    for unit_id, unit in units.items():
        for tally in tallies.of(unit_id):
            tally.tickets_opened += unit.opened
            if unit.opened:
                tally.units_with_tickets.add(unit_id)
            for category, count in unit.opened_by_category.items():
                tally.opened_by_category[category] = tally.opened_by_category.get(category, 0) + count
            tally.tickets_resolved += unit.resolved
            tally.resolve_minutes.extend(unit.resolve_minutes)
            tally.tickets_open += unit.open
            tally.tickets_open_p1 += unit.open_p1
            tally.patient_safety_open += unit.patient_safety_open
    safety = await patient_safety_opened(db, since=period.start, until=period.counted_until, inclusive=False)
    for ticket in safety:
        for tally in tallies.of(ticket.unit_id):
            tally.patient_safety_opened += 1
    return safety


def _in_period(period: Period, *types: str) -> list[Any]:
    return [
        StoredEvent.type.in_(types),
        StoredEvent.occurred_at >= period.start,
        StoredEvent.occurred_at < period.counted_until,
    ]


async def _access(db: Database, tallies: _Tallies, period: Period) -> None:
    outcome, reason, role = payload_text("outcome"), payload_text("reason"), payload_text("role")
    counts = (
        select(
            StoredEvent.unit_id,
            StoredEvent.type,
            outcome.label("outcome"),
            reason.label("reason"),
            role.label("role"),
            func.count().label("n"),
        )
        .where(*_in_period(period, "access.login", "access.permission_denied"))
        .group_by(StoredEvent.unit_id, StoredEvent.type, outcome, reason, role)
    )
    for row in await _rows(db, counts):
        for tally in tallies.of(row.unit_id):
            if row.type == "access.permission_denied":
                tally.permission_denied += row.n
                name = row.role or "other"
                tally.denied_by_role[name] = tally.denied_by_role.get(name, 0) + row.n
                continue
            tally.logins += row.n
            if row.outcome == "failure":
                tally.login_failures += row.n
                tally.locked_accounts += row.n if row.reason == "account_locked" else 0
    user = payload_text("user_ref")
    failing = (
        select(StoredEvent.unit_id, user.label("user_ref"))
        .where(*_in_period(period, "access.login"), outcome == "failure")
        .group_by(StoredEvent.unit_id, user)
    )
    for row in await _rows(db, failing):
        for tally in tallies.of(row.unit_id):
            tally.users_failing.add(row.user_ref)


async def _floorwalkers(db: Database, tallies: _Tallies, period: Period, presence_minutes: int) -> None:
    """Check-ins, assists and visits in the period; who is on a unit or on a break at ``counted_until``.

    A visit and presence follow the shared rules (:mod:`hypercare.situation.facts.presence`): a break
    check-in is not a visit, and a walker on a break is counted apart from those on the unit. The period's
    figures are counted by the database per unit and walker; presence is folded from each walker's latest event
    (by the fold's order), the only event of theirs the fold's presence depends on: it decides where they are,
    and when it is a check-in, it is their latest check-in there, whose status tells a break.
    """
    walker = payload_text("walker_id")
    checkin = StoredEvent.type == "floorwalker.checkin"
    visit = or_(StoredEvent.type == "floorwalker.checkout", payload_text("status") != presence.BREAK)
    counts = (
        select(
            StoredEvent.unit_id,
            walker.label("walker_id"),
            count_where(checkin, "checkins"),
            func.coalesce(func.sum(case((checkin, func.coalesce(payload_int("assists"), 0)), else_=0)), 0).label(
                "assists"
            ),
            count_where(and_(checkin, StoredEvent.payload["needs_escalation"].as_boolean().is_(true())), "escalations"),
            count_where(visit, "visits"),
        )
        .where(*_in_period(period, *FLOORWALKER_TYPES))
        .group_by(StoredEvent.unit_id, walker)
    )
    for row in await _rows(db, counts):
        for tally in tallies.of(row.unit_id):
            tally.walkers.add(row.walker_id)
            if row.visits:
                tally.units_visited.add(row.unit_id)
            tally.checkins += row.checkins
            tally.assists += row.assists
            tally.escalations += row.escalations
    reach = max(presence_minutes * 60, presence.WALKER_TTL)
    newest = func.row_number().over(
        partition_by=[walker],
        order_by=[StoredEvent.occurred_at.desc(), checkin.desc(), CodePointOrder(StoredEvent.event_id).desc()],
    )
    ranked = (
        select(StoredEvent.payload.label("payload"), newest.label("nth"))
        .where(
            StoredEvent.type.in_(FLOORWALKER_TYPES),
            StoredEvent.occurred_at > period.counted_until - timedelta(seconds=reach),
            StoredEvent.occurred_at < period.counted_until,
        )
        .subquery()
    )
    latest = [
        stored_event(payload) for (payload,) in await _rows(db, select(ranked.c.payload).where(ranked.c.nth == 1))
    ]
    present, _ = presence.fold_presence(latest, as_of=period.counted_until, presence_seconds=presence_minutes * 60)
    for unit_id, here in present.items():
        for tally in tallies.of(unit_id):
            tally.walkers_on_unit += len(here.on_unit)
            tally.walkers_on_break += len(here.on_break)


async def _ed_status(db: Database, tallies: _Tallies, eds: dict[str, EdUnit], period: Period) -> None:
    """Reports, most waiting and highest occupancy per ED, counted by the database (one row per unit).

    Occupancy is the double-precision quotient on both dialects (as Python's ``/``), rounded after the maximum:
    rounding never changes which value is largest, so the figure is the maximum of the rounded ones.
    """
    capacity = payload_int("capacity")
    occupancy = case((capacity != 0, cast(payload_int("patients_in_department"), Float) / capacity), else_=None)
    query = (
        select(
            StoredEvent.unit_id,
            func.count().label("reports"),
            func.max(payload_int("patients_waiting")).label("max_waiting"),
            func.max(occupancy).label("max_occupancy"),
        )
        .where(*_in_period(period, "ed.status"))
        .group_by(StoredEvent.unit_id)
    )
    for row in await _rows(db, query):
        highest = round(float(row.max_occupancy), 6) if row.max_occupancy is not None else None
        waiting = int(row.max_waiting) if row.max_waiting is not None else None
        eds.setdefault(row.unit_id, EdUnit(unit_id=row.unit_id)).load.add(row.reports, waiting, highest)
        for tally in tallies.of(row.unit_id):
            tally.ed.add(row.reports, waiting, highest)
    # The latest report of every ED at the state moment, however old.
    latest_at = (
        select(StoredEvent.unit_id, func.max(StoredEvent.occurred_at).label("at"))
        .where(StoredEvent.type == "ed.status", StoredEvent.occurred_at < period.counted_until)
        .group_by(StoredEvent.unit_id)
        .subquery()
    )
    latest = (
        select(StoredEvent.payload)
        .join(latest_at, (StoredEvent.unit_id == latest_at.c.unit_id) & (StoredEvent.occurred_at == latest_at.c.at))
        .where(StoredEvent.type == "ed.status")
        .order_by(StoredEvent.unit_id, StoredEvent.event_id)
    )
    for (payload,) in await _rows(db, latest):
        report = stored_event(payload)
        assert isinstance(report, EdStatus)
        ed = eds.setdefault(report.unit_id, EdUnit(unit_id=report.unit_id))
        ed.latest = {
            "reported_at": report.occurred_at.isoformat(),
            "patients_waiting": report.patients_waiting,
            "patients_in_department": report.patients_in_department,
            "capacity": report.capacity,
            "longest_wait_minutes": report.longest_wait_minutes,
        }


async def _diversions(db: Database, period: Period) -> list[Diversion]:
    """Diversions with a start before ``counted_until``, by the shared diversion fold."""
    events = await _stored(db, StoredEvent.type.in_(DIVERSION_TYPES), StoredEvent.occurred_at < period.counted_until)
    return [d for d in fold_diversions(events).values() if d.since is not None]


def _fold_diversions(tallies: _Tallies, eds: dict[str, EdUnit], diversions: list[Diversion], period: Period) -> None:
    """Hours of diversion inside the period, starts in it, and the ones still running at the state moment."""
    for diversion in diversions:
        overlap = diversion.seconds_within(period.start, period.counted_until)
        ed = eds.setdefault(diversion.unit_id, EdUnit(unit_id=diversion.unit_id))
        ed.diversion_seconds += overlap
        if diversion.ended_at is None:
            ed.active = diversion
        for tally in tallies.of(diversion.unit_id):
            tally.diversion_seconds += overlap
            tally.diversions_started += _inside(diversion.since, period)
            tally.diversions_active += diversion.ended_at is None


async def read_activity(db: Database, org: OrgRegistry, period: Period, *, presence_minutes: int = 240) -> Activity:
    """Fold the period's events into tallies per administration and for the region.

    ``presence_minutes`` is the live picture's presence window (``floorwalker_presence_minutes``).
    """
    tallies = _Tallies(org)
    safety_tickets = await _tickets(db, tallies, period)
    await _access(db, tallies, period)
    await _floorwalkers(db, tallies, period, presence_minutes)
    eds = {placement.unit_id: EdUnit(unit_id=placement.unit_id) for placement in org.emergency_departments}
    await _ed_status(db, tallies, eds, period)
    diversions = await _diversions(db, period)
    _fold_diversions(tallies, eds, diversions, period)
    return Activity(tallies=tallies.by_id, safety_tickets=safety_tickets, diversions=diversions, eds=eds)
