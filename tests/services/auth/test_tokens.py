"""Tokens against real PostgreSQL and a SQLite file: hashed storage, verification, revocation, cache."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pg_databases import fresh_pg_database
from sqlalchemy import event, select, update

from hypercare.storage.db import Database
from hypercare.storage.migrate import upgrade_database
from hypercare.storage.models import ApiToken, utcnow
from services.auth.roles import ADMIN, DECIDE, INGEST, READ_SITUATION, Role
from services.auth.tokens import (
    Principal,
    TokenCache,
    TokenNameTaken,
    free_name,
    has_admin_token,
    hash_token,
    issue_token,
    parse_duration,
    revoke_token,
    verify_token,
)


@pytest.fixture(params=["postgresql", "sqlite"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated database of its own, for assertions about "no token at all"."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
        upgrade_database(url)
        yield url
        return
    with fresh_pg_database("hc_tok") as url:
        yield url


def unique_name(prefix: str = "test") -> str:
    """Random, but never ten digits in a row: those may form an identity number, which names refuse."""
    suffix = uuid.uuid4().hex[:10]
    return f"{prefix}-{suffix[:5]}x{suffix[5:]}"


class QueryCounter:
    def __init__(self, db: Database) -> None:
        self.count = 0
        self._engine = db.engine.sync_engine

    def _record(self, *args: Any) -> None:
        self.count += 1

    def __enter__(self) -> QueryCounter:
        event.listen(self._engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *args: Any) -> None:
        event.remove(self._engine, "before_cursor_execute", self._record)


def test_permission_sets() -> None:
    assert {Role.ADMIN, Role.CHIEF, Role.AGENT, Role.FLOORWALKER, Role.VIEWER} == READ_SITUATION
    assert {Role.ADMIN, Role.CHIEF, Role.AGENT, Role.FLOORWALKER, Role.SOURCE} == INGEST
    assert {Role.ADMIN, Role.CHIEF} == DECIDE
    assert {Role.ADMIN} == ADMIN
    assert [role.value for role in Role] == ["admin", "chief", "agent", "floorwalker", "viewer", "source"]


async def test_tokens_are_stored_hashed_and_verify_to_their_holder(db: Database) -> None:
    name = unique_name("serviceportal")
    token = await issue_token(db, role="source", name=name)
    assert token.startswith("hc_") and len(token) >= 40
    async with db.sessions() as session:
        rows = (await session.scalars(select(ApiToken).where(ApiToken.name == name))).all()
    assert len(rows) == 1
    stored = rows[0]
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in {stored.name, stored.role, stored.token_hash}
    assert stored.role == "source" and stored.revoked_at is None
    assert stored.created_at.utcoffset() is not None

    principal = await verify_token(db, token=token)
    assert principal == Principal(name=name, role=Role.SOURCE)
    assert principal.role is Role.SOURCE

    other = await issue_token(db, role=Role.CHIEF, name=f"  {unique_name('chief')}  ")
    assert other != token
    chief = await verify_token(db, token=other)
    assert chief is not None and chief.role is Role.CHIEF and chief.name == chief.name.strip()


async def test_unknown_and_malformed_tokens_fail(db: Database) -> None:
    token = await issue_token(db, role="viewer", name=unique_name())
    for candidate in ("", "hc_nope", token[:-1], token + "x", "Bearer " + token, token[3:], "hc_" + "a" * 500):
        assert await verify_token(db, token=candidate) is None, candidate


async def test_revoked_tokens_fail(db: Database) -> None:
    name = unique_name("tablet")
    first = await issue_token(db, role="floorwalker", name=name)
    by_id = await issue_token(db, role="floorwalker", name=unique_name("tablet"))
    keep = await issue_token(db, role="floorwalker", name=unique_name("tablet"))
    by_id_principal = await verify_token(db, token=by_id)
    assert by_id_principal is not None and by_id_principal.token_id is not None
    assert await revoke_token(db, name=name) == 1
    assert await revoke_token(db, name=str(by_id_principal.token_id)) == 1  # NAME or ID
    assert await verify_token(db, token=first) is None
    assert await verify_token(db, token=by_id) is None
    assert await verify_token(db, token=keep) is not None
    assert await revoke_token(db, name=name) == 0
    async with db.sessions() as session:
        revoked = (await session.scalars(select(ApiToken.revoked_at).where(ApiToken.name == name))).all()
    assert len(revoked) == 1 and all(when is not None and when.utcoffset() is not None for when in revoked)


async def test_token_names_are_unique_revoked_ones_included(db: Database) -> None:
    name = unique_name("taken")
    await issue_token(db, role="viewer", name=name)
    with pytest.raises(TokenNameTaken, match=f"a token named '{name}' exists already; token names are unique"):
        await issue_token(db, role="chief", name=name)
    await revoke_token(db, name=name)
    with pytest.raises(TokenNameTaken):
        await issue_token(db, role="viewer", name=name)
    assert await free_name(db, name) == f"{name}-2"


async def test_expired_tokens_fail_everywhere(db: Database) -> None:
    token = await issue_token(db, role="viewer", name=unique_name("short"), expires_in=timedelta(minutes=30))
    principal = await verify_token(db, token=token)
    assert principal is not None and principal.expires_at is not None
    async with db.sessions.begin() as session:
        await session.execute(
            update(ApiToken).where(ApiToken.id == principal.token_id).values(expires_at=utcnow() - timedelta(seconds=1))
        )
    assert await verify_token(db, token=token) is None
    # A principal cached (or kept for the outage grace) before it expired is refused once the time has come.
    cache = TokenCache(ttl=60)
    cache.put(hash_token(token), replace(principal, expires_at=utcnow() - timedelta(seconds=1)))
    assert await verify_token(db, token=token, cache=cache) is None
    assert parse_duration("90d") == timedelta(days=90) and parse_duration("12h") == timedelta(hours=12)
    assert parse_duration("30m") == timedelta(minutes=30)
    for bad in ("", "0d", "12", "3w", "-1h"):
        with pytest.raises(ValueError, match="90d, 12h, 30m"):
            parse_duration(bad)


async def test_last_used_is_written_at_most_once_a_minute(db: Database) -> None:
    name = unique_name("used")
    token = await issue_token(db, role="viewer", name=name)

    async def last_used() -> datetime | None:
        async with db.sessions() as session:
            return (await session.scalars(select(ApiToken.last_used_at).where(ApiToken.name == name))).one()

    assert await last_used() is None
    await verify_token(db, token=token)
    first = await last_used()
    assert first is not None
    with QueryCounter(db) as queries:
        for _ in range(3):
            assert await verify_token(db, token=token) is not None
        assert queries.count == 3  # reads only: no write within the minute
    assert await last_used() == first


async def test_scope_is_stored_and_checked(db: Database) -> None:
    token = await issue_token(
        db, role="chief", name=unique_name("scoped"), scope="sas", org_scope_ids=frozenset({"sas"})
    )
    principal = await verify_token(db, token=token)
    assert principal is not None and principal.scope == "sas"
    with pytest.raises(ValueError, match="not the region, an administration, a site or a unit"):
        await issue_token(db, role="chief", name=unique_name("x"), scope="nowhere", org_scope_ids=frozenset({"sas"}))


async def test_issue_validates_role_and_name(db: Database) -> None:
    with pytest.raises(ValueError, match="unknown role 'superuser'"):
        await issue_token(db, role="superuser", name="x")
    with pytest.raises(ValueError, match="empty"):
        await issue_token(db, role="viewer", name="   ")
    with pytest.raises(ValueError, match="128"):
        await issue_token(db, role="viewer", name="x" * 129)
    with pytest.raises(ValueError, match="identity number"):
        await issue_token(db, role="viewer", name="tablet of 19121212-1212")
    assert await issue_token(db, role="viewer", name=unique_name().ljust(128, "x"))


async def test_the_cache_spares_the_database_until_the_ttl_passes(db: Database) -> None:
    now = [1000.0]
    cache = TokenCache(ttl=10, clock=lambda: now[0])
    token = await issue_token(db, role="agent", name=unique_name("agent"))
    with QueryCounter(db) as queries:
        assert (await verify_token(db, token=token, cache=cache)) is not None
        assert queries.count == 2  # the look-up and the first last_used_at stamp
        for _ in range(5):
            assert (await verify_token(db, token=token, cache=cache)) is not None
            assert await verify_token(db, token="hc_unknown", cache=cache) is None
        assert queries.count == 3  # one look-up each, then cached (unknown ones too)
        now[0] += 10.5
        assert (await verify_token(db, token=token, cache=cache)) is not None
        assert queries.count == 4  # no second stamp within the minute


async def test_revoking_through_the_cache_takes_effect_at_once(db: Database) -> None:
    cache = TokenCache(ttl=60)
    name = unique_name("gone")
    token = await issue_token(db, role="viewer", name=name)
    assert await verify_token(db, token=token, cache=cache) is not None
    assert await revoke_token(db, name=name, cache=cache) == 1
    assert await verify_token(db, token=token, cache=cache) is None


def test_the_cache_is_bounded() -> None:
    cache = TokenCache(ttl=60, max_entries=3)
    for index in range(5):
        cache.put(f"h{index}", None)
    assert len(cache) == 3
    assert cache.get("h0") == (False, None)
    assert cache.get("h4") == (True, None)
    disabled = TokenCache(ttl=0)
    disabled.put("h", Principal("x", Role.ADMIN))
    assert disabled.get("h") == (False, None)


async def test_has_admin_token(fresh_url: str) -> None:
    db = Database.from_url(fresh_url)
    try:
        assert await has_admin_token(db) is False
        await issue_token(db, role="chief", name="chief")
        assert await has_admin_token(db) is False
        await issue_token(db, role="admin", name="first-admin")
        assert await has_admin_token(db) is True
        await revoke_token(db, name="first-admin")
        assert await has_admin_token(db) is False
    finally:
        await db.close()


def test_a_revoked_token_is_never_served_from_the_outage_grace() -> None:
    now = [1000.0]
    cache = TokenCache(ttl=10, outage_grace=300, clock=lambda: now[0])
    holder = Principal("tablet", Role.VIEWER)
    cache.put("revoked-here", holder)
    cache.put("revoked-elsewhere", holder)
    cache.put("kept", holder)
    signal = cache.revocation
    cache.forget("revoked-here")  # this process revoked it
    assert signal.is_set() and not cache.revocation.is_set()  # open WebSockets are woken to re-check
    now[0] += 11
    cache.put("revoked-elsewhere", None)  # a look-up here read the revocation
    cache.note_outage()
    assert cache.in_outage
    assert cache.last_known("revoked-here") is None
    assert cache.last_known("revoked-elsewhere") is None
    assert cache.last_known("kept") == holder
