"""A simulated go-live day for the situation-report tests, with the figures counted independently.

``simulate_day`` makes a deterministic day of mixed events (tickets, logins, permission denials,
floor walkers, ED reports and diversions, decisions, a risk and a reporting duty) on a local date,
plus a few just outside it. ``Expected`` counts the figures straight from those Python objects, not
through the event store or the product's code, so a report can be checked number for number.

Every test gets its own past date from ``fresh_day``: dates go backwards through the session, so no
test sees another's tickets as still open before its day.
"""

from __future__ import annotations

import itertools
import random
import re
import statistics
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from hypercare.contract.events import new_id

ZONE = ZoneInfo("Europe/Stockholm")
# Who records the day's decisions, risk and duty: stored directly by the service tests; the e2e test posts the day
# with its pipeline's chief token and passes that token's name (a person records as themself).
CHIEF = "test-chief"
_days = itertools.count()


def fresh_day() -> date:
    """A past date no earlier test of this session has used; each call goes back a week."""
    return date(1999, 12, 29) - timedelta(days=7 * next(_days))


def local(day: date, hour: int, minute: int = 0, second: int = 0, *, zone: ZoneInfo = ZONE) -> datetime:
    return datetime.combine(day, time(hour, minute, second), tzinfo=zone)


@dataclass
class Ticket:
    unit: str
    ticket_id: str
    opened_at: datetime
    priority: int
    category: str
    patient_safety: bool
    resolved_at: datetime | None = None
    updates: list[tuple[datetime, int]] = field(default_factory=list)  # (when, new priority)

    def priority_at(self, moment: datetime) -> int:
        priority = self.priority
        for when, new in sorted(self.updates):
            if when < moment:
                priority = new
        return priority


@dataclass
class Day:
    """The posted events and the raw facts they were made from."""

    day: date
    start: datetime
    end: datetime
    admin_of: dict[str, str]  # unit id → administration id
    events: list[dict[str, Any]] = field(default_factory=list)
    tickets: list[Ticket] = field(default_factory=list)
    logins: list[tuple[str, datetime, str, str, str | None]] = field(
        default_factory=list
    )  # unit, at, user, outcome, reason
    denials: list[tuple[str, datetime, str]] = field(default_factory=list)  # unit, at, role
    walker_events: list[tuple[str, datetime, str, str, int, bool]] = field(default_factory=list)
    ed_reports: list[tuple[str, datetime, int, int, int]] = field(
        default_factory=list
    )  # unit, at, waiting, inside, cap
    diversions: list[tuple[str, datetime, datetime | None]] = field(default_factory=list)  # unit, start, end
    decisions: list[tuple[str, datetime]] = field(default_factory=list)  # decision id, at

    def add(self, type_: str, unit: str, at: datetime, **fields: Any) -> dict[str, Any]:
        event = {
            "event_id": new_id("rep"),
            "type": type_,
            "occurred_at": at.isoformat(),
            "unit_id": unit,
            **fields,
        }
        self.events.append(event)
        return event


