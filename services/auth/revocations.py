"""Revocations made through any process reach this one's token cache within a second.

A revocation forgets the token at once only in the process that made it (its cache, its outage grace, its
open WebSockets). With several API processes (``hypercare api --workers N``, replicas, or ``hypercare token
revoke`` from a shell) the others would go on trusting their cached verification for up to the token cache
TTL. So each process polls the tokens table for recent revocations every :data:`POLL_SECONDS` and forgets
them: that wakes the token checks of its open WebSockets, which close within the poll interval.

Revocation times are written by the revoking process's clock; rows are read back :data:`SKEW_SECONDS`
before the newest one seen, so a host whose clock is a little behind does not make a revocation missed.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from sqlalchemy import select

from hypercare.storage.db import Database
from hypercare.storage.models import ApiToken, utcnow
from services.auth.tokens import TokenCache
from services.supervision import Supervisor

TASK = "token-revocations"
POLL_SECONDS = 1.0
SKEW_SECONDS = 60.0


async def revoked_since(db: Database, since: datetime) -> list[tuple[str, datetime]]:
    """``(token hash, revoked at)`` of the tokens revoked at or after ``since``."""
    query = select(ApiToken.token_hash, ApiToken.revoked_at).where(ApiToken.revoked_at >= since)
    async with db.sessions() as session:
        return [(token_hash, at) for token_hash, at in (await session.execute(query)).all() if at is not None]


class RevocationWatch:
    def __init__(self, db: Database, cache: TokenCache, *, poll: float = POLL_SECONDS) -> None:
        self._db = db
        self._cache = cache
        self._poll = poll
        self._newest = utcnow()  # tokens revoked before this process started are in no cache of it
        self._seen: set[str] = set()
        self._supervisor: Supervisor | None = None

    async def start(self, *, supervisor: Supervisor) -> None:
        self._supervisor = supervisor
        supervisor.start(TASK, self._run)

    async def stop(self) -> None:
        if self._supervisor is not None:
            await self._supervisor.cancel(TASK)

    async def poll_once(self) -> int:
        """Forget every token revoked since the last poll; returns how many were new."""
        rows = await revoked_since(self._db, self._newest - timedelta(seconds=SKEW_SECONDS))
        new = [token_hash for token_hash, _ in rows if token_hash not in self._seen]
        for token_hash in new:
            self._cache.forget(token_hash)
        self._seen = {token_hash for token_hash, _ in rows}
        if rows:
            self._newest = max(self._newest, *(at for _, at in rows))
        return len(new)

    async def _run(self) -> None:
        while True:
            await self.poll_once()
            await asyncio.sleep(self._poll)
