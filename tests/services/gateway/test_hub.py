"""The WebSocket hub: snapshots, consecutive seq per client, coalescing, and stalled clients left behind."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from states_store import StatesStore

from hypercare.contract.events import parse_event
from hypercare.org.registry import load_org
from hypercare.settings import Settings
from hypercare.situation.health import load_rules
from hypercare.situation.state import apply_event, new_state
from services.gateway.hub import SituationHub

WARD = "SE2321000131-ESASBOR240"


def login(store: StatesStore, n: int) -> None:
    state = store.unit_states.setdefault(WARD, {}).setdefault("access", new_state("access"))
    now = datetime.now(UTC)
    apply_event(
        "access",
        state,
        parse_event(
            {
                "event_id": f"h{n}",
                "type": "access.login",
                "occurred_at": now.isoformat(),
                "unit_id": WARD,
                "user_ref": f"u{n}",
                "outcome": "success",
            }
        ),
        now=now,
    )


def hub_for(store: StatesStore, **settings: Any) -> SituationHub:
    """A hub the test publishes by hand: no tick publish, which at a minute boundary would add a delta of its own
    (each live unit's ``minutes_without_visit`` moves on) to the messages a test lists."""
    settings.setdefault("gateway_tick_seconds", 3600.0)
    return SituationHub(
        store=store,  # type: ignore[arg-type]
        org=load_org(),
        rules=load_rules(),
        settings=Settings(kafka_bootstrap="unused:9092", **settings),
    )


async def test_a_stalled_client_never_holds_back_the_others_and_is_dropped() -> None:
    store = StatesStore()
    hub = hub_for(store, gateway_client_send_timeout=0.5)
    await hub.start()
    received: list[dict[str, Any]] = []
    stalled_sends = 0

    async def fast(message: str) -> None:
        received.append(json.loads(message))

    async def stalled(message: str) -> None:
        nonlocal stalled_sends
        stalled_sends += 1
        await asyncio.sleep(3600)  # a tablet in a wifi dead zone

    slow_client = hub.connect(stalled)
    fast_client = hub.connect(fast)
    tasks = [asyncio.create_task(slow_client.run()), asyncio.create_task(fast_client.run())]
    try:
        for n in range(20):
            login(store, n)
            hub.publish()
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.1)
        assert received[0]["type"] == "snapshot"
        seqs = [message["seq"] for message in received]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "consecutive seq per client"
        last_ward = [u for m in received[1:] for u in m["units"] if u["unit_id"] == WARD][-1]
        assert last_ward["access"]["logins_15m"] == 20
        # The stalled client got its snapshot send started and nothing more; its pending delta is one
        # coalesced object per changed id, not a queue of 20 messages.
        assert stalled_sends == 1
        assert len(slow_client._pending["units"]) == 1
        await asyncio.wait_for(slow_client.closed.wait(), 2.0)  # send timeout closes it
        assert not fast_client.closed.is_set()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await hub.stop()


async def test_resync_sends_a_fresh_snapshot_with_the_next_seq() -> None:
    store = StatesStore()
    hub = hub_for(store, websocket_resync_seconds=0)
    await hub.start()
    received: list[dict[str, Any]] = []

    async def send(message: str) -> None:
        received.append(json.loads(message))

    client = hub.connect(send)
    task = asyncio.create_task(client.run())
    try:
        await asyncio.sleep(0.05)
        login(store, 1)
        hub.publish()
        await asyncio.sleep(0.05)
        hub.resync(client)
        await asyncio.sleep(0.05)
        assert [m["type"] for m in received] == ["snapshot", "delta", "snapshot"]
        assert [m["seq"] for m in received] == [received[0]["seq"] + i for i in range(3)]
        unit = next(
            u
            for a in received[2]["situation"]["administrations"]
            for s in a["sites"]
            for u in s["units"]
            if u["unit_id"] == WARD
        )
        assert unit["access"]["logins_15m"] == 1
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await hub.stop()


