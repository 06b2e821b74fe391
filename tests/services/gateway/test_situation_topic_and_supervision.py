"""The gateway's situation store on the real broker: a store started after records of every family (keyed
by (unit, family), and records of before keyed by the unit alone) rebuilds the whole picture; the store's
consumer loop and the hub's publish loop are restarted by the supervisor after failures, counted, shown as
problems while they back off, and the picture keeps updating."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from hc_testkit import event

from hypercare.contract.events import parse_event
from hypercare.observability import metrics
from hypercare.org.registry import load_org
from hypercare.settings import Settings
from hypercare.situation import record
from hypercare.situation.health import load_rules
from hypercare.situation.rollup import build_situation
from hypercare.situation.state import apply_event, new_state, state_view
from hypercare.topics import ensure_topics, situation_partitioner, topics_for
from services.gateway import hub as hub_module
from services.gateway import situation_store
from services.gateway.hub import SituationHub
from services.gateway.situation_store import SituationStore
from services.supervision import Supervisor

ED = "SE2321000131-ESASBORAKM"
WARD = "SE2321000131-ESASBOR240"
SKENE = "SE2321000131-ESASSKE010"
RECEIVING = "SE2321000131-ESUSAHAKM"
AS_OF = "2024-11-12T10:00:00+00:00"

States = dict[str, dict[str, dict[str, Any]]]


def every_family(now: datetime) -> list[dict[str, Any]]:
    """Events of every family on three units: logins, permissions, tickets, floor walkers, ED status, diversion."""
    return [
        *[
            event("access.login", ED, 5, user_ref=f"u{i}", outcome="failure" if i < 3 else "success")
            | ({"reason": "wrong_password"} if i < 3 else {})
            for i in range(10)
        ],
        event("access.permission_denied", WARD, 2, user_ref="u50", role="lakare", module="orders"),
        event("ticket.opened", ED, 40, ticket_id="T1", channel="phone", category="login", priority=1),
        event("ticket.opened", SKENE, 10, ticket_id="T9", channel="chat", category="orders", priority=2),
        event("ticket.resolved", SKENE, 1, ticket_id="T9", resolution_code="fixed"),
        event("floorwalker.checkin", WARD, 3, walker_id="fw-1", status="available"),
        event("floorwalker.checkin", WARD, 1, walker_id="fw-1", status="assisting", assists=2, categories=["login"]),
        event("ed.status", ED, 1, patients_waiting=14, patients_in_department=31, capacity=28, longest_wait_minutes=95),
        event(
            "ed.diversion_started",
            ED,
            1,
            diversion_id="D1",
            to_unit_ids=[RECEIVING],
            scope="ambulance",
            reason="Överbeläggning",
            decided_by="produktionschef",
        ),
    ]


def fold(events: list[dict[str, Any]], now: datetime) -> States:
    """Each (unit, family)'s read-side view, folded as the worker folds."""
    states: States = {}
    for raw in events:
        parsed = parse_event(raw)
        state = states.setdefault(parsed.unit_id, {}).setdefault(parsed.family, new_state(parsed.family))
        apply_event(parsed.family, state, parsed, now=now)
    return {
        unit: {family: state_view(family, state) for family, state in families.items()}
        for unit, families in states.items()
    }


def old_value(unit_id: str, family: str, state: dict[str, Any]) -> bytes:
    """A record value as the worker wrote it before ``v`` (its key was the unit alone)."""
    return json.dumps({"unit_id": unit_id, "family": family, "as_of": AS_OF, "state": state}).encode()


class Topic:
    def __init__(self, settings: Settings, producer: AIOKafkaProducer) -> None:
        self.name = topics_for(settings).situation
        self._producer = producer

    async def write(self, states: States) -> None:
        """As the worker publishes: one record per (unit, family), placed by the unit."""
        for unit_id, families in states.items():
            for family, state in families.items():
                key, value = record.encode(unit_id, family, state, as_of=AS_OF)
                await self._producer.send_and_wait(self.name, key=key, value=value)

    async def write_old(self, unit_id: str, family: str, state: dict[str, Any]) -> None:
        await self._producer.send_and_wait(
            self.name, key=json.dumps(unit_id).encode(), value=old_value(unit_id, family, state)
        )


@pytest.fixture
async def topic(settings_factory: Callable[..., Settings]) -> AsyncIterator[tuple[Settings, Topic]]:
    settings = settings_factory(kafka_fetch_wait_ms=20)
    await ensure_topics(settings)
    producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap, partitioner=situation_partitioner)
    await producer.start()
    try:
        yield settings, Topic(settings, producer)
    finally:
        await producer.stop()


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


