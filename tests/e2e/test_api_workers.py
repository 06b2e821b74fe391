"""A gateway of two processes (``hypercare api --workers 2``) serves clients on both, with the same figures,
and raises an alert once; a token revoked outside both closes its sockets in both within 5 s. The processes run
with ``HYPERCARE_WEBSOCKET_DEFLATE`` on, which each of them reads: every client negotiates permessage-deflate.

The real pipeline (worker, and the API as two uvicorn worker processes sharing one port) on the session's
broker and a fresh PostgreSQL database of this module's own (so the alerts in it are only this test's). Each
process reads the whole situation topic and serves its own WebSocket clients; the handshake's
``X-Hypercare-Process`` header says which process a client is on. The oracle is the posted events: two open
tickets at the unit, one with the patient-safety flag, which makes one ``patient_safety_ticket`` alert.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import websockets
from aiohttp import web
from hc_testkit import Pipeline, event, running
from pg_databases import fresh_pg_database

from hypercare.entrypoints.embedded_broker import free_port
from hypercare.settings import Settings
from hypercare.storage.db import Database
from services.auth.tokens import revoke_token

UNIT = "SE2321000131-ESASBOR250"  # Avdelning 250 Geriatrik
EXPECTED_TICKETS = {
    "open": 2,
    "opened_1h": 2,
    "patient_safety_open": 1,
    "open_by_priority": {"1": 0, "2": 1, "3": 1, "4": 0},
}
MAX_CONNECTS = 60


@pytest.fixture(scope="module")
def own_pg_url() -> Iterator[str]:
    with fresh_pg_database("hc_fanout") as url:
        yield url


@pytest.fixture
async def webhook() -> AsyncIterator[tuple[list[dict[str, Any]], str]]:
    documents: list[dict[str, Any]] = []

    async def handle(request: web.Request) -> web.Response:
        documents.append(await request.json())
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/alerts", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield documents, f"http://127.0.0.1:{port}/alerts"
    finally:
        await runner.cleanup()


@pytest.fixture
async def pipeline(
    settings_factory: Callable[..., Settings],
    own_pg_url: str,
    tmp_path: Path,
    webhook: tuple[list[dict[str, Any]], str],
) -> AsyncIterator[Pipeline]:
    settings = settings_factory(database_url=own_pg_url, alert_webhook_url=webhook[1], websocket_deflate=True)
    async with running(settings, tmp_path, api_args=("--workers", "2")) as started:
        yield started


def tickets_of(unit: dict[str, Any]) -> dict[str, Any]:
    return {key: unit["tickets"][key] for key in EXPECTED_TICKETS}


def find_unit(situation: dict[str, Any]) -> dict[str, Any]:
    for admin in situation["administrations"]:
        for site in admin["sites"]:
            for unit in site["units"]:
                if unit["unit_id"] == UNIT:
                    return dict(unit)
    raise KeyError(UNIT)


class Client:
    """One WebSocket client: its process, and the latest unit and alerts it was sent."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.process = connection.response.headers["x-hypercare-process"]
        self.extensions = connection.response.headers.get("sec-websocket-extensions", "")
        self.unit: dict[str, Any] | None = None
        self.alerts: dict[int, dict[str, Any]] = {}

    def take(self, message: dict[str, Any]) -> None:
        if message["type"] == "snapshot":
            self.unit = find_unit(message["situation"])
        elif message["type"] == "delta":
            for unit in message.get("units", []):
                if unit["unit_id"] == UNIT:
                    self.unit = unit
        else:
            return
        for alert in message.get("alerts", []):
            self.alerts[alert["id"]] = alert

    def raised(self) -> list[dict[str, Any]]:
        return [a for a in self.alerts.values() if a["node_id"] == UNIT and a["rule"] == "patient_safety_ticket"]

    async def read_until(self, done: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not done():
            left = deadline - loop.time()
            if left <= 0:
                raise AssertionError(f"client on process {self.process} never showed {what}; unit: {self.unit}")
            self.take(json.loads(await asyncio.wait_for(self.connection.recv(), left)))


async def closed_within(client: Client, seconds: float) -> int | None:
    """The close code once the server closes the socket within ``seconds`` (messages meanwhile are read)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    try:
        while (left := deadline - loop.time()) > 0:
            await asyncio.wait_for(client.connection.recv(), left)
    except websockets.exceptions.ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None
    except TimeoutError:
        return None
    return None


async def connect(pipeline: Pipeline) -> Client:
    url = f"ws://127.0.0.1:{pipeline.settings.port}/ws/situation"
    connection = await websockets.connect(url, max_size=None)
    await connection.send(json.dumps({"type": "auth", "token": pipeline.tokens["viewer"]}))
    client = Client(connection)
    await client.read_until(lambda: client.unit is not None, "a snapshot")
    return client


async def test_two_api_processes_serve_clients_on_both_with_the_same_figures_and_one_alert(
    pipeline: Pipeline, webhook: tuple[list[dict[str, Any]], str]
) -> None:
    documents, _ = webhook
    clients: list[Client] = []
    try:
        # Connect until both processes serve at least one client (two each at most are kept).
        for _ in range(MAX_CONNECTS):
            client = await connect(pipeline)
            if sum(1 for kept in clients if kept.process == client.process) >= 2:
                await client.connection.close()
            else:
                clients.append(client)
            if len({kept.process for kept in clients}) == 2 and len(clients) >= 3:
                break
        processes = {client.process for client in clients}
        assert len(processes) == 2, f"all {MAX_CONNECTS} connections went to one process: {processes}"
        assert str(pipeline.api.pid if pipeline.api else None) not in processes  # served by the workers
        assert all(client.extensions.startswith("permessage-deflate") for client in clients)

        posted = [
            event(
                "ticket.opened",
                UNIT,
                ticket_id="PS-1",
                channel="phone",
                category="medication",
                priority=2,
                summary="Fel dos visas i läkemedelslistan",
                patient_safety=True,
            ),
            event(
                "ticket.opened",
                UNIT,
                ticket_id="T-2",
                channel="phone",
                category="orders",
                priority=3,
                summary="Beställningar går långsamt",
            ),
        ]
        response = await pipeline.post_events(posted)
        assert response.json() == {"accepted": 2, "rejected": []}

        for client in clients:
            await client.read_until(
                lambda c=client: c.unit is not None and tickets_of(c.unit) == EXPECTED_TICKETS and bool(c.raised()),
                "the two tickets and the alert",
            )
        rest = await pipeline.wait_for(f"/api/v1/units/{UNIT}", lambda unit: tickets_of(unit) == EXPECTED_TICKETS)
        assert tickets_of(rest) == EXPECTED_TICKETS
        assert all(client.unit is not None and tickets_of(client.unit) == EXPECTED_TICKETS for client in clients)

        # One alert, the same one on every client of either process, posted to the webhook once.
        listing = (await pipeline.get("/api/v1/alerts?limit=1000")).json()
        stored = [a for a in listing["items"] if a["node_id"] == UNIT and a["rule"] == "patient_safety_ticket"]
        assert len(stored) == 1
        assert {tuple(a["id"] for a in client.raised()) for client in clients} == {(stored[0]["id"],)}
        await asyncio.sleep(3 * pipeline.settings.gateway_tick_seconds + 1)  # a few more rounds in both
        raises = [(d["transition"], d["rule"], d["node_id"]) for d in documents]
        assert raises == [("raise", "patient_safety_ticket", UNIT)]
        listing = (await pipeline.get("/api/v1/alerts?limit=1000")).json()
        assert [a["id"] for a in listing["items"] if a["node_id"] == UNIT] == [stored[0]["id"]]

        # Revoked outside both processes (as `hypercare token revoke` does): every client closes within 5 s.
        db = Database.from_url(pipeline.settings.effective_database_url)
        try:
            assert await revoke_token(db, name=pipeline.names["viewer"]) == 1
        finally:
            await db.close()
        closes = await asyncio.gather(*(closed_within(client, 5.0) for client in clients))
        assert closes == [1008] * len(clients)
    finally:
        for client in clients:
            await client.connection.close()
