"""End to end: events → worker → gateway → alert raised, pushed, listed, posted to a webhook, resolved.

The real pipeline (worker and API as processes on the session's broker and PostgreSQL) with
``HYPERCARE_ALERT_WEBHOOK_URL`` pointing at a tiny receiver in this test. The database is shared
with earlier tests, so everything here is filtered by this test's units and alert ids.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import websockets
from aiohttp import web
from hc_testkit import Pipeline, event, running

from hypercare.entrypoints.embedded_broker import free_port
from hypercare.settings import Settings

SAFETY_UNIT = "SE2321000131-ESASBOR250"  # Avdelning 250 Geriatrik
P1_UNIT = "SE2321000131-ESASBOR260"  # Avdelning 260 Infektion
OUR_UNITS = (SAFETY_UNIT, P1_UNIT)


class WebhookReceiver:
    def __init__(self) -> None:
        self.documents: list[dict[str, Any]] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.documents.append(await request.json())
        return web.Response(status=204)

    def ours(self) -> list[tuple[str, str, str]]:
        return [(d["transition"], d["rule"], d["node_id"]) for d in self.documents if d["node_id"] in OUR_UNITS]


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[WebhookReceiver, str]]:
    target = WebhookReceiver()
    app = web.Application()
    app.router.add_post("/alerts", target.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield target, f"http://127.0.0.1:{port}/alerts"
    finally:
        await runner.cleanup()


@pytest.fixture
async def pipeline(
    settings_factory: Callable[..., Settings], tmp_path: Path, receiver: tuple[WebhookReceiver, str]
) -> AsyncIterator[Pipeline]:
    async with running(settings_factory(alert_webhook_url=receiver[1]), tmp_path) as started:
        yield started


def active_here(listing: dict[str, Any]) -> list[dict[str, Any]]:
    return [item for item in listing["items"] if item["node_id"] in OUR_UNITS]


async def eventually(check: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


class Socket:
    """A WebSocket client's view of the alerts: every alert object it was sent, by id, latest last."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.alerts: dict[int, list[dict[str, Any]]] = {}
        self.seq: int | None = None

    async def read_until(self, predicate: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while not predicate():
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise AssertionError(f"the WebSocket never showed {what}; alerts seen: {self.alerts}")
            message = json.loads(await asyncio.wait_for(self.connection.recv(), left))
            if message["type"] == "snapshot":
                self.seq = message["seq"]
            elif message["type"] == "delta":
                assert message["seq"] == (self.seq or 0) + 1, "consecutive seq"
                self.seq = message["seq"]
                for key in ("units", "sites", "administrations", "region"):
                    assert key in message  # the situation fields stay as they are
            else:
                continue
            for alert in message.get("alerts", []):
                self.alerts.setdefault(alert["id"], []).append(alert)

    def latest(self, alert_id: int) -> dict[str, Any] | None:
        seen = self.alerts.get(alert_id)
        return seen[-1] if seen else None


async def test_a_patient_safety_ticket_raises_an_alert_everywhere_and_resolving_it_resolves_the_alert(
    pipeline: Pipeline, receiver: tuple[WebhookReceiver, str]
) -> None:
    hook, _ = receiver
    # Alerts left open in the shared database by earlier tests are resolved by this gateway's first
    # evaluation (their conditions are not in this pipeline's picture); start from there.
    await pipeline.wait_for("/api/v1/alerts?status=active&limit=1000", lambda listing: not active_here(listing))

    ws_url = f"ws://127.0.0.1:{pipeline.settings.port}/ws/situation?token={pipeline.tokens['viewer']}"
    async with websockets.connect(ws_url, max_size=None) as connection:
        socket = Socket(connection)
        await socket.read_until(lambda: socket.seq is not None, "a snapshot")

        posted = [
            event(
                "ticket.opened",
                SAFETY_UNIT,
                ticket_id="PS-1",
                channel="phone",
                category="medication",
                priority=2,
                summary="Fel dos visas i läkemedelslistan",
                patient_safety=True,
            ),
            event(
                "ticket.opened",
                P1_UNIT,
                minutes_ago=45,
                ticket_id="P1-1",
                channel="phone",
                category="orders",
                priority=1,
                summary="Beställningar går inte iväg",
            ),
        ]
        response = await pipeline.post_events(posted)
        assert response.json() == {"accepted": 2, "rejected": []}

        listing = await pipeline.wait_for(
            "/api/v1/alerts?status=active&limit=1000", lambda body: len(active_here(body)) == 2
        )
        by_rule = {item["rule"]: item for item in active_here(listing)}
        safety, p1 = by_rule["patient_safety_ticket"], by_rule["p1_ticket_open_too_long"]
        assert (safety["node_id"], safety["node_name"], safety["severity"], safety["status"], safety["level"]) == (
            SAFETY_UNIT,
            "Avdelning 250 Geriatrik",
            "critical",
            "open",
            "team",
        )
        assert safety["message"] == "1 öppna ärenden med risk för patientsäkerheten"
        assert (p1["node_id"], p1["value"], p1["threshold"]) == (P1_UNIT, 45, 30)

        # Pushed to the WebSocket client, and posted to the webhook, once each.
        await socket.read_until(lambda: socket.latest(safety["id"]) is not None, "the patient-safety alert")
        assert socket.latest(safety["id"])["status"] == "open"  # type: ignore[index]
        await eventually(lambda: len(hook.ours()) == 2, "two raises at the webhook")
        assert sorted(hook.ours()) == [
            ("raise", "p1_ticket_open_too_long", P1_UNIT),
            ("raise", "patient_safety_ticket", SAFETY_UNIT),
        ]
        raised_doc = next(d for d in hook.documents if d["id"] == safety["id"])
        assert raised_doc["status"] == "open" and raised_doc["message"] == safety["message"]

        # A chief acknowledges the other alert over REST; a viewer may not.
        async with pipeline.client("viewer") as viewer:
            assert (await viewer.post(f"/api/v1/alerts/{p1['id']}/acknowledge")).status_code == 403
        async with pipeline.client("chief") as chief:
            acknowledged = await chief.post(f"/api/v1/alerts/{p1['id']}/acknowledge")
            assert acknowledged.status_code == 200, acknowledged.text
            assert (acknowledged.json()["status"], acknowledged.json()["acknowledged_by"]) == (
                "acknowledged",
                pipeline.names["chief"],
            )
            assigned = await chief.post(f"/api/v1/alerts/{p1['id']}/assign", json={"assigned_to": "Team orders"})
            assert assigned.json()["assigned_to"] == "Team orders"
        await socket.read_until(
            lambda: (socket.latest(p1["id"]) or {}).get("assigned_to") == "Team orders", "the acknowledgement"
        )
        assert socket.latest(p1["id"])["status"] == "acknowledged"  # type: ignore[index]

        # Resolving the ticket resolves the alert: listed, pushed and posted as resolved.
        assert (await pipeline.post_events([event("ticket.resolved", SAFETY_UNIT, ticket_id="PS-1")])).json()[
            "accepted"
        ] == 1
        resolved = await pipeline.wait_for(f"/api/v1/alerts/{safety['id']}", lambda body: body["status"] == "resolved")
        assert resolved["resolved_at"] is not None and resolved["raised_at"] == safety["raised_at"]
        await socket.read_until(
            lambda: (socket.latest(safety["id"]) or {}).get("status") == "resolved", "the resolution"
        )
        await eventually(
            lambda: ("resolve", "patient_safety_ticket", SAFETY_UNIT) in hook.ours(), "the resolve at the webhook"
        )
        assert hook.ours().count(("raise", "patient_safety_ticket", SAFETY_UNIT)) == 1  # never raised again

    active = active_here((await pipeline.get("/api/v1/alerts?status=active&limit=1000")).json())
    assert [(item["id"], item["status"]) for item in active] == [(p1["id"], "acknowledged")]
    # A new WebSocket client gets the active alerts in its snapshot.
    async with websockets.connect(ws_url, max_size=None) as connection:
        snapshot = json.loads(await asyncio.wait_for(connection.recv(), 10))
        assert snapshot["type"] == "snapshot"
        mine = [alert for alert in snapshot["alerts"] if alert["node_id"] in OUR_UNITS]
        assert [(alert["id"], alert["status"], alert["assigned_to"]) for alert in mine] == [
            (p1["id"], "acknowledged", "Team orders")
        ]