def restarts(task: str) -> float:
    return metrics.TASK_RESTARTS.labels(task=task)._value.get()


async def started_store(settings: Settings, supervisor: Supervisor) -> SituationStore:
    store = SituationStore(settings)
    await store.start(supervisor=supervisor)
    await asyncio.wait_for(store.caught_up.wait(), 10)
    return store


async def test_a_gateway_started_after_records_of_every_family_rebuilds_the_whole_picture(
    topic: tuple[Settings, Topic], settings_factory: Callable[..., Settings]
) -> None:
    settings, situation = topic
    now = datetime.now(UTC)
    first, later = every_family(now), every_family(now)
    # An upgrade in place: records of before (unit key, no "v") stay readable, newer records win.
    stale = fold([event("access.login", WARD, 5, user_ref="old", outcome="success")], now)[WARD]["access"]
    await situation.write_old(WARD, "access", stale)
    status = event("ed.status", RECEIVING, 2, patients_waiting=3, patients_in_department=9, capacity=20)
    only_before = fold([status], now)[RECEIVING]["ed"]
    await situation.write_old(RECEIVING, "ed", only_before)
    await situation.write(fold(first, now))
    expected = fold(first + later, now)  # the newest state of every (unit, family)
    await situation.write(expected)
    expected[RECEIVING] = {"ed": only_before}

    org, rules = load_org(), load_rules()
    pictures = []
    for _ in range(2):  # the gateway, then the same gateway restarted: each reads the topic from the start
        supervisor = Supervisor()
        store = await started_store(settings, supervisor)
        hub = SituationHub(store=store, org=org, rules=rules, settings=settings)
        await hub.start(supervisor=supervisor)
        try:
            assert store.unit_states == expected
            pictures.append(hub.situation(now))
            assert supervisor.problems() == {}
        finally:
            await hub.stop()
            await store.stop()
    assert pictures[0] == pictures[1]
    whole = build_situation(expected, org=org, rules=rules, now=now)
    assert {k: v for k, v in pictures[1].items() if k != "seq"} == whole
    units = {u["unit_id"]: u for a in whole["administrations"] for s in a["sites"] for u in s["units"]}
    assert units[ED]["ed"]["diversion"]["diversion_id"] == "D1" and units[ED]["tickets"]["open"] == 1
    assert units[ED]["access"]["logins_15m"] == 20  # both batches: the newest state holds all twenty
    assert units[WARD]["floorwalkers"]["on_unit"] == 1 and units[WARD]["access"]["permission_denied_1h"] == 2
    assert units[RECEIVING]["ed"]["status"]["patients_waiting"] == 3

    # Compaction as Apache Kafka does it (Tansu never compacts): only the newest record per key stays, at its
    # offset. A gateway that starts on the compacted topic holds the same states; keyed by the unit alone,
    # as before, compaction would have dropped every family of a unit but the last one written.
    written = await read_all(settings, situation.name)
    partitions: dict[str, set[int]] = {}
    for r in written:  # every record of a unit, of before or of now, on one partition: replayed in order
        partitions.setdefault(record.decode_key(r.key)[0], set()).add(r.partition)
    assert all(len(found) == 1 for found in partitions.values()) and len(partitions) == 4
    assert await states_after(compacted(written, key=lambda r: r.key), settings_factory) == expected
    by_unit = await states_after(compacted(written, key=lambda r: record.decode_key(r.key)[0]), settings_factory)
    assert by_unit != expected and len(by_unit[ED]) == 1


async def read_all(settings: Settings, topic: str) -> list[Any]:
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.bootstrap, group_id=None, auto_offset_reset="earliest")
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        read: list[Any] = []
        while batches := await consumer.getmany(timeout_ms=500):
            read += [r for records in batches.values() for r in records]
        return sorted(read, key=lambda r: (r.partition, r.offset))
    finally:
        await consumer.stop()


def compacted(records: list[Any], *, key: Callable[[Any], Any]) -> list[Any]:
    newest = {(r.partition, key(r)): r.offset for r in records}
    return [r for r in records if newest[(r.partition, key(r))] == r.offset]


async def states_after(records: list[Any], settings_factory: Callable[..., Settings]) -> States:
    """What a gateway holds after reading ``records`` (same partitions, same order) from a topic of their own."""
    settings = settings_factory(kafka_fetch_wait_ms=20)
    await ensure_topics(settings)
    producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap)
    await producer.start()
    try:
        topic = topics_for(settings).situation
        for r in records:
            await producer.send_and_wait(topic, key=r.key, value=r.value, partition=r.partition)
    finally:
        await producer.stop()
    store = await started_store(settings, Supervisor())
    await store.stop()
    return store.unit_states


