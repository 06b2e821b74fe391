"""The token cache through a database outage: last known verifications for a bounded grace, then 503."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from hypercare.storage.db import Database
from hypercare.storage.errors import classify
from services.auth.tokens import OUTAGE_PROBE_SECONDS, TokenCache, TokenStoreUnavailable, issue_token, verify_token


@pytest.fixture
async def unreachable() -> AsyncIterator[Database]:
    """A PostgreSQL URL nothing listens on: every lookup fails with a connection error (an outage)."""
    database = Database.from_url("postgresql+asyncpg://postgres@127.0.0.1:9/none")
    yield database
    await database.close()


async def test_known_tokens_outlast_an_outage_for_the_grace_and_new_ones_fail(
    pg_url: str, unreachable: Database
) -> None:
    db = Database.from_url(pg_url)
    now = [1000.0]
    cache = TokenCache(ttl=10, outage_grace=300, clock=lambda: now[0])
    try:
        known = await issue_token(db, role="viewer", name=f"grace-{uuid.uuid4().hex[:8]}")
        never_seen = await issue_token(db, role="viewer", name=f"unseen-{uuid.uuid4().hex[:8]}")
        principal = await verify_token(db, token=known, cache=cache)
        assert principal is not None
        assert cache.known_principal(known) == principal.name

        now[0] += 60  # the TTL has passed: the next verification asks the (now unreachable) database
        assert await verify_token(unreachable, token=known, cache=cache) == principal
        assert cache.in_outage
        with pytest.raises(TokenStoreUnavailable) as refused:  # not asked again during the probe pause
            await verify_token(unreachable, token=never_seen, cache=cache)
        assert classify(refused.value) == "transient"  # the API answers 503

        now[0] += OUTAGE_PROBE_SECONDS + 1  # the probe pause is over: asked again, still down
        with pytest.raises(OSError) as failed:
            await verify_token(unreachable, token=never_seen, cache=cache)
        assert classify(failed.value) == "transient"
        assert await verify_token(unreachable, token=known, cache=cache) == principal

        now[0] += 300  # beyond the grace since the last successful verification: the outage's error stands
        with pytest.raises(OSError) as expired:
            await verify_token(unreachable, token=known, cache=cache)
        assert classify(expired.value) == "transient"
        with pytest.raises(TokenStoreUnavailable):  # and within the probe pause, without asking
            await verify_token(unreachable, token=known, cache=cache)

        now[0] += OUTAGE_PROBE_SECONDS + 1  # the database is back: verified again, a new grace starts
        assert await verify_token(db, token=known, cache=cache) == principal
        assert not cache.in_outage
        assert cache.last_known(cache_key(known)) == principal
        cache.clear()  # a revocation in this process forgets the last known verifications too
        assert cache.last_known(cache_key(known)) is None
    finally:
        await db.close()


def cache_key(token: str) -> str:
    from services.auth.tokens import hash_token

    return hash_token(token)


def test_last_known_verifications_are_bounded() -> None:
    from services.auth.roles import Role
    from services.auth.tokens import Principal

    cache = TokenCache(ttl=0, max_entries=2)  # even with the TTL cache off
    for index in range(3):
        cache.put(f"h{index}", Principal(f"p{index}", Role.VIEWER))
    assert cache.last_known("h0") is None
    assert cache.last_known("h2") == Principal("p2", Role.VIEWER)
    cache.put("hx", None)  # unknown tokens are never remembered beyond the TTL
    assert cache.last_known("hx") is None
