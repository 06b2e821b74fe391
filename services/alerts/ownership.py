"""Which API process evaluates and writes alerts: exactly one, the holder of the alert lock.

Every API process (``hypercare api --workers N``, or replicas) holds the whole picture and could evaluate the
alert rules; evaluating in all of them would cost N times the work and N times the database round trips, and
the webhook must go out once. So one process owns alert evaluation and writes, the others only read the
stored alerts each tick and push them to their own clients.

The lock: on PostgreSQL a session-level advisory lock (``pg_try_advisory_lock``) held on a connection of its
own; on SQLite an exclusive ``flock`` on a file next to the database file (every process of one SQLite
database is on one host). Whoever holds it owns; when the owner stops or dies, its connection or file
closes, the lock goes with it, and another process takes it on its next tick. An in-memory SQLite database
is one process's own, which always owns.

The database stays the safety net: a partial unique index keeps one open alert per (rule, node) and each
transition is a conditional write, so even two owners for a moment (an owner's connection lost and the
lock taken over before it notices) raise nothing twice.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
from pathlib import Path
from typing import IO

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from hypercare.observability import metrics
from hypercare.storage.db import Database

log = logging.getLogger(__name__)

# pg_try_advisory_lock's key (64-bit) for alert ownership: the ASCII of "hcalerts".
LOCK_KEY = int.from_bytes(b"hcalerts", "big") - (1 << 63)


class AlertOwnership:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._connection: AsyncConnection | None = None
        self._file: IO[bytes] | None = None
        self._owner = False

    async def held(self) -> bool:
        """Whether this process owns alert evaluation now; tries to take the lock when it does not."""
        owner = await self._check()
        if owner != self._owner:
            log.info("this process %s alert evaluation", "now owns" if owner else "no longer owns")
        self._owner = owner
        metrics.ALERT_OWNER.set(1 if owner else 0)
        return owner

    async def release(self) -> None:
        await self._drop()
        self._owner = False
        metrics.ALERT_OWNER.set(0)

    async def _check(self) -> bool:
        url = self._db.engine.url
        if url.get_backend_name() == "sqlite":
            return self._sqlite_lock(url.database)
        if self._connection is not None:
            try:
                await self._connection.execute(text("SELECT 1"))  # the lock lives as long as this session
                await self._connection.commit()  # never left idle in a transaction
                return True
            except Exception:
                log.warning("the alert lock's connection was lost; trying to take the lock again")
                await self._drop()
        try:
            connection = await self._db.engine.connect()
        except Exception:
            return False
        try:
            taken = (await connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY})).scalar()
            await connection.commit()  # the lock is the session's; no transaction stays open
        except Exception:
            await connection.close()
            raise
        if not taken:
            await connection.close()
            return False
        self._connection = connection
        return True

    def _sqlite_lock(self, database: str | None) -> bool:
        if not database or database == ":memory:" or database.startswith("file::memory:"):
            return True
        if self._file is not None:
            return True
        handle = Path(f"{database}.alert-owner.lock").open("ab")  # noqa: SIM115 (held while this process owns)
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self._file = handle
        return True

    async def _drop(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                # Not back to the pool (the lock would stay with the pooled session): the session ends here.
                await self._connection.invalidate()
            with contextlib.suppress(Exception):
                await self._connection.close()
            self._connection = None
        if self._file is not None:
            self._file.close()  # closing the file releases the flock
            self._file = None
