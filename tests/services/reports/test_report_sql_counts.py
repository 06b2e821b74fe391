"""Figures the database counts for the report, against a count of the stored events in Python, on both dialects;
and the ticket lookups' plan on a PostgreSQL table without statistics (a day bulk-stored before any ANALYZE).
"""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import pytest
from pg_databases import fresh_pg_database
from report_day import ZONE, fresh_day, local
from sqlalchemy import text
from sqlalchemy.dialects import postgresql
from stored_events import at, store

from hypercare.contract.events import FloorwalkerCheckin, parse_event
from hypercare.org.registry import load_org
from hypercare.situation.facts import presence
from hypercare.storage.db import Database
from services.reports.activity import REGION, read_activity
from services.reports.period import daily_period
from services.stop_criteria.measures import flagged_opened, ticket_events_query


async def test_ed_load_per_unit_and_administration_is_the_rows_counted_one_by_one(db: Database) -> None:
    org = load_org()
    eds = [placement.unit_id for placement in org.emergency_departments][:3]
    day = fresh_day()
    reports: list[dict[str, Any]] = []
    # Occupancies whose quotients are not exact in binary (1/3, 2/3, 7/9, 10/7 ...) and ties after rounding.
    shapes = [(4, 1, 3), (9, 2, 3), (0, 7, 9), (31, 5, 1), (2, 20, 28), (40, 28, 28), (12, 10, 7), (3, 20, 30)]
    for i, (waiting, inside, capacity) in enumerate(shapes * 2):
        reports.append(
            {
                "event_id": f"edsql-{day}-{i}",
                "type": "ed.status",
                "occurred_at": at(local(day, 8) + timedelta(minutes=7 * i)),
                "unit_id": eds[i % len(eds)],
                "patients_waiting": waiting + i,
                "patients_in_department": inside,
                "capacity": capacity,
            }
        )
    outside = {**reports[0], "event_id": f"edsql-{day}-late", "occurred_at": at(local(day, 8) + timedelta(days=1))}
    await store(db, *reports, outside)

    activity = await read_activity(db, org, daily_period(day, as_of=local(day, 23, 59), zone=ZONE))

    def oracle(items: list[dict[str, Any]]) -> tuple[int, int | None, float | None]:
        occupancies = [round(r["patients_in_department"] / r["capacity"], 6) for r in items if r["capacity"]]
        return len(items), max((r["patients_waiting"] for r in items), default=None), max(occupancies, default=None)

    for unit_id in eds:
        load = activity.eds[unit_id].load
        assert (load.reports, load.max_waiting, load.max_occupancy) == oracle(
            [r for r in reports if r["unit_id"] == unit_id]
        )
    for admin_id in {org.place(unit_id).administration_id for unit_id in eds}:
        load = activity.tallies[admin_id].ed
        mine = [r for r in reports if org.place(r["unit_id"]).administration_id == admin_id]
        assert (load.reports, load.max_waiting, load.max_occupancy) == oracle(mine)
    region = activity.tallies[REGION].ed
    assert (region.reports, region.max_waiting, region.max_occupancy) == oracle(reports)


@pytest.fixture
def unanalyzed_pg_url() -> Iterator[str]:
    """A database of its own: its events table has never been analysed (reltuples -1), as after a bulk load."""
    with fresh_pg_database("hc_plan") as url:
        yield url


@pytest.fixture
async def unanalyzed_pg(unanalyzed_pg_url: str) -> AsyncIterator[Database]:
    database = Database.from_url(unanalyzed_pg_url)
    yield database
    await database.close()


