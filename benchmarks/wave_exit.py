"""How long the exit criteria take to judge for the whole region (a benchmark, not a test).

Stores four days of tickets at the rate a comparable go-live expected at its peak (Sundhedsplatformen: 2,000
reports a day; DOMAIN.md), spread over every unit of ``region_org.yaml`` (1,542 units), with one in ten opened at
priority 1 and half of those resolved, and 40 ED diversions (half ended), in a fresh SQLite file; then times every
wave's exit criteria (what ``GET /api/v1/waves`` adds) and one wave's (``GET /api/v1/waves/{wave_id}/exit``).

    .venv/bin/python benchmarks/wave_exit.py
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from datetime import UTC, datetime, timedelta  # noqa: E402
from typing import Any  # noqa: E402
from zoneinfo import ZoneInfo  # noqa: E402

from hypercare.contract.events import event_to_json_text, new_id, parse_event  # noqa: E402
from hypercare.org.registry import load_org  # noqa: E402
from hypercare.rules.exit_criteria import load_exit_criteria  # noqa: E402
from hypercare.storage.db import Database  # noqa: E402
from hypercare.storage.events_store import EventRow, store_events  # noqa: E402
from hypercare.storage.migrate import upgrade_database  # noqa: E402
from services.wave_exit.service import wave_exit, wave_exits  # noqa: E402

DAYS = 4
TICKETS_PER_DAY = 2000
DIVERSIONS = 40
ZONE = ZoneInfo("Europe/Stockholm")


async def timed(label: str, repeat: int, call: Any) -> Any:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = await call()
        times.append(time.perf_counter() - start)
    print(f"{label}: {statistics.median(times) * 1000:.0f} ms (median of {repeat}, max {max(times) * 1000:.0f} ms)")
    return result


def row(data: dict[str, Any], offset: int) -> EventRow:
    event = parse_event({"event_id": new_id("bench"), **data})
    return EventRow(
        event_id=event.event_id,
        type=event.type,
        family=event.family,
        unit_id=event.unit_id,
        occurred_at=event.occurred_at,
        source=None,
        payload=event_to_json_text(event),
        src_topic="bench",
        src_partition=0,
        src_offset=offset,
    )


async def main() -> None:
    org = load_org(filename="region_org.yaml")
    criteria = load_exit_criteria()
    units = list(org.placements)
    eds = [placement.unit_id for placement in org.emergency_departments]
    now = datetime.now(UTC)
    start = now - timedelta(days=DAYS)
    step = timedelta(days=DAYS) / (DAYS * TICKETS_PER_DAY)
    events: list[dict[str, Any]] = []
    for index in range(DAYS * TICKETS_PER_DAY):
        unit_id, at, ticket_id = units[index % len(units)], start + step * index, f"T{index}"
        p1 = index % 10 == 0
        events.append(
            {
                "type": "ticket.opened",
                "occurred_at": at.isoformat(),
                "unit_id": unit_id,
                "ticket_id": ticket_id,
                "channel": "phone",
                "category": "login",
                "priority": 1 if p1 else 3,
            }
        )
        if p1 and index % 20 == 0 and at + timedelta(hours=2) < now:
            resolved = (at + timedelta(hours=2)).isoformat()
            events.append(
                {"type": "ticket.resolved", "occurred_at": resolved, "unit_id": unit_id, "ticket_id": ticket_id}
            )
    for index in range(DIVERSIONS):
        ed, at = eds[index % len(eds)], start + timedelta(hours=2 * index)
        common = {"unit_id": ed, "diversion_id": f"D{index}", "decided_by": "Produktionschef"}
        events.append(
            {
                "type": "ed.diversion_started",
                "occurred_at": at.isoformat(),
                "to_unit_ids": [eds[(index + 1) % len(eds)]],
                "scope": "ambulance",
                "reason": "Överbeläggning",
                **common,
            }
        )
        if index % 2:
            events.append(
                {"type": "ed.diversion_ended", "occurred_at": (at + timedelta(hours=3)).isoformat(), **common}
            )
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'exit.db'}"
        upgrade_database(url)
        db = Database.from_url(url)
        try:
            rows = [row(data, offset) for offset, data in enumerate(events)]
            for first in range(0, len(rows), 1000):
                await store_events(db, rows=rows[first : first + 1000])
            print(f"{len(units)} units, {len(org.waves)} waves: {len(rows)} events stored")
            exits = await timed(
                "every wave's exit criteria (GET /api/v1/waves)",
                5,
                lambda: wave_exits(db, org, criteria, at=now, zone=ZONE),
            )
            wave = max(org.wave_units, key=lambda w: len(org.wave_units[w]))
            await timed(
                f"wave {wave} ({len(org.wave_units[wave])} units, GET /api/v1/waves/{wave}/exit)",
                5,
                lambda: wave_exit(db, org, criteria, wave, at=now, zone=ZONE),
            )
            print("verdicts:", {wave_id: verdict.overall for wave_id, verdict in exits.items()})
        finally:
            await db.close()


if __name__ == "__main__":
    asyncio.run(main())
