"""CPU per event of the stream worker's own work, without broker or database (a benchmark, not a test).

The worker's batch step (``streams.processor.BatchProcessor``: decode and check each record, fold it into its
unit's state, build the changed units' views) and the situation-record encoding of those views, run over records
made from a go-live day's events (``pipeline.day_events``) on a generated registry of ``--units`` units, in
batches of ``--batch`` records. States live in memory and are JSON-encoded on every write as the changelog would
be; the event store answers at once. What the real worker adds on top (Kafka fetch and produce, the database,
Faust's tables) is measured by ``pipeline.py``; this isolates the part our code decides, so a change to it can be
measured back to back on a busy machine: it prints CPU time of this process, not wall time.

    python benchmarks/processor_cpu.py --events 50000 --units 2000 --repeat 3 [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import pstats
import statistics
import sys
import time
import zlib
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "_support"))

from pipeline import day_events, generated_org

from hypercare.contract.events import family_of
from hypercare.settings import Settings
from hypercare.situation import record as situation_record
from hypercare.storage.events_store import EventRow
from hypercare.topics import topics_for
from streams.processor import BatchProcessor, Record
from streams.sink import Stored


class ChangelogStates:
    """Unit states in memory; each write JSON-encoded as the worker's changelog send encodes it."""

    def __init__(self) -> None:
        self.values: dict[tuple[str, str], dict[str, Any]] = {}

    def get(self, family: str, key: str) -> dict[str, Any] | None:
        return self.values.get((family, key))

    def put(self, family: str, key: str, partition: int, value: dict[str, Any]) -> None:
        json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        self.values[(family, key)] = value


async def store_all(rows: Sequence[EventRow]) -> Stored:
    return Stored({row.event_id: (row.src_topic, row.src_partition, row.src_offset) for row in rows})


def records_of(events: list[dict[str, Any]], partitions: int) -> list[Record]:
    topics = topics_for(Settings())
    offsets: dict[tuple[str, int], int] = {}
    records = []
    for event in events:
        topic = topics.families[family_of(event["type"])]
        partition = zlib.crc32(event["unit_id"].encode()) % partitions
        offset = offsets.get((topic, partition), 0)
        offsets[(topic, partition)] = offset + 1
        records.append(Record(topic, partition, offset, event["unit_id"].encode(), json.dumps(event).encode()))
    return records


async def run_once(records: list[Record], batch: int) -> float:
    processor = BatchProcessor(topics=topics_for(Settings()), states=ChangelogStates(), store_events=store_all)
    now = datetime.now(UTC)
    started = time.process_time()
    for start in range(0, len(records), batch):
        result = await processor.process(records[start : start + batch], now=now)
        for (family, unit_id), view in result.views.items():
            situation_record.encode(unit_id, family, view, as_of=now)
    return time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--units", type=int, default=2_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="print the 30 costliest calls of one more run")
    args = parser.parse_args()
    records = records_of(day_events(args.events, "cpu", generated_org(args.units)), args.partitions)
    seconds = [asyncio.run(run_once(records, args.batch)) for _ in range(args.repeat)]
    per_event = [s / args.events * 1e6 for s in seconds]
    print(
        f"{args.events:,} events, {args.units:,} units, batches of {args.batch}: "
        f"CPU per event median {statistics.median(per_event):.1f} µs (runs: {', '.join(f'{v:.1f}' for v in per_event)})"
    )
    if args.profile:
        profile = cProfile.Profile()
        profile.enable()
        asyncio.run(run_once(records, args.batch))
        profile.disable()
        pstats.Stats(profile).sort_stats("cumulative").print_stats(30)


if __name__ == "__main__":
    main()
