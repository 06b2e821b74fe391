"""Sign-in with a real OpenID provider (oidc-provider on Node.js), over HTTP as a browser does it: the login
form, the session it creates, the mapped role, CSRF on writes, logout ending the session server-side, the page
for a user in no mapped group, and the session on the WebSocket."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
import websockets
from hc_testkit import Pipeline
from oidc_testkit import oidc_api, sign_in
from sqlalchemy import select

from hypercare.entrypoints.embedded_broker import EmbeddedBroker
from hypercare.storage.db import Database
from hypercare.storage.models import AuthSession

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
async def api(broker: EmbeddedBroker, pg_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Pipeline]:
    async with oidc_api(broker.bootstrap, pg_url, tmp_path_factory.mktemp("oidc-api")) as running:
        yield running


def _client(api: Pipeline) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=api.base_url, timeout=30)


async def test_the_console_is_told_that_sign_in_goes_through_the_provider(api: Pipeline) -> None:
    async with _client(api) as client:
        assert (await client.get("/api/v1/auth/config")).json() == {"oidc": True}
        # Bearer tokens keep working beside it.
        me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {api.tokens['admin']}"})
        assert me.status_code == 200 and me.json()["role"] == "admin"
        assert (await client.get("/api/v1/me")).status_code == 401


async def test_a_chief_signs_in_writes_with_the_csrf_token_and_signs_out(api: Pipeline, pg_url: str) -> None:
    async with _client(api) as client:
        landed = await sign_in(client, api.base_url, "chief.sas")
        assert landed.status_code == 200 and str(landed.url) == f"{api.base_url}/console/"
        callback = next(r for r in landed.history if r.url.path == "/auth/callback")
        set_cookies = callback.headers.get_list("set-cookie")
        session_cookie = next(c for c in set_cookies if c.startswith("hc_session="))
        csrf_cookie = next(c for c in set_cookies if c.startswith("hc_csrf="))
        assert "HttpOnly" in session_cookie and "SameSite=lax" in session_cookie and "Path=/" in session_cookie
        assert "HttpOnly" not in csrf_cookie
        assert "Secure" not in session_cookie  # http public URL; https gives Secure
        # No secret in any URL of the flow but the protocol's code and state in the callback.
        session_id = client.cookies.get("hc_session", domain="127.0.0.1")
        csrf = client.cookies.get("hc_csrf", domain="127.0.0.1")
        assert session_id and csrf
        assert all(session_id not in str(r.url) and csrf not in str(r.url) for r in [*landed.history, landed])

        me = await client.get("/api/v1/me")
        assert me.status_code == 200, me.text
        assert me.json()["name"] == "chief.sas" and me.json()["role"] == "chief"

        # The session row: principal, role, the organisation scope claim; only the id's hash is stored.
        db = Database.from_url(pg_url)
        try:
            async with db.sessions() as session:
                rows = (await session.execute(select(AuthSession).where(AuthSession.name == "chief.sas"))).scalars()
                row = next(iter(rows))
        finally:
            await db.close()
        assert row.role == "chief" and row.scope == "SE2321000131-FSAS" and row.id_hash != session_id

        issue = {"title": f"OIDC-test {uuid.uuid4().hex[:6]}", "workaround": "Starta om"}
        origin = {"Origin": api.base_url}
        refused = await client.post("/api/v1/known-issues", json=issue, headers=origin)
        assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
        wrong = await client.post("/api/v1/known-issues", json=issue, headers={**origin, "X-CSRF-Token": "nope"})
        assert wrong.status_code == 403
        cross_site = await client.post(
            "/api/v1/known-issues", json=issue, headers={"Origin": "https://evil.example", "X-CSRF-Token": csrf}
        )
        assert cross_site.status_code == 403 and "Origin" in cross_site.json()["detail"]
        accepted = await client.post("/api/v1/known-issues", json=issue, headers={**origin, "X-CSRF-Token": csrf})
        assert accepted.status_code == 201, accepted.text

        # Logout is a cookie-authenticated write too.
        assert (await client.post("/auth/logout", headers=origin)).status_code == 403
        assert (await client.get("/api/v1/me")).status_code == 200
        out = await client.post("/auth/logout", headers={**origin, "X-CSRF-Token": csrf})
        assert out.status_code == 204

    # The old cookie no longer works: the session ended on the server, not only in the browser.
    async with _client(api) as stale:
        stale.cookies.set("hc_session", session_id, domain="127.0.0.1")
        gone = await stale.get("/api/v1/me")
        assert gone.status_code == 401 and "sign in again" in gone.json()["detail"]

    # The sign-in through the provider and the sign-out are in the audit log under the person's name.
    async with api.client("admin") as admin:
        rows = (await admin.get("/api/v1/audit", params={"principal": "chief.sas", "limit": 50})).json()["items"]
    actions = {(row["action"], row["outcome"]) for row in rows}
    assert {("sign_in", "success"), ("sign_out", "success")} <= actions, rows
    assert any(row["action"] == "sign_in" and "oidc" in (row["object"] or "") for row in rows), rows


async def test_a_floor_walker_gets_the_floorwalker_role_and_a_viewer_cannot_write(api: Pipeline) -> None:
    async with _client(api) as client:
        await sign_in(client, api.base_url, "walker.one")
        me = (await client.get("/api/v1/me")).json()
        assert me["role"] == "floorwalker" and me["name"] == "walker.one"
        csrf = client.cookies.get("hc_csrf", domain="127.0.0.1")
        # CSRF passes, the role still decides.
        refused = await client.post(
            "/api/v1/known-issues",
            json={"title": "nej"},
            headers={"Origin": api.base_url, "X-CSRF-Token": csrf or ""},
        )
        assert refused.status_code == 403 and "role 'floorwalker'" in refused.json()["detail"]


async def test_a_user_in_no_mapped_group_gets_a_clear_page_and_no_session(api: Pipeline) -> None:
    async with _client(api) as client:
        page = await sign_in(client, api.base_url, "outsider")
        assert page.status_code == 403
        assert page.headers["content-type"].startswith("text/html")
        assert "Ingen behörighet till Hypercare" in page.text and "No access to Hypercare" in page.text
        assert client.cookies.get("hc_session", domain="127.0.0.1") is None
        assert (await client.get("/api/v1/me")).status_code == 401


async def test_a_callback_without_the_login_under_way_is_refused(api: Pipeline) -> None:
    async with _client(api) as client:
        forged = await client.get("/auth/callback", params={"code": "x", "state": "y"})
        assert forged.status_code == 400 and "Sign-in failed" in forged.text
        assert client.cookies.get("hc_session", domain="127.0.0.1") is None


async def test_the_websocket_takes_the_session_cookie_from_the_console_origin_only(api: Pipeline) -> None:
    async with _client(api) as client:
        await sign_in(client, api.base_url, "chief.sas")
        session_id = client.cookies.get("hc_session", domain="127.0.0.1")
    ws_url = api.base_url.replace("http://", "ws://") + "/ws/situation"
    cookie = {"Cookie": f"hc_session={session_id}"}
    async with websockets.connect(ws_url, additional_headers=cookie, origin=api.base_url) as socket:
        await socket.send(json.dumps({"type": "hello"}))
        first = json.loads(await socket.recv())
        assert first["type"] == "snapshot"
    async with websockets.connect(ws_url, additional_headers=cookie, origin="https://evil.example") as socket:
        await socket.send(json.dumps({"type": "hello"}))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await socket.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
        assert "Origin" in closed.value.rcvd.reason
