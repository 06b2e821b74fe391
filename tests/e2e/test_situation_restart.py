"""End to end with the real worker: an API restarted after events of every family shows the same picture
(it rebuilds it from the situation topic), and the picture keeps updating after the situation store's
consumer loop failed (the supervisor restarts it; /readyz shows the problem meanwhile)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.partitioner import DefaultPartitioner
from hc_testkit import Pipeline, event

from hypercare.settings import Settings
from hypercare.situation import record
from hypercare.storage.db import Database
from hypercare.topics import topics_for
from services.app import create_app
from services.auth.tokens import issue_token
from services.gateway import situation_store

ED = "SE2321000131-ESASBORAKM"
WARD = "SE2321000131-ESASBOR240"
SKENE = "SE2321000131-ESASSKE010"
RECEIVING = "SE2321000131-ESUSAHAKM"


def every_family() -> list[dict[str, Any]]:
    return [
        *[event("access.login", ED, 5, user_ref=f"u{i}", outcome="success") for i in range(6)],
        event("access.login", ED, 4, user_ref="u9", outcome="failure", reason="wrong_password"),
        event("access.permission_denied", WARD, 2, user_ref="u50", role="lakare", module="orders"),
        event("ticket.opened", ED, 30, ticket_id="T1", channel="phone", category="login", priority=1),
        event("ticket.opened", SKENE, 10, ticket_id="T9", channel="chat", category="orders", priority=2),
        event("ticket.resolved", SKENE, 1, ticket_id="T9", resolution_code="fixed"),
        event("floorwalker.checkin", WARD, 3, walker_id="fw-1", status="assisting", assists=1),
        event("ed.status", ED, 1, patients_waiting=14, patients_in_department=31, capacity=28, longest_wait_minutes=95),
        event(
            "ed.diversion_started",
            ED,
            1,
            diversion_id="D1",
            to_unit_ids=[RECEIVING],
            scope="ambulance",
            reason="Överbeläggning",
        ),
    ]


def all_in(unit: dict[str, Any]) -> bool:
    return (
        unit["access"]["logins_15m"] == 7
        and unit["tickets"]["open"] == 1
        and unit["ed"]["status"] is not None
        and unit["ed"]["diversion"] is not None
    )


def steady(value: Any) -> Any:
    """The picture without what moves with the clock alone (as_of, seq, minute counts, reasons citing them)."""
    if isinstance(value, dict):
        return {
            k: steady(v)
            for k, v in value.items()
            if k not in ("as_of", "seq", "reasons", "review_overdue") and "minutes" not in k
        }
    if isinstance(value, list):
        return [steady(v) for v in value]
    return value


async def test_an_api_restarted_after_events_of_every_family_shows_the_same_picture(pipeline: Pipeline) -> None:
    response = await pipeline.post_events(every_family())
    assert response.json()["rejected"] == [], response.text
    await pipeline.wait_for(f"/api/v1/units/{ED}", all_in)
    await pipeline.wait_for(f"/api/v1/units/{SKENE}", lambda u: u["tickets"]["resolved_1h"] == 1)
    await pipeline.wait_for(f"/api/v1/units/{WARD}", lambda u: u["floorwalkers"]["on_unit"] == 1)
    before = (await pipeline.get("/api/v1/situation")).json()
    pipeline.restart_api()
    await pipeline.wait_api()
    after = await pipeline.wait_for("/api/v1/situation", lambda s: steady(s) == steady(before), timeout=30)
    units = {u["unit_id"]: u for a in after["administrations"] for s in a["sites"] for u in s["units"]}
    assert all_in(units[ED]) and units[WARD]["access"]["permission_denied_1h"] == 1
    assert (
        units[ED]["health"]
        == next(u for a in before["administrations"] for s in a["sites"] for u in s["units"] if u["unit_id"] == ED)[
            "health"
        ]
    )
    assert (await pipeline.get("/readyz")).status_code == 200
    # The worker keyed every record by (unit, family) and placed it on the unit's partition.
    placed: dict[tuple[str, str | None], set[int]] = {}
    written, partitions = await situation_records(pipeline.settings)
    for r in written:
        placed.setdefault(record.decode_key(r.key), set()).add(r.partition)
    assert {unit for unit, _ in placed} >= {ED, WARD, SKENE} and all(family for _, family in placed)
    for (unit, _), found in placed.items():
        assert found == {DefaultPartitioner()(record.partition_key(unit), partitions, [])}


async def situation_records(settings: Settings) -> tuple[list[Any], list[int]]:
    """Every record of the situation topic, and its partitions."""
    topic = topics_for(settings).situation
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.bootstrap, group_id=None, auto_offset_reset="earliest")
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        read: list[Any] = []
        while batches := await consumer.getmany(timeout_ms=500):
            read += [r for records in batches.values() for r in records]
        return read, [tp.partition for tp in tps]
    finally:
        await consumer.stop()


async def test_the_picture_keeps_updating_after_the_store_loop_failed(
    settings_factory: Callable[..., Settings], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real worker as a process; the API in this process, so its store's consumer can be made to fail."""
    pipeline = Pipeline(settings_factory(), tmp_path)
    db = Database.from_url(pipeline.settings.effective_database_url)
    try:
        token = await issue_token(db, role="admin", name=f"supervision-e2e-{time.time_ns()}")
    finally:
        await db.close()
    pipeline.start_worker()
    app = create_app(pipeline.settings)
    supervisor = app.state.supervisor
    supervisor.initial, supervisor.settle = 0.3, 2.0
    headers = {"Authorization": f"Bearer {token}"}
    try:
        await pipeline.wait_worker_ready()
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://api", headers=headers, timeout=30
            ) as client,
        ):

            async def login_count() -> int:
                return int((await client.get(f"/api/v1/units/{ED}")).json()["access"]["logins_15m"])

            async def wait_logins(n: int) -> None:
                deadline = time.monotonic() + 30
                while await login_count() != n:
                    assert time.monotonic() < deadline, f"logins never reached {n}:\n{pipeline.log('worker')}"
                    await asyncio.sleep(0.1)

            login = {"user_ref": "u1", "outcome": "success"}
            posted = await client.post("/api/v1/events", json=[event("access.login", ED, 1, **login)])
            assert posted.status_code == 200, posted.text
            await wait_logins(1)
            assert (await client.get("/readyz")).status_code == 200

            consumer = app.state.store._consumer
            getmany, failed = consumer.getmany, asyncio.Event()

            async def fail_once(*args: Any, **kwargs: Any) -> Any:
                if not failed.is_set():
                    failed.set()
                    raise RuntimeError("injected")
                return await getmany(*args, **kwargs)

            monkeypatch.setattr(consumer, "getmany", fail_once)
            await asyncio.wait_for(failed.wait(), 5)
            unready = await client.get("/readyz")
            assert unready.status_code == 503
            # The live picture's tasks are one readiness check: "tasks": "<task>: <problem>; …".
            assert f"{situation_store.TASK}: failed (RuntimeError at " in unready.json()["problems"]["tasks"]

            await client.post("/api/v1/events", json=[event("access.login", ED, 1, **login) for _ in range(2)])
            await wait_logins(3)  # the restarted loop reads on: the picture keeps updating
            deadline = time.monotonic() + 10
            while (ready := await client.get("/readyz")).status_code != 200:
                assert time.monotonic() < deadline, ready.text
                await asyncio.sleep(0.1)
            assert supervisor.restarts(situation_store.TASK) == 1
            metrics_text = (await client.get("/metrics")).text
            assert f'hypercare_task_restarts_total{{task="{situation_store.TASK}"}}' in metrics_text
    finally:
        pipeline.stop()
