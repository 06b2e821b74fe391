"""A revocation made through another process (another API worker, ``hypercare token revoke``) reaches this
process's token cache on its next poll: the token is refused here and open WebSockets are woken to re-check."""

from __future__ import annotations

from hypercare.contract.events import new_id
from hypercare.storage.db import Database
from services.auth.revocations import RevocationWatch
from services.auth.tokens import TokenCache, hash_token, issue_token, revoke_token, verify_token


async def test_a_token_revoked_elsewhere_is_forgotten_here_on_the_next_poll(db: Database) -> None:
    name = new_id("revoked-elsewhere")
    token = await issue_token(db, role="viewer", name=name)
    cache = TokenCache(ttl=600.0)  # far longer than the test: only the watch can make it forget
    watch = RevocationWatch(db, cache)
    principal = await verify_token(db, token=token, cache=cache)
    assert principal is not None and principal.name == name
    await watch.poll_once()  # the shared database may hold other tests' revocations of the last minute: seen now
    assert await watch.poll_once() == 0

    woken = cache.revocation
    assert await revoke_token(db, name=name) == 1  # no cache: as another process does it
    assert cache.get(hash_token(token)) == (True, principal)  # this process still trusts it
    assert await watch.poll_once() == 1
    assert woken.is_set()  # open WebSockets re-check their tokens now
    assert cache.get(hash_token(token)) == (False, None)
    assert await verify_token(db, token=token, cache=cache) is None
    assert await watch.poll_once() == 0  # seen once, forgotten once
