"""Scoped principals and token revocation over the real app (uvicorn, real HTTP and WebSockets, the session
broker, PostgreSQL): a chief scoped to Södra Älvsborgs Sjukhus reads the region totals plus their own subtree
only (REST and WebSocket) and cannot divert another administration's ED; a region-scoped chief sees and may do
everything; revoking a token closes its open WebSockets (1008) within 5 s. And the hub alone: one encoding per
distinct scope, not per client."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import websockets
from live_api import serving
from states_store import StatesStore

from hypercare.contract.events import parse_event
from hypercare.org.registry import load_org
from hypercare.settings import Settings
from hypercare.situation import merge_patch
from hypercare.situation.health import load_rules
from hypercare.situation.state import apply_event, new_state
from hypercare.storage.db import Database
from services.auth.tokens import issue_token, revoke_token, verify_token
from services.gateway import hub as hub_module
from services.gateway.hub import SituationHub

SAS = "SE2321000131-FSAS"  # Södra Älvsborgs Sjukhus
SAS_ED = "SE2321000131-ESASBORAKM"
SU_ED = "SE2321000131-ESUSAHAKM"  # Sahlgrenska: another administration
SKENE_ED = "SE2321000131-ESASSKEAKM"


NAMES: dict[str, str] = {}  # token -> the name it was issued under


async def issue(database_url: str, **tokens: dict[str, Any]) -> dict[str, str]:
    db = Database.from_url(database_url)
    tag = uuid.uuid4().hex[:8]
    try:
        issued = {}
        for key, spec in tokens.items():
            name = f"scope-{key}-{tag}"
            issued[key] = await issue_token(db, name=name, **spec)
            NAMES[issued[key]] = name
        return issued
    finally:
        await db.close()


def diversion(unit_id: str) -> dict[str, Any]:
    return {
        "event_id": f"div-{uuid.uuid4().hex[:12]}",
        "type": "ed.diversion_started",
        "occurred_at": datetime.now(UTC).isoformat(),
        "unit_id": unit_id,
        "diversion_id": f"D-{uuid.uuid4().hex[:8]}",
        "to_unit_ids": [SKENE_ED],
        "scope": "ambulance",
        "reason": "Överbelastad akutmottagning",
    }


async def drain(socket: Any) -> None:
    """Read until the connection closes (raises ConnectionClosed); 5 s without a message fails the test."""
    while True:
        await asyncio.wait_for(socket.recv(), 5)


async def snapshot(ws_url: str, token: str) -> tuple[Any, dict[str, Any]]:
    socket = await websockets.connect(ws_url)
    await socket.send(json.dumps({"token": token}))
    message = json.loads(await asyncio.wait_for(socket.recv(), 10))
    assert message["type"] == "snapshot"
    return socket, message["situation"]


async def test_a_chief_scoped_to_sas_sees_and_acts_on_their_subtree_only(
    settings_factory: Callable[..., Settings], pg_url: str
) -> None:
    org = load_org()
    tokens = await issue(
        pg_url,
        sas={"role": "chief", "scope": SAS},
        region={"role": "chief", "scope": org.region.id},
        everything={"role": "chief"},
        admin={"role": "admin"},
    )
    async with serving(settings_factory()) as (url, _app):
        ws_url = url.replace("http", "ws") + "/ws/situation"

        def client(key: str) -> httpx.AsyncClient:
            return httpx.AsyncClient(base_url=url, timeout=30, headers={"Authorization": f"Bearer {tokens[key]}"})

        async with client("sas") as sas, client("region") as region, client("everything") as everything:
            # Writes: another administration's ED is refused per item with the reason; their own is accepted.
            refused = await sas.post("/api/v1/events", json=[diversion(SU_ED)])
            assert refused.status_code == 403, refused.text  # every item refused for its sender
            reason = refused.json()["rejected"][0]["reason"]
            assert reason == (
                f"unit_id: this token is scoped to {SAS!r} and may not submit ed.diversion_started for {SU_ED!r}"
                " (outside its scope)"
            )
            assert (await sas.post("/api/v1/events", json=[diversion(SAS_ED)])).json()["accepted"] == 1
            for chief in (region, everything):
                assert (await chief.post("/api/v1/events", json=[diversion(SU_ED)])).json()["accepted"] == 1

            # Reads (REST): the region block plus the SAS subtree; another administration's unit is 403.
            mine = (await sas.get("/api/v1/situation")).json()
            whole = (await region.get("/api/v1/situation")).json()
            assert [a["administration_id"] for a in mine["administrations"]] == [SAS]
            assert len(whole["administrations"]) == len(org.administrations) > 1
            assert mine["region"].keys() == whole["region"].keys() and "tickets" in mine["region"]
            unscoped = (await everything.get("/api/v1/situation")).json()["administrations"]
            assert [a["administration_id"] for a in unscoped] == [
                a["administration_id"] for a in whole["administrations"]
            ]
            outside = await sas.get(f"/api/v1/units/{SU_ED}")
            assert outside.status_code == 403
            assert outside.json()["detail"] == (
                f"this token is scoped to {SAS!r} and may not read the unit for {SU_ED!r} (outside its scope)"
            )
            assert (await sas.get(f"/api/v1/units/{SAS_ED}")).status_code == 200
            assert (await region.get(f"/api/v1/units/{SU_ED}")).status_code == 200

        # Reads (WebSocket): the same cut in the snapshot.
        scoped_socket, scoped = await snapshot(ws_url, tokens["sas"])
        region_socket, regional = await snapshot(ws_url, tokens["region"])
        try:
            assert [a["administration_id"] for a in scoped["administrations"]] == [SAS]
            assert "region" in scoped and scoped["region"].keys() == regional["region"].keys()
            assert len(regional["administrations"]) == len(org.administrations)

            # Revocation through the admin API closes the scoped socket with 1008 and a reason within 5 s.
            async with client("admin") as admin:
                listed = (await admin.get("/api/v1/tokens")).json()["items"]
                # This test's own SAS token (the database is shared: other tests may hold SAS-scoped tokens too).
                row = next(item for item in listed if item["name"] == NAMES[tokens["sas"]])
                assert "token" not in row and "token_hash" not in row
                started = time.monotonic()
                revoked = await admin.delete(f"/api/v1/tokens/{row['id']}")
                assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
            with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
                await drain(scoped_socket)
            assert time.monotonic() - started < 5
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
            assert closed.value.rcvd.reason == "the token was revoked or has expired, or the session ended"
            async with client("sas") as gone:
                assert (await gone.get("/api/v1/situation")).status_code == 401
            await region_socket.send(json.dumps({"type": "ping"}))  # the other connection stays open
            while json.loads(await asyncio.wait_for(region_socket.recv(), 10))["type"] != "pong":
                pass
        finally:
            await scoped_socket.close()
            await region_socket.close()


async def test_a_token_revoked_elsewhere_closes_its_socket_within_the_recheck(
    settings_factory: Callable[..., Settings],
    pg_url: str,
) -> None:
    # Another process revokes (no signal here): the periodic re-check finds it once this cache entry lapses.
    tokens = await issue(pg_url, viewer={"role": "viewer"})
    async with serving(settings_factory(token_cache_seconds=1)) as (url, _app):
        socket, _ = await snapshot(url.replace("http", "ws") + "/ws/situation", tokens["viewer"])
        db = Database.from_url(pg_url)
        try:
            principal = await verify_token(db, token=tokens["viewer"])
            assert principal is not None
            name = principal.name
            started = time.monotonic()
            assert await revoke_token(db, name=name) == 1  # no cache: as `hypercare token revoke` would
        finally:
            await db.close()
        with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
            await drain(socket)
        assert time.monotonic() - started < 5
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008


def login(store: StatesStore, unit_id: str, n: int) -> None:
    state = store.unit_states.setdefault(unit_id, {}).setdefault("access", new_state("access"))
    now = datetime.now(UTC)
    event = {
        "event_id": f"s{n}",
        "type": "access.login",
        "occurred_at": now.isoformat(),
        "unit_id": unit_id,
        "user_ref": f"u{n}",
        "outcome": "failure",
        "reason": "wrong_password",
    }
    apply_event("access", state, parse_event(event), now=now)


async def test_deltas_are_cut_per_scope_and_encoded_once_per_scope(monkeypatch: pytest.MonkeyPatch) -> None:
    store = StatesStore()
    hub = SituationHub(
        store=store,  # type: ignore[arg-type]
        org=load_org(),
        rules=load_rules(),
        settings=Settings(kafka_bootstrap="unused:9092"),
    )
    await hub.start()
    encoded: list[str] = []
    real_body = hub_module.Offer.body

    def counting_body(offer: hub_module.Offer) -> str:
        if offer._body is None:
            encoded.append("once")
        return real_body(offer)

    monkeypatch.setattr(hub_module.Offer, "body", counting_body)
    inboxes: dict[str, list[dict[str, Any]]] = {key: [] for key in ("sas1", "sas2", "skene", "region")}

    def inbox(key: str) -> Callable[[str], Any]:
        async def send(text: str) -> None:
            inboxes[key].append(json.loads(text))

        return send

    scopes = {"sas1": SAS, "sas2": SAS, "skene": "SE2321000131-SSASSKE", "region": None}
    clients = [hub.connect(inbox(key), scope=scope) for key, scope in scopes.items()]
    tasks = [asyncio.create_task(client.run()) for client in clients]
    try:
        await asyncio.sleep(0.05)  # the snapshots
        sas_snapshot = inboxes["sas1"][0]["situation"]
        assert [a["administration_id"] for a in sas_snapshot["administrations"]] == [SAS]
        skene = inboxes["skene"][0]["situation"]["administrations"]
        assert [s["site_id"] for a in skene for s in a["sites"]] == ["SE2321000131-SSASSKE"]
        login(store, SU_ED, 1)  # another administration: the region changes for everyone, the unit only for "region"
        login(store, SAS_ED, 2)
        hub.publish()
        await asyncio.sleep(0.05)
        deltas = {key: [m for m in messages if m["type"] == "delta"] for key, messages in inboxes.items()}
        assert all(len(found) == 1 for found in deltas.values()), deltas
        assert {u["unit_id"] for u in deltas["region"][0]["units"]} == {SU_ED, SAS_ED}
        assert {u["unit_id"] for u in deltas["sas1"][0]["units"]} == {SAS_ED}
        assert deltas["sas1"][0] == deltas["sas2"][0]
        assert deltas["skene"][0]["units"] == [] and deltas["skene"][0]["region"] is not None
        assert [a["site_ids"] for a in deltas["skene"][0]["administrations"]] == [["SE2321000131-SSASSKE"]]
        assert len(encoded) == 3  # three distinct scopes (SAS twice), four clients
    finally:
        for task in tasks:
            task.cancel()
        await hub.stop()


class Subscriber:
    """A subscribed WebSocket client's local picture: snapshots replace it, deltas and answers patch it."""

    def __init__(self, socket: Any) -> None:
        self.socket = socket
        self.picture: dict[str, Any] = {}

    async def next(self, *types: str) -> dict[str, Any]:
        """The next message of one of ``types``, applying every picture message on the way."""
        while True:
            message = json.loads(await asyncio.wait_for(self.socket.recv(), 10))
            if message["type"] == "snapshot" and "picture" in message:
                self.picture = message["picture"]
            elif message["type"] in ("delta", "subscribed") and "patch" in message:
                self.picture = merge_patch.apply(self.picture, message["patch"])
            if message["type"] in types:
                return message


