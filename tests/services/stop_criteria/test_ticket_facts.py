"""The ticket figures the database counts (``measures.unit_tickets``, ``measures.patient_safety_opened``) against
the shared ticket fold run in Python over every stored event, on both dialects.

Three days of random ticket histories on units of this test's own: tickets opened on an earlier day and resolved
in the period, still open from earlier days, resent openings, updates of priority and category (some at the
opening's very moment, so the event id decides), resolves before the opening, second resolves, resolves of
tickets never seen opened, one ticket id on two units, and events exactly at the period's ends and after it.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from report_day import fresh_day, local
from stored_events import at, store

from hypercare.contract.events import parse_event
from hypercare.situation.facts.tickets import fold_tickets
from hypercare.storage.db import Database
from services.stop_criteria.measures import UnitTickets, patient_safety_opened, unit_tickets

CATEGORIES = ["login", "printing", "orders", "medication"]


def histories(units: list[str], start: datetime, *, seed: int) -> list[dict[str, Any]]:
    """Ticket events over the three days from ``start``, on ``units``, in no particular order."""
    rng = random.Random(seed)
    events: list[dict[str, Any]] = []
    span = 3 * 24 * 3600

    def moment() -> datetime:
        return start + timedelta(seconds=600 * rng.randrange(span // 600))

    def add(kind: str, unit: str, ticket: str, when: datetime, **fields: Any) -> None:
        event_id = f"{ticket}-{unit[-1]}-{len(events)}{rng.choice(['a', 'B', 'z', 'Z'])}"
        item = {"event_id": event_id, "type": kind, "occurred_at": at(when), "unit_id": unit, "ticket_id": ticket}
        events.append(item | fields)

    def opening(unit: str, ticket: str, when: datetime) -> None:
        add(
            "ticket.opened",
            unit,
            ticket,
            when,
            channel="phone",
            category=rng.choice(CATEGORIES),
            priority=rng.randint(1, 4),
            summary="kan inte skriva ut",
            patient_safety=rng.random() < 0.3,
        )

    for n in range(90):
        unit, ticket = rng.choice(units), f"T{n}"
        opened = moment()
        if rng.random() < 0.92:
            opening(unit, ticket, opened)
        if rng.random() < 0.2:  # a resend, earlier or later, that may disagree
            opening(unit, ticket, opened + timedelta(minutes=rng.choice([-30, 0, 0, 45])))
        for _ in range(rng.choice([0, 0, 1, 2, 3])):
            same = rng.random() < 0.3
            when = opened if same else moment()
            fields: dict[str, Any] = {"status": rng.choice(["in_progress", "waiting", "escalated"])}
            if rng.random() < 0.7:
                fields["priority"] = rng.randint(1, 4)
            if rng.random() < 0.5:
                fields["category"] = rng.choice(CATEGORIES)
            add("ticket.updated", unit, ticket, when, **fields)
        if rng.random() < 0.6:
            resolved = opened + timedelta(minutes=rng.randint(-20, 2 * 24 * 60))
            add("ticket.resolved", unit, ticket, resolved)
            if rng.random() < 0.15:
                add("ticket.resolved", unit, ticket, resolved + timedelta(hours=rng.randint(-3, 30)))
        if rng.random() < 0.1:  # the same ticket id on another unit is another ticket
            opening(units[(units.index(unit) + 1) % len(units)], ticket, moment())
    return events


def oracle(
    events: list[dict[str, Any]], units: list[str], *, since: datetime, until: datetime, inclusive: bool
) -> dict[str, UnitTickets]:
    """The figures from the shared ticket fold over every event up to ``until``, counted one ticket at a time."""

    def within(moment: datetime | None) -> bool:
        return moment is not None and since <= moment and (moment <= until if inclusive else moment < until)

    parsed = [parse_event(item) for item in events]
    kept = [e for e in parsed if e.occurred_at < until or (inclusive and e.occurred_at == until)]
    found: dict[str, UnitTickets] = {}
    for ticket in fold_tickets(kept).values():
        if ticket.unit_id not in units:
            continue
        unit = found.setdefault(ticket.unit_id, UnitTickets())
        if within(ticket.opened_at):
            unit.opened += 1
            unit.opened_by_category[ticket.category or "other"] += 1
        if within(ticket.resolved_at):
            unit.resolved += 1
            if ticket.minutes_to_resolve is not None:
                unit.resolve_minutes.append(ticket.minutes_to_resolve)
        if ticket.is_open:
            unit.open += 1
            unit.open_p1 += ticket.priority == 1
            unit.patient_safety_open += ticket.patient_safety
    return {unit_id: unit for unit_id, unit in found.items() if unit != UnitTickets()}


def comparable(units: dict[str, UnitTickets], mine: list[str]) -> dict[str, Any]:
    return {
        unit_id: (
            unit.opened,
            dict(unit.opened_by_category),
            unit.resolved,
            sorted(unit.resolve_minutes),
            unit.open,
            unit.open_p1,
            unit.patient_safety_open,
        )
        for unit_id, unit in units.items()
        if unit_id in mine and unit != UnitTickets()
    }


async def test_ticket_figures_counted_in_sql_are_the_fold_of_every_event(db: Database) -> None:
    tag = uuid.uuid4().hex[:8]
    units = [f"TF-{tag}-A", f"TF-{tag}-B", f"TF-{tag}-C"]
    first = fresh_day()
    events = histories(units, local(first, 0), seed=20261205)
    day_start, day_end = local(first + timedelta(days=1), 0), local(first + timedelta(days=2), 0)
    # Exactly at the period's ends: an opening at its start and an opening and a resolve at its end.
    for when, suffix in ((day_start, "start"), (day_end, "end")):
        edge = {"event_id": f"edge-{tag}-{suffix}", "occurred_at": at(when), "unit_id": units[0]}
        edge |= {"type": "ticket.opened", "ticket_id": f"E-{suffix}", "channel": "chat", "category": "login"}
        events.append(edge | {"priority": 1, "summary": "", "patient_safety": True})
    resolve_at_end = {"event_id": f"edge-{tag}-resolve", "type": "ticket.resolved", "ticket_id": "E-start"}
    events.append({"occurred_at": at(day_end), "unit_id": units[0], **resolve_at_end})
    await store(db, *events)

    parsed = [parse_event(item) for item in events]
    earlier = {(e.unit_id, e.ticket_id) for e in parsed if e.occurred_at < day_start}  # type: ignore[union-attr]
    assert len(earlier) > 20  # tickets from the earlier day: some resolved in the period, some still open
    mid_day = local(first + timedelta(days=1), 13, 20)
    cases = [
        (day_start, day_end, False),  # the daily report's half-open day
        (day_start, day_end, True),
        (mid_day, mid_day, True),  # the stop criteria's open tickets at a moment
        (local(first, 0), day_end, False),  # the period holds the whole history
        (day_end, local(first + timedelta(days=3), 0), False),
    ]
    for since, until, inclusive in cases:
        expected = oracle(events, units, since=since, until=until, inclusive=inclusive)
        counted = await unit_tickets(db, since=since, until=until, inclusive=inclusive)
        assert comparable(counted, units) == comparable(expected, units), (since, until, inclusive)
        folded = {
            (t.unit_id, t.ticket_id, t.opened_at, t.priority, t.resolved_at)
            for t in fold_tickets(
                e for e in parsed if e.occurred_at < until or (inclusive and e.occurred_at == until)
            ).values()
            if t.unit_id in units
            and t.patient_safety
            and t.opened_at is not None
            and since <= t.opened_at
            and (t.opened_at <= until if inclusive else t.opened_at < until)
        }
        listed = await patient_safety_opened(db, since=since, until=until, inclusive=inclusive)
        assert {
            (t.unit_id, t.ticket_id, t.opened_at, t.priority, t.resolved_at) for t in listed if t.unit_id in units
        } == folded
    day = comparable(await unit_tickets(db, since=day_start, until=day_end), units)
    assert sum(figures[2] for figures in day.values()) > 5  # resolves in the period
    assert sum(figures[4] for figures in day.values()) > 5  # open at its end
    assert Counter(figures[0] > 0 for figures in day.values())[True] == len(units)
