"""Exact aggregates whatever happens to the stream workers: SIGKILL and restart, a worker joining, one leaving."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from hc_testkit import Pipeline, event, running

from hypercare.settings import Settings

UNITS = ["SE2321000131-ESASBOR210", "SE2321000131-ESASBOR220", "SE2321000131-ENHBORCEN", "SE2321000131-ERHUMBOR"]


@pytest.fixture
async def pipeline(settings_factory: Callable[..., Settings], tmp_path: Path) -> AsyncIterator[Pipeline]:
    # Small batches and frequent commits give the kill many half-finished batches to land in.
    async with running(settings_factory(worker_batch_size=50), tmp_path) as started:
        yield started


def workload(seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    events: list[dict[str, Any]] = []
    for i in range(3000):
        unit = rng.choice(UNITS)
        if i % 10 == 0:
            events.append(
                event(
                    "ticket.opened",
                    unit,
                    5,
                    ticket_id=f"T{i}",
                    channel="phone",
                    category=rng.choice(["login", "orders", "printing"]),
                    priority=rng.randint(1, 4),
                )
            )
        else:
            failed = rng.random() < 0.3
            fields: dict[str, Any] = {
                "user_ref": f"u{rng.randint(0, 400)}",
                "outcome": "failure" if failed else "success",
            }
            if failed:
                fields["reason"] = "wrong_password"
            events.append(event("access.login", unit, 2, **fields))
    return events


def expected(events: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    result: dict[str, Counter[str]] = {unit: Counter() for unit in UNITS}
    failing: dict[str, set[str]] = {unit: set() for unit in UNITS}
    for item in events:
        counts = result[item["unit_id"]]
        if item["type"] == "access.login":
            counts["logins"] += 1
            if item["outcome"] == "failure":
                counts["failures"] += 1
                failing[item["unit_id"]].add(item["user_ref"])
        else:
            counts["tickets"] += 1
    return {unit: {**counts, "distinct_failing": len(failing[unit])} for unit, counts in result.items()}


def observed(unit: dict[str, Any]) -> dict[str, int]:
    return {
        "logins": unit["access"]["logins_15m"],
        "failures": unit["access"]["login_failures_15m"],
        "tickets": unit["tickets"]["open"],
        "distinct_failing": unit["access"]["distinct_users_failing_15m"],
    }


class Poster:
    """Posts batches with a pause between them, in the background; ``posted`` says how far it got."""

    def __init__(self, pipeline: Pipeline, batches: list[list[dict[str, Any]]], *, pause: float) -> None:
        self.posted = 0
        self.total = len(batches)
        self.task = asyncio.create_task(self._post(pipeline, batches, pause))

    async def _post(self, pipeline: Pipeline, batches: list[list[dict[str, Any]]], pause: float) -> None:
        for batch in batches:
            response = await pipeline.post_events(batch, role="source")
            assert response.json()["accepted"] == len(batch)
            self.posted += 1
            await asyncio.sleep(pause)

    @property
    def midway(self) -> bool:
        return self.posted < self.total


async def assert_exact(pipeline: Pipeline, events: list[dict[str, Any]]) -> None:
    want = expected(events)
    for unit_id in UNITS:
        await pipeline.wait_for(
            f"/api/v1/units/{unit_id}",
            lambda u, n=want[unit_id]["logins"]: u["access"]["logins_15m"] >= n,
            timeout=90,
        )
    await asyncio.sleep(2.0)  # anything double-counted would surface by now
    for unit_id in UNITS:
        unit = (await pipeline.get(f"/api/v1/units/{unit_id}")).json()
        assert observed(unit) == want[unit_id], unit_id


@pytest.mark.slow
async def test_sigkill_mid_stream_then_restart_gives_exact_aggregates(pipeline: Pipeline) -> None:
    events = workload(seed=7)
    batches = [events[i : i + 100] for i in range(0, len(events), 100)]
    await pipeline.wait_worker_ready()  # a slow group join must not let the whole stream pass before the kill
    poster = Poster(pipeline, batches, pause=0.05)
    # Kill the worker once it has folded part of the stream into its tables.
    await pipeline.wait_for(f"/api/v1/units/{UNITS[0]}", lambda u: u["access"]["logins_15m"] > 50, timeout=60)
    pipeline.kill_worker()
    assert poster.midway, "the kill should land mid-stream"
    # While no worker runs, a client resends batches it already sent: still counted once.
    await pipeline.post_events(batches[0] + batches[1], role="source")
    pipeline.start_worker()
    await poster.task
    await pipeline.post_events(batches[2], role="source")
    await assert_exact(pipeline, events)


@pytest.mark.slow
async def test_partitions_moving_between_workers_mid_stream_give_exact_aggregates(pipeline: Pipeline) -> None:
    """A second worker joins (partitions are revoked from the first), then the first stops (all move over)."""
    events = workload(seed=11)
    await pipeline.wait_worker_ready()
    poster = Poster(pipeline, [events[i : i + 50] for i in range(0, len(events), 50)], pause=0.3)  # about 20 s
    await pipeline.wait_for(f"/api/v1/units/{UNITS[0]}", lambda u: u["access"]["logins_15m"] > 50, timeout=60)
    _, second_url = pipeline.start_another_worker("worker-2")
    await pipeline.wait_worker_ready(url=second_url)
    assert poster.midway, "the second worker should join mid-stream"
    await asyncio.sleep(1.0)
    pipeline.stop_worker()  # SIGTERM: the first worker hands everything over cleanly
    assert poster.midway, "the first worker should leave mid-stream"
    await poster.task
    await assert_exact(pipeline, events)
