"""Security headers on every response of the API: the console, the API, errors (a 500 too), and no CDN docs."""

from __future__ import annotations

from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from hypercare.settings import Settings
from services.app import create_app
from services.middleware.security_headers import BASE_POLICY, content_security_policy, install_security_headers

POLICY = "default-src 'self'; frame-ancestors 'none'; object-src 'none'; base-uri 'none'"


def _client(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url="http://t")


async def test_every_answer_of_the_api_carries_them_and_the_cdn_docs_are_gone(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path))
    async with _client(app) as client:
        answers = [
            await client.get("/healthz"),
            await client.get("/console/"),
            await client.get("/console/js/app.js"),
            await client.get("/"),  # the redirect
            await client.get("/openapi.json"),
            await client.get("/api/v1/me"),  # 401
            await client.get("/no-such-route"),  # 404
        ]
        docs = [(await client.get(path)).status_code for path in ("/docs", "/redoc", "/docs/oauth2-redirect")]
    assert [answer.status_code for answer in answers] == [200, 200, 200, 307, 200, 401, 404]
    for answer in answers:
        assert answer.headers["content-security-policy"] == POLICY, answer.request.url
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["referrer-policy"] == "no-referrer"
        assert "strict-transport-security" not in answer.headers  # not behind https
    assert docs == [404, 404, 404]


async def test_behind_https_hsts_and_the_websocket_origin_a_500_included_and_a_routes_own_csp_kept() -> None:
    async def boom(request: Request) -> PlainTextResponse:
        raise RuntimeError("boom")

    async def own(request: Request) -> PlainTextResponse:
        return PlainTextResponse("x", headers={"Content-Security-Policy": "sandbox"})

    app = Starlette(routes=[Route("/boom", boom), Route("/own", own)])
    install_security_headers(app, public_url="https://hypercare.example.org")
    async with _client(app) as client:
        failed = await client.get("/boom")
        kept = await client.get("/own")
    assert failed.status_code == 500
    assert failed.headers["content-security-policy"] == (f"{POLICY}; connect-src 'self' wss://hypercare.example.org")
    assert failed.headers["strict-transport-security"] == "max-age=31536000"
    assert kept.headers["content-security-policy"] == "sandbox"
    assert kept.headers["x-content-type-options"] == "nosniff"


def test_the_policy_without_or_with_a_plain_http_public_url() -> None:
    assert content_security_policy(None) == BASE_POLICY == POLICY
    assert content_security_policy("http://10.0.0.5:8000") == f"{POLICY}; connect-src 'self' ws://10.0.0.5:8000"
    assert content_security_policy("not a url") == POLICY
