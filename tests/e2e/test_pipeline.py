"""End to end: POST events → Kafka → stream worker → situation topic → REST and WebSocket."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import websockets
import websockets.exceptions
from hc_testkit import Pipeline, event

from hypercare.storage.db import Database
from hypercare.storage.events_store import get_event

ED = "SE2321000131-ESASBORAKM"  # Akutmottagning Borås
WARD = "SE2321000131-ESASBOR240"  # Avdelning 240, same site
SKENE = "SE2321000131-ESASSKE010"  # other site, same administration
MARKER_UNIT = "SE2321000131-ENHKINNA"
BORAS = "SE2321000131-SSASBOR"
SAS = "SE2321000131-FSAS"
RECEIVING = "SE2321000131-ESUSAHAKM"


def mixed_batch() -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for i in range(40):
        failed = i < 10
        fields: dict[str, Any] = {"user_ref": f"u{i}", "outcome": "failure" if failed else "success"}
        if failed:
            fields["reason"] = "account_locked" if i < 2 else "wrong_password"
        events.append(event("access.login", ED, minutes_ago=5, **fields))
    for i in range(10):
        fields = {"user_ref": f"u{i}", "outcome": "failure" if i < 5 else "success"}
        if i < 5:
            fields["reason"] = "card_error"
        events.append(event("access.login", WARD, minutes_ago=3, **fields))
    events += [
        event(
            "ticket.opened",
            ED,
            40,
            ticket_id="T1",
            channel="phone",
            category="login",
            priority=1,
            summary="Kan inte logga in, patient 19121212-1212 väntar",
            patient_safety=True,
        ),
        event("ticket.opened", ED, 30, ticket_id="T2", channel="chat", category="login", priority=2),
        event("ticket.opened", ED, 30, ticket_id="T3", channel="portal", category="printing", priority=3),
        event("ticket.updated", ED, 20, ticket_id="T2", status="escalated"),
        event("ticket.resolved", ED, 0, ticket_id="T3", resolution_code="printer-driver"),
        event("ticket.opened", SKENE, 10, ticket_id="T9", channel="phone", category="orders", priority=2),
        event("access.permission_denied", ED, 2, user_ref="u50", role="lakare", module="orders"),
        event("access.permission_denied", ED, 2, user_ref="u51", role="lakare", module="orders"),
        event("access.permission_denied", ED, 2, user_ref="u52", role="underskoterska", module="medication"),
        event(
            "floorwalker.checkin",
            ED,
            1,
            walker_id="fw-1",
            status="assisting",
            assists=2,
            categories=["login"],
            needs_escalation=True,
            note="Kortläsare trasig",
        ),
        event("ed.status", ED, 1, patients_waiting=14, patients_in_department=31, capacity=28, longest_wait_minutes=95),
        event(
            "ed.diversion_started",
            ED,
            1,
            diversion_id="D1",
            to_unit_ids=[RECEIVING],
            scope="ambulance",
            reason="Överbeläggning vid driftstart",
        ),
    ]
    return events


def find(situation: dict[str, Any], kind: str, node_id: str) -> dict[str, Any]:
    for admin in situation["administrations"]:
        if kind == "administration" and admin["administration_id"] == node_id:
            return dict(admin)
        for site in admin["sites"]:
            if kind == "site" and site["site_id"] == node_id:
                return dict(site)
            for unit in site["units"]:
                if kind == "unit" and unit["unit_id"] == node_id:
                    return dict(unit)
    raise KeyError(node_id)


def assert_expected_ed(unit: dict[str, Any]) -> None:
    access = unit["access"]
    assert access["logins_15m"] == 40
    assert access["login_failures_15m"] == 10
    assert access["login_failure_rate_15m"] == 0.25
    assert access["distinct_users_failing_15m"] == 10
    assert access["locked_accounts_1h"] == 2
    assert access["permission_denied_1h"] == 3
    assert access["permission_denied_1h_by_role"] == {"lakare": 2, "underskoterska": 1}
    tickets = unit["tickets"]
    assert tickets["open"] == 2
    assert tickets["opened_1h"] == 3
    assert tickets["resolved_1h"] == 1
    assert tickets["open_by_priority"] == {"1": 1, "2": 1, "3": 0, "4": 0}
    assert tickets["open_by_category"] == {"login": 2}
    assert tickets["patient_safety_open"] == 1
    assert tickets["oldest_open_minutes"] in (40, 41)
    assert tickets["median_minutes_to_resolve_24h"] == pytest.approx(30.0, abs=0.1)
    walkers = unit["floorwalkers"]
    assert walkers["on_unit"] == 1
    assert walkers["open_escalations"] == 1
    assert walkers["minutes_since_last_visit"] == 0
    assert unit["ed"]["status"]["patients_waiting"] == 14
    assert unit["ed"]["status"]["patients_in_department"] == 31
    assert unit["ed"]["status"]["capacity"] == 28
    diversion = unit["ed"]["diversion"]
    assert diversion["diversion_id"] == "D1"
    assert diversion["scope"] == "ambulance"
    assert diversion["to_unit_ids"] == [RECEIVING]
    assert unit["health"]["status"] == "red"
    assert unit["health"]["reasons"]


async def wait_for_marker(pipeline: Pipeline, logins: int) -> None:
    await pipeline.wait_for(f"/api/v1/units/{MARKER_UNIT}", lambda unit: unit["access"]["logins_15m"] == logins)


async def test_mixed_batch_gives_exact_figures_everywhere_and_a_resend_changes_nothing(pipeline: Pipeline) -> None:
    batch = mixed_batch()
    ws_url = f"ws://127.0.0.1:{pipeline.settings.port}/ws/situation?token={pipeline.tokens['viewer']}"
    async with websockets.connect(ws_url) as socket:
        snapshot = json.loads(await asyncio.wait_for(socket.recv(), 10))
        assert snapshot["type"] == "snapshot"
        assert find(snapshot["situation"], "unit", ED)["access"]["logins_15m"] == 0
        seq = snapshot["seq"]

        response = await pipeline.post_events(batch)
        assert response.status_code == 200, response.text
        assert response.json() == {"accepted": len(batch), "rejected": []}

        unit = await pipeline.wait_for(
            f"/api/v1/units/{ED}",
            lambda u: (
                u["ed"]["diversion"] is not None
                and u["access"]["logins_15m"] == 40
                and u["tickets"]["resolved_1h"] == 1
            ),
        )
        assert_expected_ed(unit)

        # The WebSocket client sees the same unit through deltas with consecutive seq numbers.
        latest_ed: dict[str, Any] | None = None
        deadline = asyncio.get_running_loop().time() + 15
        while asyncio.get_running_loop().time() < deadline:
            message = json.loads(await asyncio.wait_for(socket.recv(), 15))
            assert message["type"] == "delta"
            assert message["seq"] == seq + 1
            seq = message["seq"]
            for delta_unit in message["units"]:
                if delta_unit["unit_id"] == ED:
                    latest_ed = delta_unit
            if (
                latest_ed
                and latest_ed["ed"]["diversion"]
                and latest_ed["access"]["logins_15m"] == 40
                and latest_ed["tickets"]["resolved_1h"] == 1
            ):
                break
        assert latest_ed is not None
        assert_expected_ed(latest_ed)

        # resync: a new snapshot with the current picture
        await socket.send(json.dumps({"type": "resync"}))
        while True:
            message = json.loads(await asyncio.wait_for(socket.recv(), 10))
            if message["type"] == "snapshot":
                break
        assert_expected_ed(find(message["situation"], "unit", ED))

    situation = (await pipeline.get("/api/v1/situation")).json()
    site = find(situation, "site", BORAS)
    assert site["access"]["logins_15m"] == 50
    assert site["access"]["login_failures_15m"] == 15
    assert site["access"]["login_failure_rate_15m"] == 0.3
    assert site["access"]["distinct_users_failing_15m"] == 10  # u0..u4 failed at both units
    assert site["tickets"]["open"] == 2
    admin = find(situation, "administration", SAS)
    assert admin["tickets"]["open"] == 3
    assert admin["tickets"]["open_by_priority"] == {"1": 1, "2": 2, "3": 0, "4": 0}
    assert admin["access"]["permission_denied_1h"] == 3
    region = situation["region"]
    assert region["access"]["logins_15m"] == 50
    assert region["tickets"]["opened_1h"] == 4

    # Resending the whole batch is acknowledged but counted once.
    response = await pipeline.post_events(batch)
    assert response.json()["accepted"] == len(batch)
    await pipeline.post_events([event("access.login", MARKER_UNIT, user_ref="m1", outcome="success")])
    await wait_for_marker(pipeline, 1)
    assert_expected_ed((await pipeline.get(f"/api/v1/units/{ED}")).json())
    assert find((await pipeline.get("/api/v1/situation")).json(), "site", BORAS)["access"]["logins_15m"] == 50

    # Ending the diversion clears it.
    ended = event("ed.diversion_ended", ED, diversion_id="D1")
    assert (await pipeline.post_events([ended], role="chief")).json()["accepted"] == 1
    unit = await pipeline.wait_for(f"/api/v1/units/{ED}", lambda u: u["ed"]["diversion"] is None)
    assert unit["ed"]["status"]["patients_waiting"] == 14

    # Free text is stored and shown redacted.
    db = Database.from_url(pipeline.settings.effective_database_url)
    try:
        stored = await get_event(db, event_id=batch[50]["event_id"])
    finally:
        await db.close()
    assert stored is not None
    assert "19121212-1212" not in json.dumps(stored)
    assert "[personnummer borttaget]" in stored["payload"]["summary"]


async def test_invalid_items_are_named_and_quarantined_while_valid_ones_land(pipeline: Pipeline) -> None:
    good = event("access.login", ED, user_ref="u1", outcome="failure", reason="expired")
    batch: list[Any] = [
        good,
        {**event("access.login", ED, user_ref="u2", outcome="success"), "occurred_at": 0},
        {
            **event("ticket.opened", ED, ticket_id="X", channel="fax", category="login", priority=2),
            "summary": "ring 19121212-1212",
        },
        "not an object",
        event("no.such.type", ED),
    ]
    response = await pipeline.post_events(batch)
    assert response.status_code == 200
    body = response.json()
    assert body["accepted"] == 1
    reasons = {item["index"]: item["reason"] for item in body["rejected"]}
    assert set(reasons) == {1, 2, 3, 4}
    assert "occurred_at" in reasons[1]
    assert "channel" in reasons[2]
    assert "JSON object" in reasons[3]
    assert "type" in reasons[4]

    listing = (await pipeline.get("/api/v1/quarantine?stage=ingest&limit=1000")).json()
    raws = {item["raw"]: item for item in listing["items"]}
    for index in (1, 2, 4):
        matching = [item for raw, item in raws.items() if batch[index]["event_id"] in raw]
        assert len(matching) == 1 and matching[0]["item_index"] == index
        assert matching[0]["reason"] == reasons[index]
    assert all("19121212-1212" not in item["raw"] for item in listing["items"])
    assert (await pipeline.get("/api/v1/quarantine", role="viewer")).status_code == 403

    unit = await pipeline.wait_for(f"/api/v1/units/{ED}", lambda u: u["access"]["logins_15m"] == 1)
    assert unit["access"]["login_failures_15m"] == 1

    # NDJSON works too, and a request where everything is rejected answers 422 with the reasons.
    async with pipeline.client("source") as client:
        ndjson = "\n".join(json.dumps(event("access.login", ED, user_ref=f"n{i}", outcome="success")) for i in range(3))
        response = await client.post("/api/v1/events", content=ndjson, headers={"Content-Type": "application/x-ndjson"})
        assert response.json() == {"accepted": 3, "rejected": []}
        response = await client.post("/api/v1/events", json=[{"type": "ticket.opened"}])
        assert response.status_code == 422
        assert response.json()["rejected"][0]["index"] == 0


async def test_tokens_and_roles_are_enforced(pipeline: Pipeline) -> None:
    async with pipeline.client(None) as anonymous:
        assert (await anonymous.get("/api/v1/situation")).status_code == 401
        assert (await anonymous.post("/api/v1/events", json=[])).status_code == 401
        bad = await anonymous.get("/api/v1/situation", headers={"Authorization": "Bearer hc_nope"})
        assert bad.status_code == 401
    assert (await pipeline.get("/api/v1/situation", role="viewer")).status_code == 200
    assert (await pipeline.get("/api/v1/situation", role="source")).status_code == 403
    assert (await pipeline.post_events([], role="viewer")).status_code == 403
    diversion = event(
        "ed.diversion_started",
        ED,
        diversion_id="D9",
        to_unit_ids=[RECEIVING],
        scope="all",
        reason="test",
    )
    refused = await pipeline.post_events([diversion], role="floorwalker")
    assert refused.status_code == 403
    assert "chief" in refused.json()["rejected"][0]["reason"]
    assert (await pipeline.post_events([diversion], role="chief")).json()["accepted"] == 1

    with pytest.raises(websockets.exceptions.ConnectionClosed):
        async with websockets.connect(f"ws://127.0.0.1:{pipeline.settings.port}/ws/situation?token=hc_nope") as ws:
            await asyncio.wait_for(ws.recv(), 10)
