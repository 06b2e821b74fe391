"""How long readiness takes to read for the whole region (a benchmark, not a test).

Stores three rounds of assessments (a sheet imported on three days) of every checklist item of every unit of
``region_org.yaml`` (1,542 units, six items: 3 × 9,252 ``readiness.assessed`` events) in a fresh SQLite file, then
times ``GET /api/v1/readiness``'s service for the whole
region and for one wave, ``GET /api/v1/waves``' gates, and one unit (the unit view's read), and prints the size of
the whole region's answer. The goal: a wave's readiness well under a second, so the coordination group's console
can poll it.

    .venv/bin/python benchmarks/readiness.py
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

from hypercare.contract.events import new_id, parse_event  # noqa: E402
from hypercare.org.registry import load_org  # noqa: E402
from hypercare.rules.readiness import load_readiness  # noqa: E402
from hypercare.storage.db import Database  # noqa: E402
from hypercare.storage.events_store import EventRow, store_events  # noqa: E402
from hypercare.storage.migrate import upgrade_database  # noqa: E402
from services.readiness.service import readiness_at, unit_readiness_at, wave_gates  # noqa: E402

ROUNDS = 3


async def timed(label: str, repeat: int, call: object) -> object:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = await call()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    print(f"{label}: {statistics.median(times) * 1000:.0f} ms (median of {repeat}, max {max(times) * 1000:.0f} ms)")
    return result


async def main() -> None:
    org = load_org(filename="region_org.yaml")
    checklist = load_readiness()
    at = datetime.now(UTC) - timedelta(hours=1)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'readiness.db'}"
        upgrade_database(url)
        db = Database.from_url(url)
        try:
            rows = []
            for day, (index, unit_id) in ((d, u) for d in range(ROUNDS) for u in enumerate(org.placements)):
                for item in checklist.items:
                    value: bool | float = (index % 7 != day) if item.kind == "check" else float(70 + (index + day) % 31)
                    event = parse_event(
                        {
                            "event_id": new_id("bench"),
                            "type": "readiness.assessed",
                            "occurred_at": (at - timedelta(days=ROUNDS - 1 - day)).isoformat(),
                            "unit_id": unit_id,
                            "item": item.id,
                            "value": value,
                            "assessor": "Utbildningssystemet",
                        }
                    )
                    rows.append(EventRow.of(event, src_topic="bench", src_partition=0, src_offset=len(rows)))
            for start in range(0, len(rows), 1000):
                await store_events(db, rows=rows[start : start + 1000])
            print(f"{len(org.placements)} units, {len(checklist.items)} items, {ROUNDS} rounds: {len(rows)} stored")
            wave = max(org.wave_units, key=lambda w: len(org.wave_units[w]))
            now = datetime.now(UTC)
            whole = await timed("whole region", 5, lambda: readiness_at(db, org, checklist, at=now))
            await timed(
                f"wave {wave} ({len(org.wave_units[wave])} units)",
                5,
                lambda: readiness_at(db, org, checklist, at=now, wave=wave),
            )
            await timed("every wave's gate (GET /api/v1/waves)", 5, lambda: wave_gates(db, org, checklist, at=now))
            unit = next(iter(org.placements))
            await timed("one unit (the unit view)", 20, lambda: unit_readiness_at(db, org, checklist, unit, at=now))
            size = len(whole.model_dump_json())  # type: ignore[attr-defined]
            print(f"whole region's answer: {size / 1024 / 1024:.1f} MiB of JSON")
        finally:
            await db.close()


if __name__ == "__main__":
    asyncio.run(main())
