"""One async engine and session factory per process, for PostgreSQL (asyncpg) or SQLite (aiosqlite)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool, StaticPool

SQLITE_BUSY_TIMEOUT_MS = 30_000
# Rows per multi-row INSERT; SQLAlchemy still splits pages to stay under the parameter limit.
INSERT_PAGE_ROWS = 5_000


def normalise_url(url: str | URL) -> URL:
    """Pick the async driver when a URL names only the database (``postgresql://``, ``sqlite://``)."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "postgresql" and parsed.get_driver_name() != "asyncpg":
        parsed = parsed.set(drivername="postgresql+asyncpg")
    elif backend == "sqlite" and parsed.get_driver_name() != "aiosqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    return parsed


def _sqlite_in_memory(url: URL) -> bool:
    return url.database in (None, "", ":memory:") or url.query.get("mode") == "memory"


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the API read while the worker writes; the busy timeout makes writers queue, not fail.
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def create_engine(url: str | URL, *, null_pool: bool = False) -> AsyncEngine:
    """An engine with per-database settings; ``null_pool`` for one-shot use such as migrations."""
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        kwargs: dict[str, Any] = {
            "connect_args": {"check_same_thread": False},
            "insertmanyvalues_page_size": INSERT_PAGE_ROWS,
        }
        if null_pool and not _sqlite_in_memory(parsed):
            kwargs["poolclass"] = NullPool
        if _sqlite_in_memory(parsed):
            kwargs["poolclass"] = StaticPool  # one shared connection, or every session sees an empty db
        else:
            Path(parsed.database or "").expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"]["timeout"] = SQLITE_BUSY_TIMEOUT_MS / 1000
        engine = create_async_engine(parsed, hide_parameters=True, **kwargs)
        event.listen(engine.sync_engine, "connect", _on_sqlite_connect)
        return engine
    if null_pool:
        return create_async_engine(parsed, poolclass=NullPool, hide_parameters=True)
    return create_async_engine(
        parsed,
        hide_parameters=True,  # no payload or SQL parameter ever reaches an error message or a log line
        insertmanyvalues_page_size=INSERT_PAGE_ROWS,
        pool_size=10,
        max_overflow=10,
        pool_timeout=30,
        pool_pre_ping=True,
        pool_recycle=1800,
    )


class Database:
    """The engine plus an ``async_sessionmaker``; ``expire_on_commit=False`` so rows stay readable."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.sessions: async_sessionmaker[AsyncSession] = async_sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def from_url(cls, url: str | URL) -> Database:
        return cls(create_engine(url))

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    async def close(self) -> None:
        await self.engine.dispose()