async def test_alerts_ride_in_the_snapshot_and_in_deltas_of_their_own() -> None:
    store = StatesStore()
    hub = hub_for(store, websocket_resync_seconds=0)
    await hub.start()
    received: list[dict[str, Any]] = []

    async def send(message: str) -> None:
        received.append(json.loads(message))

    first = {"id": 7, "rule": "patient_safety_ticket", "status": "open", "level": "team"}
    hub.publish_alerts([first], [first])  # before anyone connects: kept for snapshots
    client = hub.connect(send)
    task = asyncio.create_task(client.run())
    try:
        await asyncio.sleep(0.05)
        assert received[0]["type"] == "snapshot" and received[0]["alerts"] == [first]

        acknowledged = {**first, "status": "acknowledged"}
        hub.publish_alerts([acknowledged], [acknowledged])
        await asyncio.sleep(0.05)
        delta = received[1]
        assert delta == {
            "type": "delta",
            "seq": received[0]["seq"] + 1,
            "units": [],
            "sites": [],
            "administrations": [],
            "region": None,
            "alerts": [acknowledged],
        }

        login(store, 1)
        hub.publish()  # a situation delta without alert changes carries no "alerts" field
        resolved = {**first, "status": "resolved"}
        hub.publish_alerts([], [resolved])
        await asyncio.sleep(0.05)
        merged = received[2:]
        assert [m["seq"] for m in received] == list(range(received[0]["seq"], received[0]["seq"] + len(received)))
        assert any(u["unit_id"] == WARD for m in merged for u in m["units"])
        assert [a for m in merged for a in m.get("alerts", [])][-1] == resolved
        assert hub.latest is not None and hub.published.is_set()

        hub.resync(client)
        await asyncio.sleep(0.05)
        assert received[-1]["type"] == "snapshot" and received[-1]["alerts"] == []
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await hub.stop()


async def test_clients_that_keep_up_share_one_encoding_of_each_delta(monkeypatch: Any) -> None:
    import services.gateway.hub as hub_module

    encoded: list[str] = []
    real_encode = hub_module.encode

    def counting(message: dict[str, Any]) -> str:
        text = real_encode(message)
        encoded.append(text)
        return text

    monkeypatch.setattr(hub_module, "encode", counting)
    store = StatesStore()
    hub = hub_for(store)
    await hub.start()
    received: dict[int, list[dict[str, Any]]] = {n: [] for n in range(3)}

    def sender(n: int) -> Any:
        async def send(message: str) -> None:
            received[n].append(json.loads(message))

        return send

    clients = [hub.connect(sender(n)) for n in range(3)]
    tasks = [asyncio.create_task(client.run()) for client in clients]
    try:
        await asyncio.sleep(0.05)
        snapshots = len(encoded)
        login(store, 1)
        hub.publish()
        await asyncio.sleep(0.05)
        per_client = [messages[1:] for messages in received.values()]
        assert per_client[0] and per_client[0] == per_client[1] == per_client[2]
        assert all(message["type"] == "delta" for message in per_client[0])
        assert len(encoded) - snapshots == len(per_client[0])  # each delta encoded once for three clients
        last_ward = [u for m in per_client[0] for u in m["units"] if u["unit_id"] == WARD][-1]
        assert last_ward["access"]["logins_15m"] == 1
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await hub.stop()


async def test_resyncs_are_throttled_per_client_and_coalesced_not_dropped() -> None:
    store = StatesStore()
    hub = hub_for(store, websocket_resync_seconds=0.4)
    await hub.start()
    received: list[dict[str, Any]] = []

    async def send(message: str) -> None:
        received.append(json.loads(message))

    client = hub.connect(send)  # the first snapshot starts the window
    task = asyncio.create_task(client.run())
    try:
        await asyncio.sleep(0.05)
        for _ in range(20):  # a resync storm inside the window
            hub.resync(client)
        await asyncio.sleep(0.1)
        assert [m["type"] for m in received] == ["snapshot"]  # deferred, not sent yet
        await asyncio.sleep(0.4)
        assert [m["type"] for m in received] == ["snapshot", "snapshot"]  # twenty became one
        assert received[1]["seq"] == received[0]["seq"] + 1
        await asyncio.sleep(0.45)
        hub.resync(client)  # the window is over: served at once
        await asyncio.sleep(0.05)
        assert [m["type"] for m in received] == ["snapshot"] * 3
        hub.resync(client)  # deferred again, then the client leaves: nothing is sent to it
        hub.disconnect(client)
        await asyncio.sleep(0.5)
        assert len(received) == 3
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await hub.stop()


