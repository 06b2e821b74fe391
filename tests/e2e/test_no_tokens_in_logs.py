"""Tokens never in logs: the real API and worker, a token used every way the product allows (and some it
refuses), then every log file of the run is searched for the token strings."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import websockets
from hc_testkit import Pipeline, event

from hypercare.observability.logging import REDACTED
from hypercare.storage.db import Database
from services.auth.tokens import issue_token, revoke_token

UNIT = "SE2321000131-ENHULRICE"  # Närhälsan Ulricehamn vårdcentral


async def _snapshot(url: str, first: dict[str, str] | None = None) -> str:
    """The first message the WebSocket answers (a snapshot), or the close reason."""
    async with websockets.connect(url) as socket:
        if first is not None:
            await socket.send(json.dumps(first))
        try:
            return str(json.loads(await asyncio.wait_for(socket.recv(), 10))["type"])
        except websockets.ConnectionClosed as closed:
            return f"closed {closed.rcvd.code if closed.rcvd else '?'}"


async def test_no_token_reaches_any_log_file_however_it_is_used(pipeline: Pipeline, tmp_path: Path) -> None:
    db = Database.from_url(pipeline.settings.effective_database_url)
    try:
        revoked = await issue_token(db, role="viewer", name="test-revoked-viewer")
        await revoke_token(db, name="test-revoked-viewer")
    finally:
        await db.close()
    wrong = "hc_" + "W" * 43
    tokens = {**pipeline.tokens, "revoked": revoked, "wrong": wrong}
    base = pipeline.base_url
    ws = base.replace("http://", "ws://") + "/ws/situation"

    async with httpx.AsyncClient(base_url=base) as client:
        for token in tokens.values():
            await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
            await client.post("/api/v1/sign-in", headers={"Authorization": f"Bearer {token}"})  # the console's form
            await client.post("/api/v1/sign-out", headers={"Authorization": f"Bearer {token}"})
            # In a query string, which the product never asks for: the access log shows the URL.
            await client.get("/api/v1/situation", params={"token": token})
            await client.get("/api/v1/me", headers={"Authorization": f"Basic {token}"})
        posted = await client.post(
            "/api/v1/events",
            json=[event("access.login", UNIT, user_ref="u1", outcome="success")],
            headers={"Authorization": f"Bearer {pipeline.tokens['source']}"},
        )
        assert posted.status_code == 200, posted.text

    # The WebSocket: the first message (the console's way), the deprecated ?token=, wrong and revoked tokens.
    assert await _snapshot(ws, {"type": "auth", "token": pipeline.tokens["viewer"]}) == "snapshot"
    assert await _snapshot(f"{ws}?token={pipeline.tokens['chief']}") == "snapshot"
    assert await _snapshot(ws, {"type": "auth", "token": wrong}) == "closed 1008"
    assert await _snapshot(f"{ws}?token={revoked}") == "closed 1008"
    assert await _snapshot(f"{ws}?token={wrong}") == "closed 1008"
    await pipeline.wait_for(f"/api/v1/units/{UNIT}", lambda unit: unit["access"]["logins_15m"] >= 1)
    pipeline.stop()  # every line flushed

    logs = {path: path.read_text(errors="replace") for path in pipeline.log_dir.rglob("*") if path.is_file()}
    api_log = logs[pipeline.log_dir / "api.log"]
    assert pipeline.log_dir / "worker.log" in logs
    # The access log is on and shows the scrubbed query; the deprecation is logged without the value.
    assert f"/api/v1/situation?token={REDACTED}" in api_log, api_log[-3000:]
    assert "deprecated: a WebSocket token in the URL" in api_log
    leaks = {
        f"{role} in {path.name}"
        for role, token in tokens.items()
        for path, text in logs.items()
        if token in text or token[3:] in text
    }
    assert not leaks, f"tokens in the logs: {sorted(leaks)}"