async def test_a_scoped_chief_subscribes_inside_its_scope_and_is_told_why_not_outside(
    settings_factory: Callable[..., Settings], pg_url: str
) -> None:
    org = load_org()
    sas_units = {u.id for a in org.administrations if a.id == SAS for s in a.sites for u in s.units}
    sas_sites = {s.id for a in org.administrations if a.id == SAS for s in a.sites}
    tokens = await issue(pg_url, sas={"role": "chief", "scope": SAS})
    async with serving(settings_factory()) as (url, _app):
        socket = await websockets.connect(url.replace("http", "ws") + "/ws/situation")
        try:
            live = Subscriber(socket)
            # A subscription outside the scope in the first message: refused with the reason, then the whole scope.
            await socket.send(json.dumps({"type": "auth", "token": tokens["sas"], "scopes": ["region", SU_ED]}))
            refused = await live.next("error")
            assert refused == {
                "type": "error",
                "request": "subscribe",
                "detail": f"this token is scoped to {SAS!r} and may not subscribe to {SU_ED!r} (outside its scope)",
            }
            legacy = await live.next("snapshot")
            assert [a["administration_id"] for a in legacy["situation"]["administrations"]] == [SAS]

            await socket.send(json.dumps({"type": "subscribe", "scopes": ["region", SAS_ED]}))
            first = await live.next("snapshot")
            assert first["scopes"] == sorted(["region", SAS_ED])
            assert "region" in live.picture and set(live.picture["administrations"]) == {SAS}
            assert set(live.picture["sites"]) == set() and set(live.picture["units"]) == {SAS_ED}

            await socket.send(json.dumps({"type": "subscribe", "scopes": [SU_ED]}))
            assert (await live.next("error"))["detail"].endswith(f"may not subscribe to {SU_ED!r} (outside its scope)")
            await socket.send(json.dumps({"type": "subscribe", "scopes": ["all"]}))
            answer = await live.next("subscribed")
            assert answer["scopes"] == ["all"]
            assert set(live.picture["units"]) == sas_units and set(live.picture["sites"]) == sas_sites
            await socket.send(json.dumps({"type": "ping"}))  # still connected
            await live.next("pong")
        finally:
            await socket.close()
