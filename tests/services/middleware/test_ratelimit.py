"""Per-token budgets through the real app: 429 with Retry-After, separate budgets, keyed by principal."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from hypercare.settings import Settings
from hypercare.storage.db import Database
from services.app import create_app
from services.auth.roles import Role
from services.auth.tokens import Principal, TokenCache, hash_token, issue_token
from services.middleware.ratelimit import Budgets, RateLimitMiddleware, budget_for


@pytest.fixture
async def limited(db_url: str, tmp_path: Path) -> AsyncIterator[tuple[Any, dict[str, str]]]:
    settings = Settings(
        database_url=db_url,
        data_dir=tmp_path,
        rate_limit_ingest="2/minute",
        rate_limit_reads="3/minute",
        rate_limit_renders="1/minute",
        rate_limit_sign_in="2/minute",
    )
    app = create_app(settings)
    db = Database.from_url(db_url)
    app.state.db = db
    # Long enough for the whole test: a cached principal that expires makes the next request count against the client
    # address (as documented), which a render taking long on a busy CI machine did once, letting a render through.
    app.state.token_cache = TokenCache(ttl=3600)
    tag = uuid.uuid4().hex[:8]
    tokens = {name: await issue_token(db, role="viewer", name=f"rl-{name}-{tag}") for name in ("a", "b")}
    # Token names are unique, so a second credential of principal "a" (as a session would be) is put in the cache.
    tokens["a2"] = "hc_second-credential-of-a-" + tag
    app.state.token_cache.put(hash_token(tokens["a2"]), Principal(f"rl-a-{tag}", Role.VIEWER))
    try:
        yield app, tokens
    finally:
        await db.close()


def client(app: Any, token: str | None = None, address: str = "10.0.0.1") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.AsyncClient(transport=transport, base_url="http://test", headers=headers)


async def test_a_budget_runs_out_with_429_and_retry_after(limited: tuple[Any, dict[str, str]]) -> None:
    app, tokens = limited
    async with client(app, tokens["a"]) as a:
        # The first request of a token not verified yet counts against its address; then its principal's three.
        codes = [(await a.get("/api/v1/me")).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 200]
        refused = await a.get("/api/v1/me")
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert "3 per 1 minute" in refused.json()["detail"] and "reads" in refused.json()["detail"]
        # Other budgets are separate: renders and ingest are still open for the same principal.
        assert (await a.get("/api/v1/reports/daily", params={"format": "json"})).status_code != 429
        assert (await a.post("/api/v1/events", json=[])).status_code == 403  # a viewer, but counted as ingest
        assert (await a.get("/api/v1/reports/daily")).status_code == 429  # one render per minute
    # Another token of the same principal shares the budget (once verified here); another principal does not.
    async with client(app, tokens["a2"]) as a2:
        assert (await a2.get("/api/v1/me")).status_code == 429
    async with client(app, tokens["b"]) as b:
        assert (await b.get("/api/v1/me")).status_code == 200
    # Probes, metrics and the OpenAPI document are never counted.
    async with client(app, tokens["a"]) as a:
        for _ in range(5):
            assert (await a.get("/healthz")).status_code == 200
            assert (await a.get("/openapi.json")).status_code == 200


async def test_unauthenticated_requests_are_counted_per_address(limited: tuple[Any, dict[str, str]]) -> None:
    app, _ = limited
    async with client(app, None, address="10.0.0.7") as anonymous:
        assert [(await anonymous.get("/api/v1/me")).status_code for _ in range(4)] == [401, 401, 401, 429]
    async with client(app, "hc_made-up", address="10.0.0.7") as guessing:
        assert (await guessing.get("/api/v1/me")).status_code == 429  # a bad token is its address
    async with client(app, None, address="10.0.0.8") as elsewhere:
        assert (await elsewhere.get("/api/v1/me")).status_code == 401


async def test_the_sign_in_routes_are_counted_per_address_whatever_the_token(
    limited: tuple[Any, dict[str, str]],
) -> None:
    app, tokens = limited
    # Without an identity provider the routes answer 404, and are counted all the same (before routing).
    async with client(app, None, address="10.0.0.9") as browser:
        assert (await browser.get("/auth/login")).status_code == 404
        assert (await browser.get("/auth/callback", params={"code": "x", "state": "y"})).status_code == 404
        refused = await browser.get("/auth/login")
        assert refused.status_code == 429 and "sign_in" in refused.json()["detail"]
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert (await browser.post("/auth/logout")).status_code == 429
    # A verified token does not move the count to its principal: the same address stays refused.
    async with client(app, tokens["a"], address="10.0.0.9") as with_token:
        assert (await with_token.get("/api/v1/me")).status_code == 200  # other budgets are separate
        assert (await with_token.get("/auth/login")).status_code == 429
    async with client(app, None, address="10.0.0.10") as elsewhere:
        assert (await elsewhere.get("/auth/login")).status_code == 404


def test_budgets_by_route() -> None:
    assert budget_for("POST", "/api/v1/events", "") == "ingest"
    assert budget_for("GET", "/api/v1/reports/daily", "format=json") == "renders"
    assert budget_for("GET", "/api/v1/reports/12", "format=pdf") == "renders"
    assert budget_for("GET", "/api/v1/reports/12", "") == "reads"
    assert budget_for("POST", "/api/v1/reports", "") == "renders"
    assert budget_for("POST", "/api/v1/reports/3/refresh", "") == "renders"
    assert budget_for("POST", "/api/v1/reports/3/approve", "") == "reads"
    assert budget_for("GET", "/api/v1/decisions", "format=csv&q=x") == "renders"
    assert budget_for("GET", "/api/v1/decisions", "q=x") == "reads"
    assert budget_for("GET", "/api/v1/situation", "") == "reads"
    assert budget_for("GET", "/auth/login", "") == "sign_in"
    assert budget_for("GET", "/auth/callback", "code=x&state=y") == "sign_in"
    assert budget_for("POST", "/auth/logout", "") == "sign_in"
    for path in ("/healthz", "/readyz", "/readyz/records", "/metrics", "/console/index.html", "/openapi.json"):
        assert budget_for("GET", path, "") is None


def test_a_bad_budget_refuses_the_start() -> None:
    with pytest.raises(ValidationError):
        Settings(rate_limit_reads="lots per minute")
    assert Settings(rate_limit_reads="").rate_limit_reads == ""  # empty: no limit


async def test_one_per_minute_means_one_in_any_sixty_seconds_also_across_a_clock_minute(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two hits 0.2 s apart on either side of a clock minute: the second is refused (a window counter let it by)."""
    from limits.aio.storage import memory

    now = [1_800_000_059.9]  # 0.1 s before a whole minute
    monkeypatch.setattr(memory.time, "time", lambda: now[0])
    settings = Settings(rate_limit_renders="1/minute")
    answered: list[int] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    limiter = RateLimitMiddleware(app, budgets=Budgets.from_settings(settings))

    async def call() -> None:
        path = "/api/v1/reports/daily"
        scope = {
            "type": "http",
            "method": "GET",
            "path": path,
            "query_string": b"",
            "headers": [],
            "client": ("10.1.1.1", 1),
        }

        async def receive() -> Any:
            return {"type": "http.request", "body": b""}

        async def send(message: Any) -> None:
            if message["type"] == "http.response.start":
                answered.append(message["status"])

        await limiter(scope, receive, send)

    await call()
    now[0] += 0.2
    await call()
    now[0] += 59.0
    await call()
    now[0] += 1.0
    await call()
    assert answered == [200, 429, 429, 200]
