"""The FastAPI dependencies through a real small app: 401, 403 and 200, and the WebSocket check."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, MutableMapping
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, WebSocket

from hypercare.storage.db import Database
from services.auth.dependencies import Admin, Decider, Ingester, Reader, authenticate_websocket
from services.auth.tokens import TokenCache, issue_token, revoke_token

ROLES = ("admin", "chief", "agent", "floorwalker", "viewer", "source")


def make_app(db: Database) -> FastAPI:
    app = FastAPI()
    app.state.db = db
    app.state.token_cache = TokenCache(ttl=30)

    @app.get("/read")
    async def read(principal: Reader) -> dict[str, str]:
        return {"name": principal.name, "role": principal.role.value}

    @app.post("/ingest")
    async def ingest(principal: Ingester) -> dict[str, str]:
        return {"role": principal.role.value}

    @app.post("/decide")
    async def decide(principal: Decider) -> dict[str, str]:
        return {"role": principal.role.value}

    @app.get("/admin")
    async def admin(principal: Admin) -> dict[str, str]:
        return {"role": principal.role.value}

    @app.websocket("/ws")
    async def socket(websocket: WebSocket) -> None:
        await websocket.accept()
        principal = await authenticate_websocket(websocket, websocket.query_params.get("token"))
        if principal is None:
            return
        await websocket.send_json({"hello": principal.name})
        await websocket.close()

    return app


@pytest.fixture
async def tokens(db: Database) -> dict[str, str]:
    suffix = uuid.uuid4().hex[:8]
    return {role: await issue_token(db, role=role, name=f"dep-{role}-{suffix}") for role in ROLES}


@pytest.fixture
async def client(db: Database) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=make_app(db))
    async with httpx.AsyncClient(transport=transport, base_url="http://hypercare.test") as http:
        yield http


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_missing_or_malformed_header_is_401_with_a_bearer_challenge(client: httpx.AsyncClient) -> None:
    cases: list[tuple[dict[str, str], str]] = [
        ({}, "missing Authorization header"),
        ({"Authorization": ""}, "missing Authorization header"),
        ({"Authorization": "Basic dXNlcjpwdw=="}, "malformed Authorization header"),
        ({"Authorization": "Bearer"}, "malformed Authorization header"),
        ({"Authorization": "Bearer a b"}, "malformed Authorization header"),
        ({"Authorization": "Bearer hc_nope"}, "unknown or revoked token"),
    ]
    for headers, detail in cases:
        response = await client.get("/read", headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["www-authenticate"] == "Bearer"
        assert detail in response.json()["detail"], headers


async def test_roles_are_enforced_with_a_readable_403(client: httpx.AsyncClient, tokens: dict[str, str]) -> None:
    allowed = {
        ("GET", "/read"): {"admin", "chief", "agent", "floorwalker", "viewer"},
        ("POST", "/ingest"): {"admin", "chief", "agent", "floorwalker", "source"},
        ("POST", "/decide"): {"admin", "chief"},
        ("GET", "/admin"): {"admin"},
    }
    for (method, path), roles in allowed.items():
        for role, token in tokens.items():
            response = await client.request(method, path, headers=bearer(token))
            if role in roles:
                assert response.status_code == 200, (path, role, response.text)
                assert response.json()["role"] == role
            else:
                assert response.status_code == 403, (path, role)
                detail = response.json()["detail"]
                assert f"role '{role}'" in detail and ", ".join(r for r in ROLES if r in roles) in detail
    response = await client.get("/read", headers={"Authorization": f"bearer  {tokens['viewer']}"})
    assert response.status_code == 200 and response.json()["name"].startswith("dep-viewer-")


async def test_a_revoked_token_is_refused(db: Database, tokens: dict[str, str]) -> None:
    app = make_app(db)
    name = f"dep-revoke-{uuid.uuid4().hex[:8]}"
    token = await issue_token(db, role="viewer", name=name)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        assert (await client.get("/read", headers=bearer(token))).status_code == 200
        await revoke_token(db, name=name, cache=app.state.token_cache)
        response = await client.get("/read", headers=bearer(token))
        assert response.status_code == 401 and "revoked" in response.json()["detail"]


async def websocket_exchange(app: FastAPI, query: str) -> list[dict[str, Any]]:
    """Drive the ASGI WebSocket protocol directly (httpx has no WebSocket transport)."""
    incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    await incoming.put({"type": "websocket.connect"})
    sent: list[dict[str, Any]] = []

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(dict(message))
        if message["type"] == "websocket.close":
            await incoming.put({"type": "websocket.disconnect", "code": message.get("code", 1000)})

    scope = {
        "type": "websocket",
        "asgi": {"version": "3.0"},
        "scheme": "ws",
        "path": "/ws",
        "raw_path": b"/ws",
        "query_string": query.encode(),
        "headers": [],
        "client": ("127.0.0.1", 1),
        "server": ("t", 80),
        "subprotocols": [],
        "root_path": "",
        "app": app,
    }
    await asyncio.wait_for(app(scope, incoming.get, send), 10)
    return sent


async def test_websocket_authentication(db: Database, tokens: dict[str, str]) -> None:
    app = make_app(db)
    ok = await websocket_exchange(app, f"token={tokens['agent']}")
    assert [m["type"] for m in ok] == ["websocket.accept", "websocket.send", "websocket.close"]
    assert json.loads(ok[1]["text"])["hello"].startswith("dep-agent-")

    for query, reason in (
        ("", "missing token"),
        ("token=hc_nope", "unknown or revoked token"),
        (f"token={tokens['source']}", "role 'source' may not read the situation picture"),
    ):
        refused = await websocket_exchange(app, query)
        assert [m["type"] for m in refused] == ["websocket.accept", "websocket.close"], query
        assert refused[1]["code"] == 1008
        assert reason in refused[1]["reason"]
