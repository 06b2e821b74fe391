"""The audit log through the real app: a scripted session of writes, sign-ins, sign-outs and refusals, then
``GET /api/v1/audit`` lists each one exactly; the table refuses UPDATE and DELETE on both databases; the sink
keeps rows through a database outage and counts what it has to drop."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pg_databases import fresh_pg_database
from sqlalchemy import text

from hypercare.contract.events import new_id
from hypercare.observability import metrics
from hypercare.storage.db import Database
from hypercare.storage.migrate import downgrade_database, upgrade_database
from services.audit.service import AuditSink
from services.audit.store import AuditRow
from services.auth.tokens import issue_token


class RecordingProducer:
    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes | None, bytes]] = []

    async def send_all(self, messages: Sequence[tuple[str, bytes | None, bytes]]) -> None:
        self.sent.extend(messages)


def name(api: Any, role: str) -> str:
    return f"console-{role}-{api.org.tag}"


async def test_a_scripted_session_is_listed_exactly(api: Any, ev: Any) -> None:
    api.app.state.producer = RecordingProducer()
    api.app.state.audit_sink = AuditSink(api.db)
    start = datetime.now(UTC) - timedelta(seconds=1)
    failures = {
        (channel, outcome): metrics.AUTH_FAILURES.labels(channel=channel, outcome=outcome)._value.get()
        for channel, outcome in (("http", "unauthenticated"), ("http", "forbidden"), ("websocket", "unauthenticated"))
    }
    good = ev("access.login", api.org.unit("A1W1"), datetime.now(UTC), user_ref="u1", outcome="success")
    bad = {**good, "event_id": new_id("e"), "outcome": "maybe"}

    async with api.client("chief") as chief:
        assert (await chief.post("/api/v1/sign-in")).status_code == 200
        assert (await chief.get("/api/v1/me")).status_code == 200  # a console reload: not a sign-in
        response = await chief.post("/api/v1/events", json=[good, bad], headers={"X-Request-ID": f"req-{api.org.tag}"})
        assert response.status_code == 200 and response.headers["x-request-id"] == f"req-{api.org.tag}"
        assert (await chief.post("/api/v1/events", json=[bad])).status_code == 422
        created = await chief.post("/api/v1/known-issues", json={"title": f"Skrivare {api.org.tag}"})
        assert created.status_code in (200, 201)
        assert (await chief.get("/api/v1/quarantine")).status_code == 403
        assert (await chief.post("/api/v1/sign-out")).status_code == 200
        assert (await chief.get("/api/v1/risks")).status_code == 200  # a read: not audited
    async with api.client("viewer") as viewer:
        assert (await viewer.post("/api/v1/events", json=[good])).status_code == 403
    async with api.client(None) as anonymous:
        assert (await anonymous.get("/api/v1/risks")).status_code == 401
        wrong = {"Authorization": "Bearer hc_not-a-token"}
        assert (await anonymous.post("/api/v1/sign-in", headers=wrong)).status_code == 401
    # A WebSocket without a token is refused (its first message carries none): straight through the ASGI app.
    api.app.state.hub = object()
    assert await websocket_close_code(api.app, "/ws/situation", '{"type": "hello"}') == 1008

    assert {
        key: metrics.AUTH_FAILURES.labels(channel=key[0], outcome=key[1])._value.get() - before
        for key, before in failures.items()
    } == {("http", "unauthenticated"): 2, ("http", "forbidden"): 2, ("websocket", "unauthenticated"): 1}

    response = await api.get("/api/v1/audit", role="admin", **{"from": start.isoformat(), "limit": 1000})
    assert response.status_code == 200
    body = response.json()
    chief, viewer = name(api, "chief"), name(api, "viewer")
    # This test's org tag makes its principals unique; anonymous rows are this test's by time (and checked below).
    mine = [item for item in reversed(body["items"]) if item["principal"] in {chief, viewer, None}]
    seen = [
        (i["principal"], i["role"], i["action"], i["outcome"], i["status"], i["accepted"], i["rejected"])
        for i in mine
        if i["principal"] is not None
    ]
    assert seen == [
        (chief, "chief", "sign_in", "success", 200, None, None),
        (chief, "chief", "POST /api/v1/events", "partial", 200, 1, 1),
        (chief, "chief", "POST /api/v1/events", "rejected", 422, 0, 1),
        (chief, "chief", "POST /api/v1/known-issues", "success", created.status_code, None, None),
        (chief, "chief", "GET /api/v1/quarantine", "forbidden", 403, None, None),
        (chief, "chief", "sign_out", "success", 200, None, None),
        (viewer, "viewer", "POST /api/v1/events", "forbidden", 403, None, None),
    ]
    anonymous = [(i["action"], i["outcome"], i["status"], i["object"]) for i in mine if i["principal"] is None]
    assert ("GET /api/v1/risks", "unauthenticated", 401, "/api/v1/risks") in anonymous
    assert ("sign_in", "unauthenticated", 401, "/api/v1/sign-in") in anonymous
    assert ("WS /ws/situation", "unauthenticated", 1008, "/ws/situation") in anonymous
    tagged = [item for item in body["items"] if item["request_id"] == f"req-{api.org.tag}"]
    assert len(tagged) == 1 and tagged[0]["client"] == "127.0.0.1"
    # Nothing secret in a row: no token, no payload.
    assert not any(token in response.text for token in api.tokens.values())
    assert "hc_not-a-token" not in response.text and good["event_id"] not in response.text

    # Filters: principal, action, outcome.
    only = await api.get(
        "/api/v1/audit", role="admin", principal=chief, action="POST /api/v1/events", outcome="partial"
    )
    assert [(i["accepted"], i["rejected"]) for i in only.json()["items"]] == [(1, 1)]
    assert only.json()["total"] == 1
    # Only admins read it; the chief's refusal is itself audited.
    assert (await api.get("/api/v1/audit", role="chief")).status_code == 403


async def websocket_close_code(app: Any, path: str, first_message: str) -> int:
    """Connect to ``path`` over ASGI, send ``first_message``; the close code the server sent."""
    incoming = [{"type": "websocket.connect"}, {"type": "websocket.receive", "text": first_message}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if incoming:
            return incoming.pop(0)
        await asyncio.sleep(5)
        return {"type": "websocket.disconnect", "code": 1000}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "websocket", "asgi": {"version": "3.0"}, "scheme": "ws", "path": path, "raw_path": path.encode(),
        "query_string": b"", "headers": [(b"host", b"test")], "client": ("127.0.0.1", 50000),
        "server": ("test", 80), "subprotocols": [], "app": app,
    }  # fmt: skip
    await asyncio.wait_for(app(scope, receive, send), 10)
    (close,) = [message for message in sent if message["type"] == "websocket.close"]
    return int(close["code"])


async def test_the_csv_is_safe_against_formula_injection(api: Any) -> None:
    api.app.state.audit_sink = AuditSink(api.db)
    sly = f"=HYPERLINK(evil)-{api.org.tag}"
    token = await issue_token(api.db, role="viewer", name=sly)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=api.app), base_url="http://test", headers={"Authorization": f"Bearer {token}"}
    ) as client:
        assert (await client.post("/api/v1/events", json=[])).status_code == 403
    response = await api.get("/api/v1/audit", role="admin", principal=sly, format="csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["principal"], r["action"], r["outcome"]) for r in rows] == [
        ("'" + sly, "POST /api/v1/events", "forbidden")
    ]


async def test_update_and_delete_of_the_audit_log_are_refused(db: Database) -> None:
    sink = AuditSink(db)
    sink.record(row(f"trigger-{new_id('x')}"))
    assert await sink.flush()
    for statement in ("UPDATE audit_log SET outcome = 'success'", "DELETE FROM audit_log"):
        with pytest.raises(Exception, match="audit_log is append-only"):
            async with db.engine.begin() as connection:
                await connection.execute(text(statement))
    if db.dialect == "postgresql":
        with pytest.raises(Exception, match="audit_log is append-only"):
            async with db.engine.begin() as connection:
                await connection.execute(text("TRUNCATE audit_log"))
    async with db.engine.connect() as connection:
        assert (await connection.execute(text("SELECT count(*) FROM audit_log"))).scalar_one() >= 1


def row(principal: str) -> AuditRow:
    return AuditRow(
        at=datetime.now(UTC),
        principal=principal,
        role="admin",
        scope=None,
        action="POST /api/v1/events",
        object="/api/v1/events",
        outcome="success",
        status=200,
        request_id="r1",
        client="127.0.0.1",
    )


async def test_rows_wait_through_an_outage_and_overflow_is_counted() -> None:
    written: list[AuditRow] = []
    down = True

    async def write(_db: Any, rows: Sequence[AuditRow]) -> None:
        if down:
            raise ConnectionRefusedError("database down")
        written.extend(rows)

    sink = AuditSink(None, write=write, max_rows=3)  # type: ignore[arg-type]
    dropped = metrics.AUDIT_DROPPED._value.get()
    for index in range(4):
        sink.record(row(f"p{index}"))
    assert sink.pending == 3
    assert metrics.AUDIT_DROPPED._value.get() == dropped + 1  # the oldest, over the bound
    assert not await sink.flush()
    assert sink.pending == 3 and written == []
    down = False
    assert await sink.flush()
    assert [r.principal for r in written] == ["p1", "p2", "p3"] and sink.pending == 0


async def test_the_background_task_flushes_after_the_database_returns() -> None:
    written: list[AuditRow] = []
    attempts = 0

    async def write(_db: Any, rows: Sequence[AuditRow]) -> None:
        nonlocal attempts
        attempts += 1
        if attempts < 3:
            raise ConnectionRefusedError("database down")
        written.extend(rows)

    sink = AuditSink(None, write=write, flush_interval=0.01, retry_initial=0.01)  # type: ignore[arg-type]
    await sink.start()
    try:
        sink.record(row("later"))
        for _ in range(200):
            if written:
                break
            await asyncio.sleep(0.01)
    finally:
        await sink.stop()
    assert [r.principal for r in written] == ["later"] and attempts == 3


@pytest.fixture(params=["postgresql", "sqlite"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no tables yet (its own PostgreSQL database: this goes up and down)."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'mig.db'}"
        return
    with fresh_pg_database("hc_audit", migrate=False) as url:
        yield url


async def test_migration_0007_goes_down_and_up(empty_url: str) -> None:
    await _down_and_up(empty_url)


async def _down_and_up(url: str) -> None:
    upgrade_database(url)
    database = Database.from_url(url)
    try:
        async with database.engine.connect() as connection:
            await connection.execute(text("SELECT count(*) FROM audit_log"))
        downgrade_database(url, "0005")
        await database.engine.dispose()
        with pytest.raises(Exception, match="audit_log"):
            async with database.engine.connect() as connection:
                await connection.execute(text("SELECT count(*) FROM audit_log"))
        upgrade_database(url)
        await database.engine.dispose()
        sink = AuditSink(database)
        sink.record(row("after-upgrade"))
        assert await sink.flush()
        with pytest.raises(Exception, match="audit_log is append-only"):
            async with database.engine.begin() as connection:
                await connection.execute(text("DELETE FROM audit_log"))
    finally:
        await database.close()
