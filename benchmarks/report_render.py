"""Time of today's daily report over a day of N events (a benchmark, not a test).

Fills a fresh database through the real event store (``store_events``, as the stream worker writes) with
``--events`` events of today spread from local midnight to a minute ago over ``--units`` units: the fault
suite's mix (45 % access.login of which 30 % failed, 10 % access.permission_denied, 20 % ticket.opened, 7 %
ticket.resolved of an open ticket, 10 % floorwalker.checkin, the rest ed.status on the emergency departments
among the units), plus two diversions, a decision and a risk. Then it times the report's snapshot
(``service.daily_report``: the preview the API answers with, and the same ``build_snapshot`` a draft and its
refresh store) and the HTML render of it, ``--repeat`` times, and prints seconds, events and units.

By default the database is a fresh PostgreSQL database on 127.0.0.1:5432 (trust auth, as the tests use),
dropped at the end; ``--sqlite`` uses a fresh SQLite file instead; ``--database-url`` an existing, empty
database (migrated to head here). ``--units`` up to 40 takes the shipped registry's first units; more copies
the registry (``big_registry.generated_registry``).

    .venv/bin/python benchmarks/report_render.py [--events 100000] [--units 6] [--sqlite] [--repeat 3] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "_support"))

from big_registry import generated_registry  # noqa: E402
from pg_databases import fresh_pg_database  # noqa: E402

from hypercare.contract.events import parse_event  # noqa: E402
from hypercare.org.registry import OrgRegistry, load_org  # noqa: E402
from hypercare.settings import Settings  # noqa: E402
from hypercare.storage.db import Database  # noqa: E402
from hypercare.storage.events_store import EventRow, store_events  # noqa: E402
from hypercare.storage.migrate import upgrade_database  # noqa: E402
from services.reports import service  # noqa: E402
from services.reports.context import ReportContext  # noqa: E402
from services.reports.period import local_day, local_midnight  # noqa: E402
from services.reports.render import render_html  # noqa: E402

BATCH = 10_000


def registry(units: int) -> tuple[OrgRegistry, list[str]]:
    """The registry and the units that get events: up to 40 the shipped registry's first two emergency
    departments and then its other units in order (6: the fault suite's four wards and two EDs)."""
    shipped = load_org()
    if units > len(shipped.placements):
        org = generated_registry(shipped, units)
        return org, list(org.placements)
    eds = [p.unit_id for p in shipped.emergency_departments][:2]
    others = [unit_id for unit_id in shipped.placements if unit_id not in eds]
    return shipped, [*eds, *others][: max(units, 2)]


def day_of_events(
    org: OrgRegistry, units: list[str], count: int, *, start: datetime, end: datetime, seed: int
) -> Iterator[dict[str, Any]]:
    """``count`` events on ``units`` between ``start`` and ``end``, oldest first, then coordination."""
    rng = random.Random(seed)
    eds = [p.unit_id for p in org.emergency_departments if p.unit_id in set(units)] or units[:1]
    span = (end - start).total_seconds()
    open_tickets: dict[str, list[str]] = {unit: [] for unit in units}
    for i in range(count):
        at = (start + timedelta(seconds=span * i / count)).isoformat()
        unit = rng.choice(units)
        base = {"event_id": f"bench-{i}", "occurred_at": at, "unit_id": unit, "source": "benchmark"}
        roll = rng.random()
        if roll < 0.45:
            failed = rng.random() < 0.3
            item = {**base, "type": "access.login", "user_ref": f"u{rng.randint(0, 3000)}"}
            item["outcome"] = "failure" if failed else "success"
            if failed:
                item["reason"] = rng.choice(["wrong_password", "card_error", "expired", "account_locked"])
        elif roll < 0.55:
            role = rng.choice(["lakare", "sjukskoterska", "underskoterska"])
            item = {**base, "type": "access.permission_denied", "user_ref": f"u{rng.randint(0, 3000)}", "role": role}
            item["module"] = "ordination"
        elif roll < 0.75:
            ticket_id = f"T{i}"
            open_tickets[unit].append(ticket_id)
            item = {
                **base,
                "type": "ticket.opened",
                "ticket_id": ticket_id,
                "channel": rng.choice(["phone", "chat", "portal"]),
                "category": rng.choice(["login", "printing", "orders", "medication"]),
                "priority": rng.randint(1, 4),
                "summary": "kan inte skriva ut",
                "patient_safety": rng.random() < 0.001,
            }
        elif roll < 0.82 and open_tickets[unit]:
            ticket_id = open_tickets[unit].pop(rng.randrange(len(open_tickets[unit])))
            item = {**base, "type": "ticket.resolved", "ticket_id": ticket_id}
        elif roll < 0.92:
            item = {
                **base,
                "type": "floorwalker.checkin",
                "walker_id": f"fw-{rng.randint(0, 200)}",
                "status": rng.choice(["on_unit", "assisting", "break"]),
                "assists": rng.randint(0, 3),
                "needs_escalation": rng.random() < 0.05,
            }
        else:
            item = {
                **base,
                "unit_id": rng.choice(eds),
                "type": "ed.status",
                "patients_waiting": rng.randint(0, 40),
                "patients_in_department": rng.randint(5, 60),
                "capacity": 28,
            }
        yield item
    middle = (start + (end - start) / 2).isoformat()
    diversion = {"type": "ed.diversion_started", "occurred_at": middle, "unit_id": eds[0], "scope": "ambulance"}
    diversion |= {"to_unit_ids": [eds[-1]], "reason": "överbeläggning", "decided_by": "Produktionschef"}
    yield {**diversion, "event_id": "bench-div", "diversion_id": "D1"}
    first = {"occurred_at": middle, "unit_id": units[0]}
    decision = {"event_id": "bench-dec", "type": "decision.recorded", "decision_id": "B1", "title": "Fortsätt"}
    yield {**first, **decision, "decision": "Vi fortsätter", "decided_by": "Produktionschef"}
    risk = {"event_id": "bench-risk", "type": "risk.recorded", "risk_id": "R1", "title": "Kortläsare"}
    yield {**first, **risk, "status": "open", "severity": "high", "recorded_by": "IT"}


async def fill(db: Database, events: Iterator[dict[str, Any]]) -> int:
    """Store the events in batches through the event store; the number stored."""
    stored = 0
    batch: list[EventRow] = []

    async def flush() -> None:
        nonlocal stored
        stored += len(await store_events(db, rows=batch))
        batch.clear()

    for offset, item in enumerate(events):
        batch.append(EventRow.of(parse_event(item), src_topic="benchmark", src_partition=0, src_offset=offset))
        if len(batch) >= BATCH:
            await flush()
    if batch:
        await flush()
    return stored


async def run(url: str, args: argparse.Namespace) -> None:
    org, units = registry(args.units)
    context = ReportContext.from_settings(Settings(), org)
    db = Database.from_url(url)
    try:
        now = datetime.now(UTC)
        midnight = local_midnight(local_day(now, context.zone), context.zone)
        start = max(midnight, now - timedelta(minutes=args.minutes)) if args.minutes else midnight
        end = now - timedelta(seconds=1)
        began = time.perf_counter()
        stored = await fill(db, day_of_events(org, units, args.events, start=start, end=end, seed=args.seed))
        print(
            f"{db.dialect}: {stored:,} events of today stored on {len(units):,} units "
            f"in {time.perf_counter() - began:.1f} s"
        )
        if args.analyze and db.dialect == "postgresql":
            async with db.engine.begin() as connection:
                await connection.exec_driver_sql("ANALYZE events")
        snapshots, renders = [], []
        for _ in range(args.repeat):
            began = time.perf_counter()
            report = await service.daily_report(db=db, context=context, day=None, now=datetime.now(UTC))
            snapshots.append(time.perf_counter() - began)
            began = time.perf_counter()
            render_html(service.public(report), report.content)
            renders.append(time.perf_counter() - began)
        print(
            f"daily report snapshot (service.daily_report, preview): median {statistics.median(snapshots):.2f} s, "
            f"min {min(snapshots):.2f} s, max {max(snapshots):.2f} s over {len(snapshots)}"
        )
        print(f"HTML render of it (render_html): median {statistics.median(renders):.2f} s")
        print(f"figures: {stored:,} events, {len(units):,} units with events, {len(org.placements):,} in the registry")
        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            await service.daily_report(db=db, context=context, day=None, now=datetime.now(UTC))
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
    finally:
        await db.close()


@contextmanager
def database(args: argparse.Namespace) -> Iterator[str]:
    if args.database_url:
        upgrade_database(args.database_url)
        yield args.database_url
    elif args.sqlite:
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite+aiosqlite:///{Path(folder) / 'report.db'}"
            upgrade_database(url)
            yield url
    else:
        with fresh_pg_database("hc_bench_report") as url:
            yield url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000, help="events of today (default 100,000)")
    parser.add_argument("--units", type=int, default=6, help="units (default 6: up to 40 the shipped registry's)")
    parser.add_argument("--database-url", default=None, help="an existing empty database (default: a fresh PG one)")
    parser.add_argument("--sqlite", action="store_true", help="a fresh SQLite file instead of PostgreSQL")
    parser.add_argument(
        "--minutes",
        type=float,
        default=5.0,
        help="events spread over the last M minutes (default 5, as the fault suite's send; 0: since local midnight)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="renders timed (default 3)")
    parser.add_argument(
        "--analyze",
        action="store_true",
        help="ANALYZE the events table before timing (default: as stored, before autovacuum has looked at it)",
    )
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--profile", action="store_true", help="print the 30 costliest calls of one more snapshot")
    args = parser.parse_args()
    with database(args) as url:
        asyncio.run(run(url, args))


if __name__ == "__main__":
    main()