def simulate_day(
    day: date,
    *,
    admin_of: dict[str, str],
    eds: list[str],
    receiving_ed: str,
    region_id: str,
    seed: int = 1112,
    chief: str = CHIEF,
) -> Day:
    """A mixed day over the units of ``admin_of`` (wards and EDs), deterministic for a seed."""
    rng = random.Random(seed)
    start, end = local(day, 0), local(day + timedelta(days=1), 0)
    sim = Day(day=day, start=start, end=end, admin_of=admin_of)
    wards = [unit for unit in admin_of if unit not in eds]
    tag = new_id("t")[2:8]  # letters: digits next to the ticket number could read as an identity number

    def minute(lo: int = 0, hi: int = 24 * 60 - 1) -> datetime:
        return start + timedelta(minutes=rng.randint(lo, hi), seconds=rng.randint(0, 59))

    def ticket(
        unit: str,
        opened_at: datetime,
        *,
        resolved_at: datetime | None = None,
        safety: bool = False,
        priority: int | None = None,
    ) -> Ticket:
        made = Ticket(
            unit=unit,
            ticket_id=f"INC{len(sim.tickets):04d}{tag}",
            opened_at=opened_at,
            priority=priority or rng.randint(1, 4),
            category=rng.choice(["login", "permissions", "printing", "orders", "medication"]),
            patient_safety=safety,
            resolved_at=resolved_at,
        )
        sim.tickets.append(made)
        sim.add(
            "ticket.opened",
            unit,
            opened_at,
            ticket_id=made.ticket_id,
            channel="phone",
            category=made.category,
            priority=made.priority,
            summary=f"Ärende {made.ticket_id} <b>kan inte</b> signera",
            patient_safety=safety,
        )
        return made

    # Ordinary tickets: some resolved the same day, some later (still open at midnight), some re-prioritised.
    for index in range(36):
        made = ticket(rng.choice(wards + eds), minute(0, 22 * 60), safety=index % 9 == 4)
        if rng.random() < 0.3:
            when = made.opened_at + timedelta(minutes=rng.randint(1, 30))
            new = 1 if made.priority != 1 else 2
            made.updates.append((when, new))
            sim.add("ticket.updated", made.unit, when, ticket_id=made.ticket_id, status="in_progress", priority=new)
        if rng.random() < 0.6:
            made.resolved_at = made.opened_at + timedelta(minutes=rng.randint(3, 240))
            sim.add("ticket.resolved", made.unit, made.resolved_at, ticket_id=made.ticket_id)
    # Edges: opened the evening before and still open; opened before and resolved today; the day's first and
    # last second; the next day's first second (outside).
    ticket(wards[0], start - timedelta(hours=2), priority=1)
    carried = ticket(wards[1 % len(wards)], start - timedelta(hours=1), priority=2)
    carried.resolved_at = start + timedelta(minutes=45)
    sim.add("ticket.resolved", carried.unit, carried.resolved_at, ticket_id=carried.ticket_id)
    ticket(wards[0], start, priority=3)
    ticket(wards[-1], end - timedelta(seconds=1), priority=1, safety=True)
    ticket(wards[-1], end, priority=1, safety=True)

    for _ in range(160):
        unit = rng.choice(wards)
        at = minute()
        user = f"user{rng.randint(1, 40):02d}"
        if rng.random() < 0.27:
            reason = rng.choice(["wrong_password", "card_error", "account_locked", "expired"])
            sim.logins.append((unit, at, user, "failure", reason))
            sim.add("access.login", unit, at, user_ref=user, outcome="failure", reason=reason)
        else:
            sim.logins.append((unit, at, user, "success", None))
            sim.add("access.login", unit, at, user_ref=user, outcome="success")
    sim.add("access.login", wards[0], end + timedelta(minutes=1), user_ref="late", outcome="failure", reason="expired")
    for _ in range(14):
        unit, at, role = rng.choice(wards), minute(), rng.choice(["lakare", "sjukskoterska", "underskoterska"])
        sim.denials.append((unit, at, role))
        sim.add(
            "access.permission_denied",
            unit,
            at,
            user_ref=f"user{rng.randint(1, 40):02d}",
            role=role,
            module="Ordination",
        )

    for _ in range(12):
        unit, at, walker = rng.choice(wards[:-1] or wards), minute(), f"fw-{rng.randint(1, 4)}"
        assists, escalate = rng.randint(0, 5), rng.random() < 0.25
        sim.walker_events.append(("floorwalker.checkin", at, unit, walker, assists, escalate))
        sim.add(
            "floorwalker.checkin",
            unit,
            at,
            walker_id=walker,
            status="on_unit",
            assists=assists,
            needs_escalation=escalate,
        )
    for _ in range(4):
        unit, at, walker = rng.choice(wards[:-1] or wards), minute(), f"fw-{rng.randint(1, 4)}"
        sim.walker_events.append(("floorwalker.checkout", at, unit, walker, 0, False))
        sim.add("floorwalker.checkout", unit, at, walker_id=walker)

    for ed in eds:
        for hour in range(0, 24, 3):
            at = local(day, hour, 15)
            waiting, inside, capacity = rng.randint(0, 30), rng.randint(10, 40), 28
            sim.ed_reports.append((ed, at, waiting, inside, capacity))
            sim.add("ed.status", ed, at, patients_waiting=waiting, patients_in_department=inside, capacity=capacity)
    first, last = eds[0], eds[-1]
    sim.diversions.append((first, local(day, 10), local(day, 13, 30)))
    sim.add(
        "ed.diversion_started",
        first,
        local(day, 10),
        diversion_id=f"D1-{tag}",
        to_unit_ids=[receiving_ed],
        scope="ambulance",
        reason="Överbeläggning",
        decided_by=chief,
        expected_end=local(day, 14).isoformat(),
    )
    sim.add(
        "ed.diversion_started",
        first,
        local(day, 12),
        diversion_id=f"D1-{tag}",
        to_unit_ids=[receiving_ed],
        scope="ambulance",
        reason="Förnyad",
        decided_by=chief,
    )  # a renewal keeps the start
    sim.add("ed.diversion_ended", first, local(day, 13, 30), diversion_id=f"D1-{tag}", decided_by=chief)
    sim.diversions.append((last, local(day, 22), None))
    sim.add(
        "ed.diversion_started",
        last,
        local(day, 22),
        diversion_id=f"D2-{tag}",
        to_unit_ids=[receiving_ed],
        scope="all",
        reason="Driftstörning",
        decided_by=chief,
    )

    for number, hour in ((1, 8), (2, 16)):
        decision_id = f"B{number}-{tag}"
        sim.decisions.append((decision_id, local(day, hour)))
        sim.add(
            "decision.recorded",
            region_id,
            local(day, hour),
            decision_id=decision_id,
            title=f"Beslut {number} <script>x</script>",
            decision="Fler floor walkers | nattetid",
            mandate="Särskild sjukvårdsledning",
            owner="Driftchef",
            decided_by=chief,
        )
    sim.add(
        "risk.recorded",
        region_id,
        local(day, 9),
        risk_id=f"R-{tag}",
        title="Inloggning via SITHS",
        status="open",
        severity="high",
        recorded_by=chief,
    )
    safety = next(t for t in sim.tickets if t.patient_safety and start <= t.opened_at < end)
    sim.add(
        "duty.opened",
        safety.unit,
        safety.opened_at + timedelta(minutes=5),
        duty_id=f"DU-{tag}",
        duty="lex_maria",
        trigger="ticket",
        trigger_id=safety.ticket_id,
        opened_by=chief,
    )
    _close_afterwards(sim, tag, chief)
    return sim


