"""The real app served by uvicorn in this process (real HTTP and WebSockets, the session broker, PostgreSQL
behind a TCP proxy): chunked oversized bodies, the WebSocket cap, and a database outage that leaves the live
picture, ingest and known tokens working while database routes answer 503."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import websockets
from live_api import serving
from sqlalchemy import select
from sqlalchemy.engine import make_url
from tcp_proxy import TcpProxy

from hypercare.contract.events import new_id
from hypercare.entrypoints.embedded_broker import free_port
from hypercare.settings import Settings
from hypercare.storage.db import Database
from hypercare.storage.models import QuarantinedItem
from services.auth.tokens import issue_token

WARD = "SE2321000131-ESASBOR240"


async def tokens_for(database_url: str, *roles: str) -> dict[str, str]:
    db = Database.from_url(database_url)
    try:
        tag = uuid.uuid4().hex[:8]
        return {role: await issue_token(db, role=role.split("-")[0], name=f"live-{role}-{tag}") for role in roles}
    finally:
        await db.close()


def login(event_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "type": "access.login",
        "occurred_at": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),
        "unit_id": WARD,
        "user_ref": "u1",
        "outcome": "success",
        **fields,
    }


async def test_a_chunked_oversized_body_is_413_over_real_http(settings_factory: Callable[..., Settings]) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(40):
            yield b" " * 65536

    async with (
        serving(settings_factory(max_body_bytes=1024 * 1024)) as (url, _),
        httpx.AsyncClient(base_url=url, timeout=30) as anonymous,
    ):
        for path in ("/api/v1/events", "/api/v1/known-issues", "/api/v1/reports"):
            response = await anonymous.post(path, content=chunks())
            assert "content-length" not in response.request.headers  # really chunked
            assert response.status_code == 413, path
            assert response.json() == {"detail": "body larger than 1048576 bytes"}
        # A declared Content-Length over the limit is refused before a byte of the body is read.
        response = await anonymous.post("/api/v1/situation", content=b"x" * (2 * 1024 * 1024))
        assert response.status_code == 413
        assert (await anonymous.get("/healthz")).status_code == 200  # the server is fine


async def test_the_websocket_cap_refuses_with_1013_after_authentication(
    settings_factory: Callable[..., Settings], pg_url: str
) -> None:
    tokens = await tokens_for(pg_url, "viewer")
    async with serving(settings_factory(max_websockets=2)) as (url, _):
        ws = url.replace("http://", "ws://") + "/ws/situation"
        async with httpx.AsyncClient(base_url=url) as client:
            before = refused_count((await client.get("/metrics")).text)
        async with websockets.connect(f"{ws}?token={tokens['viewer']}") as first:
            assert json.loads(await first.recv())["type"] == "snapshot"
            # An unauthenticated connection waiting to send its token does not take a place.
            async with websockets.connect(ws) as waiting:
                async with websockets.connect(ws) as second:
                    await second.send(json.dumps({"token": tokens["viewer"]}))
                    assert json.loads(await second.recv())["type"] == "snapshot"
                    # A bad token is refused for the token (1008), not for the cap.
                    async with websockets.connect(f"{ws}?token=hc_nope") as bad:
                        with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
                            await bad.recv()
                        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
                    async with websockets.connect(f"{ws}?token={tokens['viewer']}") as third:
                        with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
                            await third.recv()
                        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1013
                        assert "try again later" in closed.value.rcvd.reason
                await waiting.close()
            # A place is free again once a client leaves.
            async with websockets.connect(f"{ws}?token={tokens['viewer']}") as fourth:
                assert json.loads(await fourth.recv())["type"] == "snapshot"
        async with httpx.AsyncClient(base_url=url) as client:
            assert refused_count((await client.get("/metrics")).text) == before + 1


def refused_count(metrics_text: str) -> float:
    for line in metrics_text.splitlines():
        if line.startswith("hypercare_websockets_refused_total "):
            return float(line.split()[1])
    return 0.0


async def test_a_database_outage_leaves_the_live_picture_and_ingest_working(
    settings_factory: Callable[..., Settings], pg_url: str
) -> None:
    parsed = make_url(pg_url)
    proxy = TcpProxy(listen_port=free_port(), target_port=parsed.port or 5432)
    await proxy.start()
    proxied = parsed.set(host="127.0.0.1", port=proxy.listen_port).render_as_string(hide_password=False)
    tokens = await tokens_for(pg_url, "viewer", "source", "admin", "viewer-unseen")
    settings = settings_factory(database_url=proxied, token_cache_seconds=0.2)
    try:
        async with serving(settings) as (url, _app):
            ws = url.replace("http://", "ws://") + "/ws/situation"
            viewer = httpx.AsyncClient(base_url=url, headers=bearer(tokens["viewer"]), timeout=30)
            source = httpx.AsyncClient(base_url=url, headers=bearer(tokens["source"]), timeout=30)
            admin = httpx.AsyncClient(base_url=url, headers=bearer(tokens["admin"]), timeout=30)
            probe = httpx.AsyncClient(base_url=url, timeout=30)
            async with viewer, source, admin, probe:
                # Every token used once while the database answers.
                assert (await viewer.get("/api/v1/situation")).status_code == 200
                assert (await source.post("/api/v1/events", json=[])).status_code == 200
                assert (await admin.get("/api/v1/decisions")).status_code == 200
                assert (await probe.get("/readyz")).status_code == 200
                assert (await probe.get("/readyz/records")).status_code == 200

                await proxy.cut()
                await asyncio.sleep(0.3)  # past the token cache's TTL: the next checks ask the database

                situation = await viewer.get("/api/v1/situation")
                assert situation.status_code == 200
                assert (await viewer.get(f"/api/v1/units/{WARD}")).status_code == 200
                tag = new_id("live")[-10:]
                batch = [login(f"live-{tag}-ok"), {"event_id": f"live-{tag}-bad", "type": "access.login"}]
                posted = await source.post("/api/v1/events", json=batch)
                assert posted.status_code == 200, posted.text
                assert posted.json()["accepted"] == 1 and posted.json()["rejected"][0]["index"] == 1

                decisions = await admin.get("/api/v1/decisions")
                assert decisions.status_code == 503, decisions.text
                assert int(decisions.headers["Retry-After"]) == settings.database_retry_after_seconds
                unseen = httpx.AsyncClient(base_url=url, headers=bearer(tokens["viewer-unseen"]), timeout=30)
                async with unseen:
                    response = await unseen.get("/api/v1/situation")
                assert response.status_code == 503 and "Retry-After" in response.headers

                assert (await probe.get("/readyz")).status_code == 200
                records = await probe.get("/readyz/records")
                assert records.status_code == 503 and "database" in records.json()["problems"]

                async with websockets.connect(f"{ws}?token={tokens['viewer']}") as socket:
                    assert json.loads(await socket.recv())["type"] == "snapshot"
                async with websockets.connect(f"{ws}?token={tokens['viewer-unseen']}") as socket:
                    with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
                        await socket.recv()
                    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1013

                await proxy.start()
                deadline = time.monotonic() + 30
                while (await probe.get("/readyz/records")).status_code != 200:
                    assert time.monotonic() < deadline, "the database never came back"
                    await asyncio.sleep(0.2)
                # The rejected item's row, held while the database was down, is written now.
                db = Database.from_url(pg_url)
                try:
                    raw: list[str] = []
                    while not raw:
                        assert time.monotonic() < deadline, "the held quarantine row was never written"
                        async with db.sessions() as session:
                            query = select(QuarantinedItem.raw).where(QuarantinedItem.raw.contains(f"live-{tag}-bad"))
                            raw = list((await session.scalars(query)).all())
                        await asyncio.sleep(0.2)
                finally:
                    await db.close()
                assert len(raw) == 1
                deadline = time.monotonic() + 15
                while (await admin.get("/api/v1/decisions")).status_code != 200:
                    assert time.monotonic() < deadline
                    await asyncio.sleep(0.5)
    finally:
        await proxy.cut()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