async def test_the_store_loop_is_restarted_after_failures_and_the_picture_keeps_updating(
    topic: tuple[Settings, Topic], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, situation = topic
    now = datetime.now(UTC)
    supervisor = Supervisor(initial=0.1, cap=0.4, settle=0.3)
    store = await started_store(settings, supervisor)
    consumer = store._consumer
    assert consumer is not None
    getmany = consumer.getmany
    failures = {"left": 3}

    async def failing_getmany(*args: Any, **kwargs: Any) -> Any:
        if failures["left"]:
            failures["left"] -= 1
            raise ConnectionError("broker gone with record 19121212-1212")
        return await getmany(*args, **kwargs)

    before = restarts(situation_store.TASK)
    monkeypatch.setattr(consumer, "getmany", failing_getmany)
    try:
        await until(lambda: situation_store.TASK in supervisor.problems())
        assert supervisor.problems()[situation_store.TASK].startswith("failed (ConnectionError at ")
        assert "1912" not in supervisor.problems()[situation_store.TASK]
        states = fold(every_family(now), now)
        await situation.write(states)
        await until(lambda: store.unit_states == states)
        assert restarts(situation_store.TASK) - before == 3 == supervisor.restarts(situation_store.TASK)
        await until(lambda: not supervisor.problems(), timeout=5)
    finally:
        await store.stop()


async def test_a_batch_the_loop_failed_in_is_applied_again_from_its_first_record(
    topic: tuple[Settings, Topic],
) -> None:
    settings, situation = topic
    units = [f"T{uuid.uuid4().hex[:6]}-{i}" for i in range(12)]
    states: States = {unit: {"access": {"v": 1, "n": i}} for i, unit in enumerate(units)}
    await situation.write(states)
    supervisor = Supervisor(initial=0.05, cap=0.2, settle=0.1)
    store = SituationStore(settings)
    apply = store._apply
    calls = {"n": 0}

    def failing_apply(raw: bytes | None) -> bool:
        calls["n"] += 1
        if calls["n"] == 5:
            raise KeyError("a bug")
        return apply(raw)

    store._apply = failing_apply  # type: ignore[method-assign]
    await store.start(supervisor=supervisor)
    try:
        await asyncio.wait_for(store.caught_up.wait(), 10)
        assert store.unit_states == states  # nothing of the failed batch was lost
        assert supervisor.restarts(situation_store.TASK) == 1
    finally:
        await store.stop()


class FakeStore:
    def __init__(self) -> None:
        self.unit_states: States = {}
        self.changed = asyncio.Event()

    def take_touched(self) -> set[str] | None:
        return None  # the tests change states in place: the hub computes every unit again


async def test_the_hub_loop_is_restarted_after_failures_and_publishes_again(monkeypatch: pytest.MonkeyPatch) -> None:
    store = FakeStore()
    settings = Settings(kafka_bootstrap="unused:9092", gateway_tick_seconds=0.05)
    hub = SituationHub(store=store, org=load_org(), rules=load_rules(), settings=settings)  # type: ignore[arg-type]
    supervisor = Supervisor(initial=0.05, cap=0.2, settle=0.2)
    publish = hub.publish
    failures = {"left": 2}

    def failing_publish() -> None:
        if failures["left"]:
            failures["left"] -= 1
            raise ZeroDivisionError("division by zero in unit U1")
        publish()

    monkeypatch.setattr(hub, "publish", failing_publish)
    before = restarts(hub_module.TASK)
    await hub.start(supervisor=supervisor)
    try:
        await until(lambda: hub_module.TASK in supervisor.problems())
        assert "ZeroDivisionError" in supervisor.problems()[hub_module.TASK]
        await until(lambda: failures["left"] == 0)
        now = datetime.now(UTC) + timedelta(seconds=1)
        store.unit_states = fold([event("access.login", WARD, 1, user_ref="u1", outcome="success")], now)
        store.changed.set()
        await until(lambda: hub.latest is not None and hub.latest[1]["units"][WARD]["access"]["logins_15m"] == 1)
        assert restarts(hub_module.TASK) - before == 2
        await until(lambda: not supervisor.problems(), timeout=5)
    finally:
        await hub.stop()
    assert supervisor.problems() == {}
