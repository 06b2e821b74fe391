"""Alembic environment (async template): configured by ``hypercare.storage.migrate``, not an ini file.

The URL arrives in ``config.attributes["url"]`` (a main option would need ``%`` escaping).
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection

from hypercare.storage import alert_models as _alerts  # noqa: F401  (registers its table on Base)
from hypercare.storage import audit_models as _audit  # noqa: F401  (registers its table on Base)
from hypercare.storage import known_issue_models as _known_issues  # noqa: F401  (registers its tables on Base)
from hypercare.storage import notification_models as _notifications  # noqa: F401  (registers its table on Base)
from hypercare.storage import report_models as _reports  # noqa: F401  (registers its table on Base)
from hypercare.storage.db import create_engine, normalise_url
from hypercare.storage.models import Base

config = context.config
target_metadata = Base.metadata

# Any constant works; it serialises concurrent upgrades of one PostgreSQL database.
MIGRATION_LOCK_KEY = 0x6879706572  # "hyper"


def _url() -> str:
    url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database URL given to the migration environment")
    return str(url)


def run_migrations_offline() -> None:
    url = normalise_url(_url())
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_as_batch=url.get_backend_name() == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def do_run_migrations(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=sqlite)
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Held until commit; a second process waits, then sees the version the first wrote.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        context.run_migrations()


async def run_async_migrations() -> None:
    engine = create_engine(_url(), null_pool=True)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(do_run_migrations)
    finally:
        await engine.dispose()


def run_migrations_online() -> None:
    asyncio.run(run_async_migrations())


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