def _close_afterwards(sim: Day, tag: str, chief: str) -> None:
    """The next day but one, close what is still open, so no later moment of the shared database (other tests
    evaluate stop criteria years on) inherits this day's open tickets, diversion, duty or risk."""
    close_at = sim.end + timedelta(days=1)
    for made in sim.tickets:
        if made.resolved_at is None:
            made.resolved_at = close_at
            sim.add("ticket.resolved", made.unit, close_at, ticket_id=made.ticket_id)
    for index, (unit, began, ended) in enumerate(sim.diversions):
        if ended is None:
            sim.diversions[index] = (unit, began, close_at)
            sim.add("ed.diversion_ended", unit, close_at, diversion_id=f"D2-{tag}", decided_by=chief)
    region_id = next(e["unit_id"] for e in sim.events if e["type"] == "risk.recorded")
    sim.add(
        "risk.recorded",
        region_id,
        close_at,
        risk_id=f"R-{tag}",
        title="Inloggning via SITHS",
        status="closed",
        owner="IT-drift",
        mitigation="Nya kortläsare",
        recorded_by=chief,
    )
    duty_unit = next(e["unit_id"] for e in sim.events if e["type"] == "duty.opened")
    sim.add("duty.fulfilled", duty_unit, close_at, duty_id=f"DU-{tag}", reference="IVO 1", fulfilled_by=chief)


def resolutions(events: list[dict[str, Any]], at: datetime) -> list[dict[str, Any]]:
    """``ticket.resolved`` at ``at`` for every ``ticket.opened`` of ``events`` (tidying up after a test)."""
    return [
        {
            "event_id": f"{event['event_id']}-closed",
            "type": "ticket.resolved",
            "occurred_at": at.isoformat(),
            "unit_id": event["unit_id"],
            "ticket_id": event["ticket_id"],
        }
        for event in events
        if event["type"] == "ticket.opened"
    ]


def _inside(moment: datetime | None, start: datetime, end: datetime) -> bool:
    return moment is not None and start <= moment < end


