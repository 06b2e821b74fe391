"""The shared folds (hypercare.situation.facts): duplicates and reordered arrival change nothing, and
the live worker's incremental folds give the same answers as the pure folds.

The properties are hypothesis tests: hypothesis drives the random source each event set is drawn from
(``st.randoms``; the suite's fixed ``ci`` profile keeps runs repeatable). Each set has ties in time, resends
under the same event_id, updates before the
opening, updates and second resolves after the resolve, ends before starts, and walkers on a break.
The expected answers come from a plain time-ordered replay written here, not from the product.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from hypercare.contract.events import Event, parse_event
from hypercare.situation.facts.diversions import fold_diversions
from hypercare.situation.facts.presence import fold_presence
from hypercare.situation.facts.tickets import fold_tickets
from hypercare.situation.state import apply_event, floorwalkers, new_state, tickets

NOW = datetime.now(UTC).replace(microsecond=0)
UNITS = ("U1", "U2")


def _event(rng: random.Random, n: int, type_: str, unit: str, **fields: Any) -> Event:
    minute = rng.randint(1, 50)  # a small range, so equal times (ties) are common
    return parse_event(
        {
            "event_id": f"e{n:04d}",
            "type": type_,
            "occurred_at": (NOW - timedelta(minutes=minute)).isoformat(),
            "unit_id": unit,
            **fields,
        }
    )


def ticket_events(rng: random.Random) -> list[Event]:
    events: list[Event] = []
    for n in range(60):
        unit, ticket = rng.choice(UNITS), f"T{rng.randint(1, 12)}"
        kind = rng.choice(("opened", "opened", "updated", "updated", "resolved"))
        if kind == "opened":
            fields: dict[str, Any] = {
                "channel": "phone",
                "category": rng.choice(("login", "printing", "orders")),
                "priority": rng.randint(1, 4),
                "patient_safety": rng.random() < 0.3,
            }
        elif kind == "updated":
            fields = {"status": rng.choice(("in_progress", "waiting", "escalated"))}
            if rng.random() < 0.6:
                fields["priority"] = rng.randint(1, 4)
            if rng.random() < 0.3:
                fields["category"] = rng.choice(("login", "lab"))
        else:
            fields = {}
        events.append(_event(rng, n, f"ticket.{kind}", unit, ticket_id=ticket, **fields))
    return events


def delivered(rng: random.Random, events: list[Event]) -> list[Event]:
    """The same events in another order, some of them twice (a resend keeps its event_id)."""
    resent = events + rng.sample(events, k=len(events) // 4)
    rng.shuffle(resent)
    return resent


def replay_tickets(events: list[Event]) -> dict[tuple[str, str], dict[str, Any]]:
    """The oracle: each event once, in time order (event id breaking ties), first/last wins as the rules say."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    unique = {e.event_id: e for e in events}.values()
    for e in sorted(unique, key=lambda e: (e.occurred_at, e.event_id)):
        t = out.setdefault((e.unit_id, e.ticket_id), {"opened": None, "resolved": None, "priority": None, "cat": None})
        if e.type == "ticket.opened":
            if t["opened"] is None:
                t["opened"], t["safety"] = e.occurred_at, e.patient_safety
            t["priority"], t["cat"] = e.priority, e.category
        elif e.type == "ticket.updated":
            t["priority"] = e.priority if e.priority is not None else t["priority"]
            t["cat"] = e.category if e.category is not None else t["cat"]
        elif t["resolved"] is None:
            t["resolved"] = e.occurred_at
    return out


@given(rng=st.randoms(use_true_random=False))
def test_ticket_fold_ignores_duplicates_and_arrival_order(rng: random.Random) -> None:
    events = ticket_events(rng)
    expected = replay_tickets(events)
    folded = fold_tickets(delivered(rng, events))
    assert folded == fold_tickets(events)
    assert set(folded) == set(expected)
    for key, ticket in folded.items():
        oracle = expected[key]
        assert (ticket.opened_at, ticket.resolved_at, ticket.priority, ticket.category) == (
            oracle["opened"],
            oracle["resolved"],
            oracle["priority"],
            oracle["cat"],
        ), key
        assert ticket.is_open == (oracle["opened"] is not None and oracle["resolved"] is None)
        if oracle["opened"] is not None:
            assert ticket.patient_safety == oracle["safety"]


@given(rng=st.randoms(use_true_random=False))
def test_live_ticket_fold_agrees_with_the_pure_fold_in_any_arrival_order(rng: random.Random) -> None:
    events = ticket_events(rng)
    folded = fold_tickets(events)
    for unit in UNITS:
        state = new_state("tickets")
        for event in delivered(rng, [e for e in events if e.unit_id == unit]):
            apply_event("tickets", state, event, now=NOW)
        mine = {key[1]: t for key, t in folded.items() if key[0] == unit}
        open_live = {
            ticket_id: (r["priority"], r["category"], r["patient_safety"], r["opened_at"])
            for ticket_id, r in state["open"].items()
        }
        assert open_live == {
            ticket_id: (t.priority, t.category, t.patient_safety, t.opened_at.timestamp())
            for ticket_id, t in mine.items()
            if t.is_open
        }
        summary = tickets.summarize(state, NOW.timestamp())
        assert summary.opened_1h == sum(1 for t in mine.values() if t.opened_at is not None)
        assert summary.resolved_1h == sum(1 for t in mine.values() if t.resolved_at is not None)
        assert sorted(summary.resolve_minutes) == sorted(
            t.minutes_to_resolve for t in mine.values() if t.minutes_to_resolve is not None
        )


