"""Sign-in with a real OpenID provider (oidc-provider on Node.js), over HTTP as a browser does it: the login
form, the session it creates, the mapped role, CSRF on writes, logout ending the session server-side, the page
for a user in no mapped group, and the session on the WebSocket."""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import AsyncIterator
from html import unescape
from urllib.parse import urljoin

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


def id_token_claims(jwt: str) -> dict[str, object]:
    """The payload of a JWT, unverified (the test only reads whose token the provider got back)."""
    payload = jwt.split(".")[1]
    claims: dict[str, object] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return claims


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
        assert out.status_code == 200 and out.json()["signed_out"] is True
        provider_logout = out.json()["provider_logout_url"]

    # The old cookie no longer works: the session ended on the server, not only in the browser.
    async with _client(api) as stale:
        stale.cookies.set("hc_session", session_id, domain="127.0.0.1")
        gone = await stale.get("/api/v1/me")
        assert gone.status_code == 401 and "sign in again" in gone.json()["detail"]

    # RP-initiated logout: the answer sends the browser to the provider's end_session_endpoint with the ID token
    # of this session as id_token_hint and the console as post_logout_redirect_uri.
    async with _client(api) as provider:
        discovery = (await provider.get(f"{api.env['HYPERCARE_OIDC_ISSUER']}/.well-known/openid-configuration")).json()
    url = httpx.URL(provider_logout)
    assert str(url.copy_with(query=None)) == discovery["end_session_endpoint"]
    assert url.params["post_logout_redirect_uri"] == f"{api.base_url}/console/"
    assert url.params["client_id"] == "hypercare"
    hint = url.params["id_token_hint"]
    assert hint.count(".") == 2 and id_token_claims(hint)["sub"] == "chief.sas"

    # The sign-in through the provider and the sign-out are in the audit log under the person's name.
    async with api.client("admin") as admin:
        rows = (await admin.get("/api/v1/audit", params={"principal": "chief.sas", "limit": 50})).json()["items"]
    actions = {(row["action"], row["outcome"]) for row in rows}
    assert {("sign_in", "success"), ("sign_out", "success")} <= actions, rows
    assert any(row["action"] == "sign_in" and "oidc" in (row["object"] or "") for row in rows), rows


async def test_signing_out_ends_the_session_here_and_at_the_provider(api: Pipeline) -> None:
    async with _client(api) as client:
        await sign_in(client, api.base_url, "chief.sas")
        # While the provider's session lives, signing in again needs no form: the provider answers at once.
        again = await client.get("/auth/login", follow_redirects=True)
        assert str(again.url) == f"{api.base_url}/console/", again.text
        csrf = client.cookies.get("hc_csrf", domain="127.0.0.1") or ""
        out = await client.post("/auth/logout", headers={"Origin": api.base_url, "X-CSRF-Token": csrf})
        assert out.status_code == 200
        assert (await client.get("/api/v1/me")).status_code == 401  # ended here
        # The browser follows the answer to the provider, confirms (oidc-provider asks) and is sent back.
        confirm = await client.get(out.json()["provider_logout_url"])
        assert confirm.status_code == 200 and "op.logoutForm" in confirm.text
        form = re.search(r'<form[^>]*id="op.logoutForm"[^>]*action="([^"]+)"[^>]*>(.*?)</form>', confirm.text, re.S)
        assert form is not None
        fields = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', form.group(2)))
        back = await client.post(
            urljoin(str(confirm.url), unescape(form.group(1))),
            data={**fields, "logout": "yes"},
            follow_redirects=True,
        )
        assert str(back.url) == f"{api.base_url}/console/", back.text
        # Ended at the provider: signing in again shows its login form.
        fresh = await client.get("/auth/login", follow_redirects=True)
        assert fresh.url.host == "127.0.0.1" and "/interaction/" in str(fresh.url)
        assert 'name="login"' in fresh.text


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