@dataclass
class Expected:
    """The figures of one administration (or the region), counted from the simulated facts."""

    tickets_opened: int = 0
    tickets_resolved: int = 0
    resolve_minutes: list[float] = field(default_factory=list)
    tickets_open: int = 0
    tickets_open_p1: int = 0
    safety_opened: int = 0
    logins: int = 0
    failures: int = 0
    locked: int = 0
    users_failing: set[str] = field(default_factory=set)
    denied: int = 0
    checkins: int = 0
    walkers: set[str] = field(default_factory=set)
    assists: int = 0
    escalations: int = 0
    visited: set[str] = field(default_factory=set)
    ticket_units: set[str] = field(default_factory=set)
    ed_reports: int = 0
    max_waiting: int | None = None
    max_occupancy: float | None = None
    diversions_started: int = 0
    diversion_hours: float = 0.0
    diversions_active: int = 0

    @property
    def median(self) -> float | None:
        return round(float(statistics.median(self.resolve_minutes)), 1) if self.resolve_minutes else None

    @property
    def rate(self) -> float | None:
        return self.failures / self.logins if self.logins else None


def expected_figures(sim: Day) -> dict[str, Expected]:
    """Administration id (and "region") → figures over the day, states at its end."""
    start, end = sim.start, sim.end
    result: dict[str, Expected] = {}

    def targets(unit: str) -> Iterable[Expected]:
        return (result.setdefault(sim.admin_of[unit], Expected()), result.setdefault("region", Expected()))

    for made in sim.tickets:
        for figures in targets(made.unit):
            if _inside(made.opened_at, start, end):
                figures.tickets_opened += 1
                figures.ticket_units.add(made.unit)
                figures.safety_opened += made.patient_safety
            if _inside(made.resolved_at, start, end):
                figures.tickets_resolved += 1
                assert made.resolved_at is not None
                figures.resolve_minutes.append(round((made.resolved_at - made.opened_at).total_seconds() / 60, 2))
            if made.opened_at < end and (made.resolved_at is None or made.resolved_at >= end):
                figures.tickets_open += 1
                figures.tickets_open_p1 += made.priority_at(end) == 1
    for unit, at, user, outcome, reason in sim.logins:
        if _inside(at, start, end):
            for figures in targets(unit):
                figures.logins += 1
                if outcome == "failure":
                    figures.failures += 1
                    figures.locked += reason == "account_locked"
                    figures.users_failing.add(user)
    for unit, at, _role in sim.denials:
        if _inside(at, start, end):
            for figures in targets(unit):
                figures.denied += 1
    for type_, at, unit, walker, assists, escalate in sim.walker_events:
        if _inside(at, start, end):
            for figures in targets(unit):
                figures.visited.add(unit)
                figures.walkers.add(walker)
                if type_ == "floorwalker.checkin":
                    figures.checkins += 1
                    figures.assists += assists
                    figures.escalations += escalate
    for unit, at, waiting, inside_dept, capacity in sim.ed_reports:
        if _inside(at, start, end):
            for figures in targets(unit):
                figures.ed_reports += 1
                figures.max_waiting = waiting if figures.max_waiting is None else max(figures.max_waiting, waiting)
                occupancy = inside_dept / capacity
                figures.max_occupancy = (
                    occupancy if figures.max_occupancy is None else max(figures.max_occupancy, occupancy)
                )
    for unit, began, ended in sim.diversions:
        stop = min(ended or end, end)
        for figures in targets(unit):
            figures.diversion_hours += max(0.0, (stop - max(began, start)).total_seconds() / 3600)
            figures.diversions_started += _inside(began, start, end)
            figures.diversions_active += ended is None or ended >= end
    return result


# Formatting as the report prints (Swedish decimal comma) -------------------------------------------------
def _half_up(value: float, places: int) -> str:
    return str(Decimal(str(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)).replace(".", ",")


def percent(value: float | None) -> str:
    return "–" if value is None else f"{_half_up(value * 100, 1)} %"


def hours(value: float) -> str:
    return _half_up(value, 1)


def decimal(value: float | None) -> str:
    if value is None:
        return "–"
    return str(int(value)) if float(value).is_integer() else _half_up(value, 2).rstrip("0").rstrip(",")


def pdf_text(pdf: bytes) -> str:
    """The PDF's text as ``pdftotext -layout`` extracts it (poppler-utils)."""
    done = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True)
    return done.stdout.decode("utf-8")


def row_after(text: str, heading: str, label: str) -> list[str]:
    """The cells printed after ``label`` on its first line below ``heading`` (name words that wrapped dropped)."""
    position = text.index(heading)
    for line in text[position:].splitlines()[1:]:
        stripped = line.strip()
        if stripped.startswith(label):
            cells = re.split(r"\s{2,}", stripped[len(label) :].strip())
            return [cell for cell in cells if cell]
    raise AssertionError(f"no row {label!r} below {heading!r} in:\n{text[position : position + 1500]}")
