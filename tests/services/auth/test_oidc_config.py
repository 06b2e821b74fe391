"""The claims file, the OIDC settings, and the session cookie in the auth dependencies (without a provider:
the full flow against a real one is test_oidc_signin.py)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError

from hypercare.settings import Settings
from hypercare.storage.db import Database
from services.auth import session as sessions
from services.auth.dependencies import Decider, Reader
from services.auth.oidc import ClaimsFileError, load_claims_map
from services.auth.oidc import router as oidc_router
from services.auth.roles import Role
from services.auth.tokens import TokenCache


def test_the_shipped_claims_file_maps_groups_to_roles_in_its_order() -> None:
    claims = load_claims_map()
    assert claims.scope_parameter.split()[0] == "openid"
    assert claims.role_for({"groups": ["staff", "hypercare-floorwalker"]}) is Role.FLOORWALKER
    assert claims.role_for({"groups": ["hypercare-chief", "hypercare-admin"]}) is Role.ADMIN  # first in the file
    assert claims.role_for({"groups": "hypercare-viewer"}) is Role.VIEWER  # one string
    assert claims.role_for({"groups": ["staff"]}) is None
    assert claims.role_for({"groups": 7}) is None
    assert claims.role_for({}) is None
    assert claims.name_for({"sub": "abc", "preferred_username": "anna.s"}) == "anna.s"
    # A personal identity number is never a principal's name.
    assert claims.name_for({"sub": "abc", "preferred_username": "19121212-1212"}) == "abc"
    assert claims.scope_for({"hsa_org_id": "SE2321000131-FSAS"}) == "SE2321000131-FSAS"
    assert claims.scope_for({}) is None


def test_a_claims_file_cannot_give_the_source_role(tmp_path: Path) -> None:
    path = tmp_path / "claims.yaml"
    path.write_text("roles_claim: roles\nroles:\n  source: [machines]\n", encoding="utf-8")
    with pytest.raises(ClaimsFileError, match="claims.yaml"):
        load_claims_map(path)


def test_an_issuer_needs_a_client_id_and_the_public_url() -> None:
    with pytest.raises(ValidationError, match="HYPERCARE_OIDC_CLIENT_ID, HYPERCARE_PUBLIC_URL"):
        Settings(oidc_issuer="https://idp.example")
    with pytest.raises(ValidationError, match="https://"):
        Settings(public_url="hypercare.example")
    assert Settings(oidc_issuer="https://idp.example", oidc_client_id="c", public_url="https://h.example").oidc_issuer


def make_app(db: Database, *, oidc: bool) -> FastAPI:
    app = FastAPI()
    app.state.db = db
    app.state.token_cache = TokenCache(ttl=30)
    app.state.session_cache = sessions.SessionCache(ttl=30)
    app.state.oidc = SimpleNamespace(origin="http://hypercare.test") if oidc else None
    app.include_router(oidc_router)

    @app.get("/read")
    async def read(principal: Reader) -> dict[str, str]:
        return {"name": principal.name, "role": principal.role.value}

    @app.post("/decide")
    async def decide(principal: Decider) -> dict[str, str]:
        return {"role": principal.role.value}

    return app


async def test_without_an_issuer_the_session_cookie_means_nothing(db: Database) -> None:
    session_id, _csrf, _ = await sessions.create_session(
        db, name="anna.s", role=Role.CHIEF, scope=None, lifetime=timedelta(hours=1)
    )
    transport = httpx.ASGITransport(app=make_app(db, oidc=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://hypercare.test") as client:
        assert (await client.get("/api/v1/auth/config")).json() == {"oidc": False}
        assert (await client.get("/auth/login")).status_code == 404
        client.cookies.set("hc_session", session_id)
        response = await client.get("/read")
        assert response.status_code == 401 and "missing Authorization header" in response.json()["detail"]


async def test_a_session_reads_and_writes_only_with_origin_and_csrf_token(db: Database) -> None:
    session_id, csrf, _ = await sessions.create_session(
        db, name="anna.s", role=Role.CHIEF, scope="SE2321000131-FSAS", lifetime=timedelta(hours=1)
    )
    other_id, other_csrf, _ = await sessions.create_session(
        db, name="bo.v", role=Role.VIEWER, scope=None, lifetime=timedelta(hours=1)
    )
    transport = httpx.ASGITransport(app=make_app(db, oidc=True))
    async with httpx.AsyncClient(transport=transport, base_url="http://hypercare.test") as client:
        client.cookies.set("hc_session", session_id)
        client.cookies.set("hc_csrf", csrf)
        assert (await client.get("/read")).json() == {"name": "anna.s", "role": "chief"}
        origin = {"Origin": "http://hypercare.test"}
        assert (await client.post("/decide", headers=origin)).status_code == 403
        assert (await client.post("/decide", headers={"X-CSRF-Token": csrf})).status_code == 403  # no Origin
        # Another session's token, even double-submitted, is not this session's.
        client.cookies.set("hc_csrf", other_csrf)
        assert (await client.post("/decide", headers={**origin, "X-CSRF-Token": other_csrf})).status_code == 403
        client.cookies.set("hc_csrf", csrf)
        assert (await client.post("/decide", headers={**origin, "X-CSRF-Token": csrf})).json() == {"role": "chief"}
        # A bearer token decides by itself, with no CSRF token.
        client.cookies.clear()
        assert (await client.post("/decide", headers={"Authorization": "Bearer hc_nope"})).status_code == 401
    expired_id, _, _ = await sessions.create_session(
        db, name="c.d", role=Role.VIEWER, scope=None, lifetime=timedelta(seconds=-1)
    )
    async with httpx.AsyncClient(transport=transport, base_url="http://hypercare.test") as client:
        client.cookies.set("hc_session", expired_id)
        assert (await client.get("/read")).status_code == 401
        client.cookies.set("hc_session", other_id)
        assert (await client.get("/read")).json()["role"] == "viewer"