async def test_ticket_events_are_looked_up_by_ticket_id_when_the_table_has_no_statistics(
    unanalyzed_pg: Database,
) -> None:
    day = fresh_day()
    opened = [
        {
            "event_id": f"plan-{i}",
            "type": "ticket.opened",
            "occurred_at": at(local(day, 9) + timedelta(seconds=i)),
            "unit_id": "SE2321000131-ESASBOR210",
            "ticket_id": f"T-{i}",
            "channel": "phone",
            "category": "login",
            "priority": 1 + i % 4,
            "summary": "kan inte logga in",
            "patient_safety": i % 5 == 0,
        }
        for i in range(50)
    ]
    await store(unanalyzed_pg, *opened)
    moment = local(day, 23)
    query = ticket_events_query(flagged_opened(since=local(day, 0), at=moment), at=moment)
    sql = str(query.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
    async with unanalyzed_pg.engine.connect() as connection:
        assert (await connection.execute(text("SELECT reltuples FROM pg_class WHERE relname = 'events'"))).scalar() < 0
        plan = json.dumps((await connection.execute(text(f"EXPLAIN (FORMAT JSON) {sql}"))).scalar())
    # Without the index: a nested loop comparing every ticket event with every candidate (quadratic).
    assert "ix_events_ticket_id" in plan, plan


async def test_floor_walker_figures_counted_in_sql_are_the_events_counted_one_by_one(db: Database) -> None:
    """Check-ins, assists, escalations, walkers and visited units per administration counted by the database, and
    presence folded from each walker's latest event per unit, against the shared presence rules over every event
    (moves between units, breaks, checkouts, ties at one second, events the evening before and after the end)."""
    org = load_org()
    units = list(org.placements)[:5]
    day = fresh_day()
    rng = random.Random(7)
    items: list[dict[str, Any]] = []
    start, end = local(day, 0), local(day, 0) + timedelta(days=1)
    for i in range(300):
        when = local(day, 0) + timedelta(minutes=10 * rng.randrange(-30, 150))  # from 19:00 the day before
        base = {"event_id": f"fwsql-{day}-{i}{rng.choice('aZ')}", "occurred_at": at(when), "unit_id": rng.choice(units)}
        walker = f"fw-{day}-{rng.randrange(12)}"
        if rng.random() < 0.25:
            items.append(base | {"type": "floorwalker.checkout", "walker_id": walker})
            continue
        checkin = {"type": "floorwalker.checkin", "walker_id": walker, "assists": rng.randint(0, 3)}
        status = rng.choice(["on_unit", "assisting", "break"])
        items.append(base | checkin | {"status": status, "needs_escalation": rng.random() < 0.2})
    items.append({**items[0], "event_id": f"fwsql-{day}-late", "occurred_at": at(end + timedelta(minutes=5))})
    # A unit visited only by a checkout (a break check-in is no visit); at one second a check-in beats a checkout.
    quiet = {"unit_id": list(org.placements)[5], "walker_id": f"fw-{day}-quiet", "occurred_at": at(local(day, 23))}
    items.append(quiet | {"event_id": f"fwsql-{day}-q1", "type": "floorwalker.checkout"})
    items.append(quiet | {"event_id": f"fwsql-{day}-q0", "type": "floorwalker.checkin", "status": "break"})
    units.append(quiet["unit_id"])
    await store(db, *items)
    period = daily_period(day, as_of=local(day, 23, 59), zone=ZONE)
    activity = await read_activity(db, org, period, presence_minutes=240)

    events = [parse_event(item) for item in items]
    inside = [e for e in events if start <= e.occurred_at < period.counted_until]
    present, _ = presence.fold_presence(
        [e for e in events if e.occurred_at < period.counted_until],
        as_of=period.counted_until,
        presence_seconds=240 * 60,
    )
    for admin_id in [*{org.place(unit).administration_id for unit in units}, REGION]:
        mine = [e for e in inside if admin_id == REGION or org.place(e.unit_id).administration_id == admin_id]
        checkins = [e for e in mine if isinstance(e, FloorwalkerCheckin)]
        tally = activity.tallies[admin_id]
        here = [p for unit, p in present.items() if admin_id == REGION or org.place(unit).administration_id == admin_id]
        assert (
            tally.checkins,
            tally.assists,
            tally.escalations,
            tally.walkers,
            tally.units_visited,
            tally.walkers_on_unit,
            tally.walkers_on_break,
        ) == (
            len(checkins),
            sum(e.assists for e in checkins),
            sum(e.needs_escalation for e in checkins),
            {e.walker_id for e in mine},  # type: ignore[union-attr]
            {e.unit_id for e in mine if presence.is_visit(e)},  # type: ignore[arg-type]
            sum(len(p.on_unit) for p in here),
            sum(len(p.on_break) for p in here),
        ), admin_id
    assert activity.tallies[REGION].walkers_on_unit + activity.tallies[REGION].walkers_on_break > 0
