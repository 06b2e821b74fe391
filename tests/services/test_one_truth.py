"""One event set, four readers, one set of numbers (issue 9).

The same events — with updates after a resolve, reordered and duplicated deliveries, priority
changes, diversions started, renewed and ended, floor walkers on a break — go through the stream
worker's batch processor (which stores them in the event store and folds the live unit states), and
then every reader answers from what it sees: the live picture (``build_situation``), the ticket list
and hot spots (``GET /api/v1/tickets``), the stop criteria's figures and the daily report's tallies.
The expected numbers are worked out by hand below, not through the product's code.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from memory_states import MemoryStates

from hypercare.contract.events import family_of
from hypercare.org.registry import OrgRegistry
from hypercare.situation.health import load_rules
from hypercare.situation.rollup import build_situation
from hypercare.storage.events_store import store_events
from hypercare.topics import Topics
from services.reports.activity import read_activity
from services.reports.period import daily_period, local_day
from services.stop_criteria.measures import day_start, unit_figures
from streams.processor import BatchProcessor, Record
from streams.sink import EventSink

ZONE = ZoneInfo("Europe/Stockholm")
TOPICS = Topics(prefix="onetruth")


def overlap_hours(start: datetime, end: datetime | None, since: datetime, until: datetime) -> float:
    return max(0.0, (min(end or until, until) - max(start, since)).total_seconds()) / 3600


async def test_every_reader_gives_the_same_numbers(api: Any) -> None:
    org = api.org
    a1ed, a1w1, a2w1 = org.unit("A1ED"), org.unit("A1W1"), org.unit("A2W1")
    b1ed, b1w1 = org.unit("B1ED"), org.unit("B1W1")
    at = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=2)  # T, the moment every reader reads
    base = at - timedelta(minutes=50)
    ids = itertools.count()

    def ev(type_: str, unit: str, minute: float, event_id: str | None = None, **fields: Any) -> dict[str, Any]:
        return {
            "event_id": event_id or f"one-{org.tag}-{next(ids)}",
            "type": type_,
            "occurred_at": (base + timedelta(minutes=minute)).isoformat(),
            "unit_id": unit,
            **fields,
        }

    def opened(unit: str, minute: float, ticket: str, priority: int, **fields: Any) -> dict[str, Any]:
        fields.setdefault("category", "login")
        return ev("ticket.opened", unit, minute, ticket_id=ticket, channel="phone", priority=priority, **fields)

    def t(name: str) -> str:
        return f"{name}-{org.tag}"

    def div_start(unit: str, minute: float, diversion: str, scope: str = "ambulance") -> dict[str, Any]:
        return ev(
            "ed.diversion_started",
            unit,
            minute,
            diversion_id=diversion,
            to_unit_ids=[a1ed if unit == b1ed else b1ed],
            scope=scope,
            reason="Överbelastad",
            decided_by="chef",
        )

    def checkin(unit: str, minute: float, walker: str, status: str, event_id: str | None = None) -> dict[str, Any]:
        return ev("floorwalker.checkin", unit, minute, event_id, walker_id=f"{walker}-{org.tag}", status=status)

    t4_opened = opened(b1w1, 6, t("T4"), 4, category="orders")
    w5_checkin = checkin(b1ed, 41, "W5", "on_unit")
    d1_end = ev("ed.diversion_ended", a1ed, 30, diversion_id=t("D1"), decided_by="chef")
    # The delivery order (what the worker receives), deliberately not time order.
    delivered = [
        # T1 (A1W1): opened P3, raised to P1 → open, P1.
        opened(a1w1, 0, t("T1"), 3),
        ev("ticket.updated", a1w1, 10, ticket_id=t("T1"), status="escalated", priority=1),
        # T2 (A1W1): P1, patient safety, resolved at +20; an update and a second resolve after that → resolved.
        opened(a1w1, 2, t("T2"), 1, patient_safety=True),
        ev("ticket.resolved", a1w1, 20, ticket_id=t("T2")),
        ev("ticket.updated", a1w1, 30, ticket_id=t("T2"), status="waiting", priority=2),
        ev("ticket.resolved", a1w1, 35, ticket_id=t("T2")),
        # T3 (A2W1): the P1 update arrives before its opening, an older P4 update arrives last → open, P1, safety.
        ev("ticket.updated", a2w1, 15, ticket_id=t("T3"), status="in_progress", priority=1),
        opened(a2w1, 5, t("T3"), 2, patient_safety=True),
        # T4 (B1W1): the resolve arrives first, the opening twice (same event_id) → resolved after 19 minutes.
        ev("ticket.resolved", b1w1, 25, ticket_id=t("T4")),
        t4_opened,
        dict(t4_opened),
        # T5 (B1W1): P1 lowered to P3 → open, not P1.
        opened(b1w1, 12, t("T5"), 1),
        ev("ticket.updated", b1w1, 40, ticket_id=t("T5"), status="waiting", priority=3),
        # T6 (B1ED): safety flag on the first opening; a resend (new event id) without it → open, safety.
        opened(b1ed, 3, t("T6"), 2, patient_safety=True),
        opened(b1ed, 30, t("T6"), 2),
        # T7 (A1ED): only a resolve seen → resolved (counted), never open.
        ev("ticket.resolved", a1ed, 18, ticket_id=t("T7")),
        # T8 (A2W1): resolved at +22 before its opening at +24 (clock skew) → resolved after 0 minutes.
        ev("ticket.resolved", a2w1, 22, ticket_id=t("T8")),
        opened(a2w1, 24, t("T8"), 1),
        ev("ticket.updated", a2w1, 8, ticket_id=t("T3"), status="waiting", priority=4),
        # D1 (A1ED): started +5, renewed +20, ended +30 (sent twice), a second end +45 and a start +40 after it.
        d1_end,
        div_start(a1ed, 20, t("D1"), scope="all"),
        div_start(a1ed, 5, t("D1")),
        dict(d1_end),
        ev("ed.diversion_ended", a1ed, 45, diversion_id=t("D1"), decided_by="chef"),
        div_start(a1ed, 40, t("D1")),
        # D2 (B1ED): started +10, still running at T.
        div_start(b1ed, 10, t("D2")),
        # D3 (B1ED): ended at +15 before it started at +35 (clock skew) → never active, no hours.
        div_start(b1ed, 35, t("D3")),
        ev("ed.diversion_ended", b1ed, 15, diversion_id=t("D3"), decided_by="chef"),
        # Floor walkers: W1 on A1W1; W2 moved to A2W1 for a break; W3 checked out; W4 on a break (sent first);
        # W5 on B1ED (sent twice).
        checkin(a1w1, 30, "W1", "on_unit"),
        checkin(a1w1, 20, "W2", "on_unit"),
        checkin(a2w1, 40, "W2", "break"),
        checkin(b1w1, 35, "W3", "assisting"),
        ev("floorwalker.checkout", b1w1, 44, walker_id=f"W3-{org.tag}"),
        checkin(b1w1, 42, "W4", "break"),
        checkin(b1w1, 10, "W4", "on_unit"),
        w5_checkin,
        dict(w5_checkin),
    ]

    # --- the oracle, by hand -------------------------------------------------------------------------------
    admin_a, admin_b = org.admin_a, org.admin_b
    expected_open = {admin_a: 2, admin_b: 2}  # A: T1, T3; B: T5, T6
    expected_open_p1 = {a1w1: 1, a2w1: 1}  # T1, T3 (T5 was lowered, T2 and T8 are resolved)
    expected_safety_open = {admin_a: 1, admin_b: 1}  # T3; T6
    expected_safety_opened = {a1w1: 1, a2w1: 1, b1ed: 1}  # T2, T3, T6 — all first opened at or after base
    expected_resolved = {a1w1: 1, b1w1: 1, a1ed: 1, a2w1: 1}  # T2 (+20), T4 (+25), T7 (+18), T8 (+22)
    expected_opened = {a1w1: 2, a2w1: 2, b1w1: 2, b1ed: 1}  # T1 T2, T3 T8, T4 T5, T6
    expected_resolve_minutes = [0.0, 18.0, 19.0]  # T8, T2, T4 (T7's opening was never seen)
    today = day_start(at, ZONE)
    expected_hours = {
        a1ed: overlap_hours(base + timedelta(minutes=5), base + timedelta(minutes=30), today, at),
        b1ed: overlap_hours(base + timedelta(minutes=10), None, today, at),
    }
    expected_hours = {unit: hours for unit, hours in expected_hours.items() if hours > 0}
    expected_on_unit = {a1w1: 1, b1ed: 1}  # W1, W5
    expected_on_break = {a2w1: 1, b1w1: 1}  # W2, W4
    admin_of = {a1ed: admin_a, a1w1: admin_a, a2w1: admin_a, b1ed: admin_b, b1w1: admin_b}

    def per_admin(per_unit: dict[str, int | float]) -> dict[str, float]:
        totals: dict[str, float] = {admin_a: 0, admin_b: 0}
        for unit, n in per_unit.items():
            totals[admin_of[unit]] += n
        return totals

    # --- the worker: stores every record and folds the live states ------------------------------------------
    states = MemoryStates()
    sink = EventSink(lambda rows: store_events(api.db, rows=rows))  # the worker's own sink
    processor = BatchProcessor(topics=TOPICS, states=states, store_events=sink)
    offsets: Counter[str] = Counter()
    records = []
    for item in delivered:
        topic = TOPICS.family(family_of(item["type"]))
        records.append(
            Record(topic=topic, partition=0, offset=offsets[topic], key=None, value=json.dumps(item).encode())
        )
        offsets[topic] += 1
    published: dict[tuple[str, str], dict[str, Any]] = {}  # what the worker publishes: each unit's newest view
    for start in range(0, len(records), 7):  # a few batches, like the worker's
        result = await processor.process(records[start : start + 7], now=at)
        assert not result.dead_letters
        published.update(result.views)
    assert sum(offsets.values()) - len({item["event_id"] for item in delivered}) == 3  # three resends

    registry = OrgRegistry.model_validate(org.document())
    unit_states: dict[str, dict[str, Any]] = {}
    for (family, unit_id), view in published.items():
        unit_states.setdefault(unit_id, {})[family] = view
    picture = build_situation(unit_states, org=registry, rules=load_rules(), now=at, presence_minutes=240)
    live = {admin["administration_id"]: admin for admin in picture["administrations"]}
    live_units = {
        unit["unit_id"]: unit
        for admin in picture["administrations"]
        for site in admin["sites"]
        for unit in site["units"]
    }

    # --- the stop criteria and the daily report, at T --------------------------------------------------------
    figures = await unit_figures(api.db, at=at, zone=ZONE)
    activity = await read_activity(api.db, registry, daily_period(local_day(at, ZONE), as_of=at, zone=ZONE))
    tallies = activity.tallies

    # --- the ticket list (and hot spots) -----------------------------------------------------------------
    tickets: dict[tuple[str, str], dict[str, Any]] = {}
    for admin in (admin_a, admin_b):
        response = await api.get("/api/v1/tickets", administration_id=admin, limit=500)
        assert response.status_code == 200, response.text
        for item in response.json()["items"]:
            tickets[(item["unit_id"], item["ticket_id"])] = item["ticket"]
    listed_open = [key for key, ticket in tickets.items() if ticket["opened_at"] and ticket["status"] != "resolved"]
    listed_resolved = [key for key, ticket in tickets.items() if ticket["status"] == "resolved"]

    def mine(counter: dict[str, Any]) -> dict[str, Any]:
        return {unit: n for unit, n in counter.items() if unit in admin_of and n}

    # Open tickets.
    for admin in (admin_a, admin_b):
        assert live[admin]["tickets"]["open"] == expected_open[admin]
        assert tallies[admin].tickets_open == expected_open[admin]
        assert sum(1 for unit, _ in listed_open if admin_of[unit] == admin) == expected_open[admin]
    # Open priority 1.
    assert mine(figures.open_priority1_tickets) == expected_open_p1
    assert {u: live_units[u]["tickets"]["open_by_priority"]["1"] for u in admin_of} == {
        u: expected_open_p1.get(u, 0) for u in admin_of
    }
    assert {a: tallies[a].tickets_open_p1 for a in (admin_a, admin_b)} == per_admin(expected_open_p1)
    assert Counter(unit for unit, ticket_id in listed_open if tickets[(unit, ticket_id)]["priority"] == 1) == Counter(
        expected_open_p1
    )
    # Patient safety: open now, and first opened today.
    for admin in (admin_a, admin_b):
        assert live[admin]["tickets"]["patient_safety_open"] == expected_safety_open[admin]
        assert tallies[admin].patient_safety_open == expected_safety_open[admin]
        assert (
            sum(1 for key in listed_open if admin_of[key[0]] == admin and tickets[key]["patient_safety"])
            == expected_safety_open[admin]
        )
    if base >= today:  # (a run just after local midnight puts some openings on the previous day)
        assert mine(figures.patient_safety_tickets_today) == expected_safety_opened
        assert {a: tallies[a].patient_safety_opened for a in (admin_a, admin_b)} == per_admin(expected_safety_opened)
        assert {a: tallies[a].tickets_resolved for a in (admin_a, admin_b)} == per_admin(expected_resolved)
        assert {a: tallies[a].tickets_opened for a in (admin_a, admin_b)} == per_admin(expected_opened)
        assert sorted(tallies[admin_a].resolve_minutes + tallies[admin_b].resolve_minutes) == expected_resolve_minutes
    # Resolved: live counts the last hour, the list all, the report the day so far (all the same events here).
    assert {u: live_units[u]["tickets"]["resolved_1h"] for u in admin_of} == {
        u: expected_resolved.get(u, 0) for u in admin_of
    }
    assert {u: live_units[u]["tickets"]["opened_1h"] for u in admin_of} == {
        u: expected_opened.get(u, 0) for u in admin_of
    }
    assert Counter(unit for unit, _ in listed_resolved) == Counter(expected_resolved)
    assert [live[a]["tickets"]["resolutions_24h"] for a in (admin_a, admin_b)] == [2, 1]
    assert [live[a]["tickets"]["median_minutes_to_resolve_24h"] for a in (admin_a, admin_b)] == [9.0, 19.0]

    hotspots = await api.get("/api/v1/tickets/hotspots", minutes=60, limit=100)
    assert hotspots.status_code == 200, hotspots.text
    spots = {spot["unit_id"]: (spot["opened"], spot["resolved"]) for spot in hotspots.json()["items"]}
    assert {unit: counts for unit, counts in spots.items() if unit in admin_of} == {
        unit: (expected_opened.get(unit, 0), expected_resolved.get(unit, 0))
        for unit in admin_of
        if expected_opened.get(unit, 0) > expected_resolved.get(unit, 0)
    }

    # Diversions: hours today (stop criteria, report) and what is active at T (live, report).
    assert mine(figures.diversion_hours_today).keys() == expected_hours.keys()
    for unit, hours in expected_hours.items():
        assert abs(figures.diversion_hours_today[unit] - hours) < 1e-9
        assert abs(activity.eds[unit].diversion_seconds / 3600 - hours) < 1e-9
    for admin in (admin_a, admin_b):
        assert abs(tallies[admin].diversion_seconds / 3600 - per_admin(expected_hours)[admin]) < 1e-9
    active_live = [
        (d["unit_id"], d["diversion_id"], d["since"], d["scope"]) for d in picture["region"]["ed"]["active_diversions"]
    ]
    d2_since = (base + timedelta(minutes=10)).isoformat()
    assert [item for item in active_live if item[0] in admin_of] == [(b1ed, t("D2"), d2_since, "ambulance")]
    assert [(u, d.diversion_id) for u, ed in activity.eds.items() if u in admin_of and (d := ed.active)] == [
        (b1ed, t("D2"))
    ]
    assert live_units[a1ed]["ed"]["diversion"] is None

    # Floor walkers: on the unit and on a break, live and in the report at T.
    assert {u: live_units[u]["floorwalkers"]["on_unit"] for u in admin_of} == {
        u: expected_on_unit.get(u, 0) for u in admin_of
    }
    assert {u: live_units[u]["floorwalkers"]["on_break"] for u in admin_of} == {
        u: expected_on_break.get(u, 0) for u in admin_of
    }
    assert {a: tallies[a].walkers_on_unit for a in (admin_a, admin_b)} == per_admin(expected_on_unit)
    assert {a: tallies[a].walkers_on_break for a in (admin_a, admin_b)} == per_admin(expected_on_break)
    assert (picture["region"]["floorwalkers"]["on_unit"], picture["region"]["floorwalkers"]["on_break"]) == (2, 2)
    if base >= today:
        # A break check-in is not a visit: A2W1 (only W2's break) is not visited, live or in the report.
        assert tallies[admin_a].units_visited | tallies[admin_b].units_visited == {a1w1, b1w1, b1ed}
    assert live_units[a2w1]["floorwalkers"]["last_visit_at"] is None