async def test_the_hub_refuses_clients_beyond_its_cap() -> None:
    from services.gateway.hub import GatewayFull

    hub = hub_for(StatesStore(), max_websockets=2)

    async def send(message: str) -> None:
        return None

    first, _second = hub.connect(send), hub.connect(send)
    with pytest.raises(GatewayFull):
        hub.connect(send)
    hub.disconnect(first)
    assert hub.connect(send) is not None  # room again


async def test_a_pong_says_the_client_is_current_only_when_nothing_is_due_to_it() -> None:
    """A caught-up client's pong carries its seq and the last publish's clock (so a console in a quiet region stays
    "current"); while a snapshot or a change is due to it, the pong carries neither."""
    store = StatesStore()
    hub = hub_for(store, websocket_resync_seconds=0)
    await hub.start()
    received: list[dict[str, Any]] = []

    async def send(message: str) -> None:
        received.append(json.loads(message))

    client = hub.connect(send)
    assert hub.pong(client) == {"type": "pong"}  # its snapshot is due
    task = asyncio.create_task(client.run())
    try:
        await asyncio.sleep(0.05)
        hub.publish()  # nothing changed: nothing is offered, the publish clock moves on
        assert hub.latest is not None
        assert hub.pong(client) == {"type": "pong", "seq": received[-1]["seq"], "as_of": hub.latest[0].isoformat()}
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    login(store, 1)  # the client no longer takes messages: this change stays due to it
    hub.publish()
    try:
        assert hub.pong(client) == {"type": "pong"}
    finally:
        await hub.stop()


async def test_an_unsubscribed_snapshot_is_built_once_per_publish_and_shared(monkeypatch: pytest.MonkeyPatch) -> None:
    import services.gateway.hub as hub_module

    snapshots_encoded: list[str] = []
    real_encode = hub_module.encode

    def counting(message: dict[str, Any]) -> str:
        text = real_encode(message)
        if "situation" in message:
            snapshots_encoded.append(text)
        return text

    monkeypatch.setattr(hub_module, "encode", counting)
    store = StatesStore()
    hub = hub_for(store)
    await hub.start()
    received: dict[int, list[dict[str, Any]]] = {n: [] for n in range(4)}

    def sender(n: int) -> Any:
        async def send(message: str) -> None:
            received[n].append(json.loads(message))

        return send

    def ward_logins(message: dict[str, Any]) -> int:
        return next(
            u["access"]["logins_15m"]
            for a in message["situation"]["administrations"]
            for s in a["sites"]
            for u in s["units"]
            if u["unit_id"] == WARD
        )

    clients = [hub.connect(sender(n)) for n in range(3)]
    tasks = [asyncio.create_task(client.run()) for client in clients]
    try:
        await asyncio.sleep(0.05)
        assert len(snapshots_encoded) == 1  # three clients, one snapshot built and encoded
        first = [messages[0] for messages in received.values() if messages]
        assert len(first) == 3 and all(m["type"] == "snapshot" and ward_logins(m) == 0 for m in first)
        assert first[0]["situation"] == first[1]["situation"] == first[2]["situation"]
        login(store, 1)
        hub.publish()  # a new picture: the next snapshot is built again, from it
        late = hub.connect(sender(3))
        tasks.append(asyncio.create_task(late.run()))
        await asyncio.sleep(0.05)
        assert len(snapshots_encoded) == 2
        assert [m["type"] for m in received[3]] == ["snapshot"] and ward_logins(received[3][0]) == 1
        assert received[3][0]["seq"] == received[0][-1]["seq"]  # the delta the others got has the same seq
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await hub.stop()
