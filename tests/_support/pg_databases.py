"""PostgreSQL databases for tests: one per session (shared), or one of a module's own."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg
from sqlalchemy.engine import make_url

PG_ADMIN_URL = os.environ.get("HYPERCARE_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


@contextmanager
def fresh_pg_database(prefix: str = "hc_test", *, migrate: bool = True) -> Iterator[str]:
    """A new PostgreSQL database (migrated to head unless ``migrate`` is false), dropped afterwards: its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"

    async def admin(sql: str) -> None:
        connection = await asyncpg.connect(PG_ADMIN_URL)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_ADMIN_URL).set(drivername="postgresql+asyncpg", database=name)
    rendered = url.render_as_string(hide_password=False)
    from hypercare.storage.migrate import upgrade_database

    try:
        if migrate:
            upgrade_database(rendered)
        yield rendered
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
