"""A ServiceNow-shaped Table API for the connector tests, served by uvicorn in the test's event loop.

``GET /api/now/table/incident`` answers like the Table API with ``sysparm_display_value=false``: the records
whose ``sys_updated_on`` is at or after the query's ``sys_updated_on>=…``, ordered by ``sys_updated_on`` then
``sys_id``, ``sysparm_limit`` from ``sysparm_offset``, under ``{"result": [...]}``. Basic auth, or a bearer token
from ``POST /oauth_token.do`` (client credentials). The records are recorded ones (``servicenow/incidents.json``),
every time moved so the latest update is two minutes ago. ``hold`` makes the N-th table request wait until
``release()`` (to kill a connector in the middle of a poll).
"""

from __future__ import annotations

import asyncio
import base64
import copy
import json
import re
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from hypercare.entrypoints.embedded_broker import free_port

RECORDS = Path(__file__).parent / "servicenow" / "incidents.json"
TIME_FIELDS = ("opened_at", "resolved_at", "closed_at", "sys_created_on", "sys_updated_on")
FORMAT = "%Y-%m-%d %H:%M:%S"
USER, PASSWORD = "hypercare.integration", "s3cret-Integration-Pw"
CLIENT_ID, CLIENT_SECRET = "hypercare-client", "client-s3cret-value"
_SINCE = re.compile(r"sys_updated_on>=([0-9: -]+)")


def stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime(FORMAT)


def recorded_incidents(latest: datetime | None = None) -> list[dict[str, Any]]:
    """The recorded incidents, shifted so the latest ``sys_updated_on`` is ``latest`` (default: two minutes ago)."""
    records = json.loads(RECORDS.read_text(encoding="utf-8"))["result"]
    newest = max(datetime.strptime(r["sys_updated_on"], FORMAT) for r in records).replace(tzinfo=UTC)
    shift = (latest or datetime.now(UTC) - timedelta(minutes=2)).replace(microsecond=0) - newest
    for record in records:
        for name in TIME_FIELDS:
            if record[name]:
                record[name] = stamp(datetime.strptime(record[name], FORMAT).replace(tzinfo=UTC) + shift)
    return records


class FakeServiceNow:
    def __init__(self, records: list[dict[str, Any]]) -> None:
        self.records = records
        self.table_requests = 0
        self.queries: list[dict[str, str]] = []
        self.hold: int | None = None
        self._released = asyncio.Event()
        self._tokens: dict[str, float] = {}
        self.app = Starlette(
            routes=[
                Route("/api/now/table/incident", self.table, methods=["GET"]),
                Route("/oauth_token.do", self.oauth, methods=["POST"]),
            ]
        )
        self.url = ""

    def release(self) -> None:
        self._released.set()

    def update(self, number: str, **fields: Any) -> None:
        """A later version of a record (its sys_updated_on and sys_mod_count moved on)."""
        record = next(r for r in self.records if r["number"] == number)
        record.update(fields)
        record["sys_mod_count"] = str(int(record["sys_mod_count"]) + 1)

    def _authorized(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        if header.startswith("Basic "):
            return base64.b64decode(header[6:]).decode() == f"{USER}:{PASSWORD}"
        if header.startswith("Bearer "):
            return self._tokens.get(header[7:], 0) > time.monotonic()
        return False

    async def oauth(self, request: Request) -> JSONResponse:
        form = {key: values[0] for key, values in parse_qs((await request.body()).decode()).items()}
        if (form.get("grant_type"), form.get("client_id"), form.get("client_secret")) != (
            "client_credentials",
            CLIENT_ID,
            CLIENT_SECRET,
        ):
            return JSONResponse({"error": "access_denied"}, status_code=401)
        token = secrets.token_urlsafe(24)
        self._tokens[token] = time.monotonic() + 1800
        return JSONResponse({"access_token": token, "token_type": "Bearer", "expires_in": 1799, "scope": "useraccount"})

    async def table(self, request: Request) -> JSONResponse:
        if not self._authorized(request):
            return JSONResponse({"error": {"message": "User Not Authenticated"}, "status": "failure"}, status_code=401)
        self.table_requests += 1
        params = dict(request.query_params)
        self.queries.append(params)
        if self.hold is not None and self.table_requests == self.hold:
            await asyncio.wait_for(self._released.wait(), 120)
        match = _SINCE.search(params.get("sysparm_query", ""))
        since = match.group(1) if match else ""
        chosen = sorted(
            (r for r in self.records if r["sys_updated_on"] >= since), key=lambda r: (r["sys_updated_on"], r["sys_id"])
        )
        offset, limit = int(params.get("sysparm_offset", 0)), int(params.get("sysparm_limit", 10000))
        return JSONResponse({"result": copy.deepcopy(chosen[offset : offset + limit])})


@asynccontextmanager
async def serving(fake: FakeServiceNow) -> AsyncIterator[str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(fake.app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    deadline = time.monotonic() + 20
    while not server.started:
        if task.done() or time.monotonic() > deadline:
            raise RuntimeError("the fake ServiceNow did not start")
        await asyncio.sleep(0.05)
    fake.url = f"http://127.0.0.1:{port}"
    try:
        yield fake.url
    finally:
        fake.release()
        server.should_exit = True
        await asyncio.wait_for(task, 20)