def diversion_events(rng: random.Random) -> list[Event]:
    events: list[Event] = []
    for n in range(30):
        unit, diversion = rng.choice(UNITS), f"D{rng.randint(1, 5)}"
        if rng.random() < 0.6:
            fields: dict[str, Any] = {
                "to_unit_ids": ["R1"],
                "scope": rng.choice(("ambulance", "walk_in", "all")),
                "reason": "full",
                "decided_by": "chief",
            }
            events.append(_event(rng, n, "ed.diversion_started", unit, diversion_id=diversion, **fields))
        else:
            events.append(_event(rng, n, "ed.diversion_ended", unit, diversion_id=diversion, decided_by="chief"))
    return events


@given(rng=st.randoms(use_true_random=False))
def test_diversion_fold_ignores_duplicates_and_order_and_matches_the_live_state(rng: random.Random) -> None:
    events = diversion_events(rng)
    folded = fold_diversions(events)
    assert fold_diversions(delivered(rng, events)) == folded
    in_time = sorted({e.event_id: e for e in events}.values(), key=lambda e: (e.occurred_at, e.event_id))
    for key, diversion in folded.items():
        mine = [e for e in in_time if (e.unit_id, e.diversion_id) == key]
        starts = [e for e in mine if e.type == "ed.diversion_started"]
        ends = [e for e in mine if e.type == "ed.diversion_ended"]
        assert diversion.since == (starts[0].occurred_at if starts else None)
        assert diversion.ended_at == (ends[0].occurred_at if ends else None)
        if starts:
            assert diversion.scope == starts[-1].scope
        start, until = NOW - timedelta(hours=2), NOW
        expected = 0.0
        if starts:
            end = max(ends[0].occurred_at, starts[0].occurred_at) if ends else until
            expected = max(0.0, (min(end, until) - max(starts[0].occurred_at, start)).total_seconds())
        assert diversion.seconds_within(start, until) == expected
    for unit in UNITS:
        state = new_state("ed")
        for event in delivered(rng, [e for e in events if e.unit_id == unit]):
            apply_event("ed", state, event, now=NOW)
        live = {d_id: (d["since"], d["scope"]) for d_id, d in state["diversions"].items()}
        assert live == {
            key[1]: (d.since.isoformat(), d.scope) for key, d in folded.items() if key[0] == unit and d.is_active
        }


def walker_events(rng: random.Random) -> list[Event]:
    events: list[Event] = []
    for n in range(30):
        unit, walker = rng.choice(UNITS), f"W{rng.randint(1, 5)}"
        if rng.random() < 0.8:
            status = rng.choice(("on_unit", "assisting", "available", "break"))
            events.append(_event(rng, n, "floorwalker.checkin", unit, walker_id=walker, status=status))
        else:
            events.append(_event(rng, n, "floorwalker.checkout", unit, walker_id=walker))
    return events


@given(rng=st.randoms(use_true_random=False))
def test_presence_counts_a_break_apart_whatever_the_order_and_matches_the_live_state(rng: random.Random) -> None:
    events = walker_events(rng)
    present, last_visit = fold_presence(events, as_of=NOW, presence_seconds=4 * 3600)
    again = fold_presence(delivered(rng, events), as_of=NOW, presence_seconds=4 * 3600)
    assert again == (present, last_visit)
    # The oracle: each walker's latest event in time order (a check-in beats a checkout at one second).
    unique = {e.event_id: e for e in events}.values()
    latest: dict[str, Event] = {}
    for e in sorted(unique, key=lambda e: (e.occurred_at, e.type == "floorwalker.checkin", e.event_id, e.unit_id)):
        latest[e.walker_id] = e
    on_unit: dict[str, set[str]] = {}
    on_break: dict[str, set[str]] = {}
    for walker, e in latest.items():
        if e.type == "floorwalker.checkin":
            (on_break if e.status == "break" else on_unit).setdefault(e.unit_id, set()).add(walker)
    assert {u: p.on_unit for u, p in present.items() if p.on_unit} == on_unit
    assert {u: p.on_break for u, p in present.items() if p.on_break} == on_break
    # The live states, fed in another order, count the same walkers on the unit and on a break.
    unit_states: dict[str, dict[str, Any]] = {u: {"floorwalkers": new_state("floorwalkers")} for u in UNITS}
    for event in delivered(rng, events):
        apply_event("floorwalkers", unit_states[event.unit_id]["floorwalkers"], event, now=NOW)
    live_present = floorwalkers.presence(unit_states, NOW.timestamp(), 4 * 3600)
    for unit in UNITS:
        summary = floorwalkers.summarize(unit_states[unit]["floorwalkers"], NOW.timestamp(), live_present.get(unit))
        assert (summary.on_unit, summary.on_break) == (len(on_unit.get(unit, ())), len(on_break.get(unit, ())))
        assert unit_states[unit]["floorwalkers"]["last_visit"] == last_visit.get(unit)
