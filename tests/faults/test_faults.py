"""Faults against the real product (worker and API processes, the session's broker and PostgreSQL), each judged
by an independent oracle (``fault_oracle``): nothing lost, nothing counted twice."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from fault_oracle import CHIEF_TYPES, Verdict, mixed_load, stored_event_ids
from fault_runs import assert_exact, post_all, settle_and_judge
from hc_testkit import Pipeline, running

from hypercare.contract.events import family_of
from hypercare.settings import Settings
from hypercare.topics import topics_for
from services.ingest.producer import encode_key

pytestmark = pytest.mark.slow


@pytest.fixture
async def pipeline(settings_factory: Callable[..., Settings], tmp_path: Path) -> AsyncIterator[Pipeline]:
    # Small batches: a kill lands in many half-finished batches.
    async with running(settings_factory(worker_batch_size=100), tmp_path) as started:
        yield started


async def test_worker_sigkill_five_times_during_a_mixed_load(
    pipeline: Pipeline, report: Callable[[Verdict], None]
) -> None:
    events = mixed_load(seed=1, count=4000)
    await pipeline.wait_worker_ready()
    poster = asyncio.create_task(post_all(pipeline, events, batch=40, pause=0.3))  # about 35 s of load
    for _ in range(5):
        await asyncio.sleep(1.5)
        assert not poster.done(), "every kill should land while events are still coming in"
        pipeline.kill_worker()
        pipeline.start_worker()
        await pipeline.wait_worker_ready()
    await poster
    assert_exact(await settle_and_judge(pipeline, "worker SIGKILL ×5 during a mixed load", events), report)


async def test_ten_percent_duplicates_and_reordering_within_a_minute(
    pipeline: Pipeline, report: Callable[[Verdict], None]
) -> None:
    events = mixed_load(seed=2, count=3000)
    rng = random.Random(2)
    sent = events + [dict(e) for e in rng.sample(events, len(events) // 10)]  # resends carry the same event_id
    # Reorder: shuffle within windows of one minute of occurred_at (the sources' clocks and retries).
    sent.sort(key=lambda e: (e["occurred_at"][:16], rng.random()))
    await post_all(pipeline, sent, batch=250)
    assert_exact(await settle_and_judge(pipeline, "10 % duplicates, reordered within 60 s", sent), report)


async def test_a_poison_record_mid_batch_is_dead_lettered_and_the_partition_keeps_counting(
    pipeline: Pipeline, report: Callable[[Verdict], None]
) -> None:
    """Records produced straight to the topic (past ingest's checks): a NUL, which PostgreSQL cannot keep in
    text, in the middle of a batch of good records on the same partition; then more good records."""
    events = [e for e in mixed_load(seed=3, count=600) if e["type"] not in CHIEF_TYPES]
    topics = topics_for(pipeline.settings)
    unit = events[0]["unit_id"]
    poison = {
        "event_id": "poison-nul",
        "type": "ticket.opened",
        "occurred_at": events[300]["occurred_at"],
        "unit_id": unit,
        "ticket_id": "POISON",
        "channel": "phone",
        "category": "login",
        "priority": 1,
        "summary": "nul \u0000 here",
    }
    producer = AIOKafkaProducer(bootstrap_servers=pipeline.settings.bootstrap, acks="all")
    await producer.start()
    try:
        for i, item in enumerate(events):
            if i == 300:
                await producer.send(topics.family("tickets"), key=encode_key(unit), value=json.dumps(poison).encode())
            topic = topics.family(family_of(item["type"]))
            await producer.send(topic, key=encode_key(item["unit_id"]), value=json.dumps(item).encode())
        await producer.flush()
    finally:
        await producer.stop()
    verdict = await settle_and_judge(pipeline, "poison record (NUL) mid-batch, produced past ingest", events)
    quarantine = (await pipeline.get("/api/v1/quarantine?stage=stream")).json()
    items = quarantine["items"] if isinstance(quarantine, dict) else quarantine
    assert any("POISON" in (item.get("raw") or "") for item in items), quarantine
    assert "poison-nul" not in await stored_event_ids(pipeline.settings.effective_database_url, {"poison-nul"})
    assert_exact(verdict, report)


async def test_gateway_restart_under_load(pipeline: Pipeline, report: Callable[[Verdict], None]) -> None:
    events = mixed_load(seed=4, count=3000)
    await pipeline.wait_worker_ready()
    poster = asyncio.create_task(post_all(pipeline, events, batch=100, pause=0.1))  # about 6 s of load
    await asyncio.sleep(2.0)
    pipeline.restart_api(kill=True)  # mid-stream: batches in flight are resent by the poster
    await pipeline.wait_api()
    await poster
    assert_exact(await settle_and_judge(pipeline, "gateway restart under load", events), report)
