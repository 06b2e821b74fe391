"""Migrations: the schema they build matches the models, on PostgreSQL and SQLite, from any thread."""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from pg_databases import fresh_pg_database
from sqlalchemy import bindparam, inspect, text
from sqlalchemy.engine import Connection

from hypercare.storage.db import Database
from hypercare.storage.migrate import downgrade_database, head_revision, upgrade_database
from hypercare.storage.models import Base, JSONType

EXPECTED_INDEXES = {
    "events": {
        ("ix_events_unit_id_occurred_at", ("unit_id", "occurred_at")),
        ("ix_events_type_occurred_at", ("type", "occurred_at")),
    },
    "quarantine": {("ix_quarantine_stage_received_at", ("stage", "received_at"))},
    "api_tokens": {("ix_api_tokens_name", ("name",))},
}


@pytest.fixture(params=["postgresql", "sqlite"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no tables yet (its own PostgreSQL database: these tests go up and down)."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'not' / 'yet' / 'there' / 'hypercare.db'}"
        return
    with fresh_pg_database("hc_mig", migrate=False) as url:
        yield url


@pytest.fixture
async def inspector_db(empty_url: str) -> AsyncIterator[Database]:
    database = Database.from_url(empty_url)
    yield database
    await database.close()


def _schema(connection: Connection) -> dict[str, Any]:
    inspector = inspect(connection)
    return {
        "tables": set(inspector.get_table_names()),
        "indexes": {
            table: {(ix["name"], tuple(ix["column_names"])) for ix in inspector.get_indexes(table)}
            for table in EXPECTED_INDEXES
            if inspector.has_table(table)
        },
        "unique": {(uc["name"], tuple(uc["column_names"])) for uc in inspector.get_unique_constraints("api_tokens")}
        if inspector.has_table("api_tokens")
        else set(),
        "revision": MigrationContext.configure(connection).get_current_revision(),
        "diff": compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata),
    }


async def schema(db: Database) -> dict[str, Any]:
    async with db.engine.connect() as connection:
        return await connection.run_sync(_schema)


async def test_upgrade_creates_the_tables_and_indexes_of_the_models(empty_url: str, inspector_db: Database) -> None:
    # Called from inside a running event loop: migrate runs Alembic in a thread of its own.
    upgrade_database(empty_url)
    found = await schema(inspector_db)
    assert {"events", "quarantine", "api_tokens", "alembic_version"} <= found["tables"]
    for table, indexes in EXPECTED_INDEXES.items():
        assert indexes <= found["indexes"][table], table
    assert "ix_events_unit_id" not in {name for name, _ in found["indexes"]["events"]}  # dropped by 0013
    assert ("uq_api_tokens_token_hash", ("token_hash",)) in found["unique"]
    assert found["revision"] == head_revision()
    assert found["diff"] == [], "models and migrations disagree; add a revision"


async def test_upgrade_is_repeatable_and_downgrade_removes_everything(empty_url: str, inspector_db: Database) -> None:
    upgrade_database(empty_url)
    upgrade_database(empty_url)
    assert (await schema(inspector_db))["revision"] == head_revision()
    downgrade_database(empty_url, "base")
    found = await schema(inspector_db)
    assert found["tables"] & {"events", "quarantine", "api_tokens"} == set()
    assert found["revision"] is None
    upgrade_database(empty_url)
    assert (await schema(inspector_db))["revision"] == head_revision()


async def test_upgrade_from_a_worker_thread_while_this_loop_runs(empty_url: str, inspector_db: Database) -> None:
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.001)

    running = asyncio.create_task(ticker())
    try:
        await asyncio.to_thread(upgrade_database, empty_url)
    finally:
        running.cancel()
    assert ticks > 0  # the loop kept running while the migration ran
    assert (await schema(inspector_db))["revision"] == head_revision()


def test_upgrade_outside_any_event_loop(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'plain.db'}"
    upgrade_database(url)
    errors: list[BaseException] = []

    def in_thread() -> None:
        try:
            upgrade_database(url)
        except BaseException as error:
            errors.append(error)

    thread = threading.Thread(target=in_thread)
    thread.start()
    thread.join()
    assert errors == []

    async def check() -> str:
        db = Database.from_url(url)
        try:
            async with db.engine.connect() as connection:
                return str((await connection.execute(text("PRAGMA journal_mode"))).scalar_one())
        finally:
            await db.close()

    # Run in a fresh thread: this test is sync, but pytest-asyncio's session loop may exist.
    result: list[str] = []
    worker = threading.Thread(target=lambda: result.append(asyncio.run(check())))
    worker.start()
    worker.join()
    assert result == ["wal"]


async def test_sqlite_connections_wait_for_locks_instead_of_failing(tmp_path: Path) -> None:
    db = Database.from_url(f"sqlite+aiosqlite:///{tmp_path / 'deep' / 'er' / 'x.db'}")
    try:
        async with db.engine.connect() as connection:
            assert (await connection.execute(text("PRAGMA busy_timeout"))).scalar_one() >= 5000
            assert (await connection.execute(text("PRAGMA journal_mode"))).scalar_one() == "wal"
    finally:
        await db.close()
    assert (tmp_path / "deep" / "er" / "x.db").exists()


async def test_concurrent_upgrades_in_one_process_are_serialised(empty_url: str, inspector_db: Database) -> None:
    await asyncio.gather(*(asyncio.to_thread(upgrade_database, empty_url) for _ in range(3)))
    assert (await schema(inspector_db))["revision"] == head_revision()


async def test_concurrent_upgrades_from_separate_processes_both_succeed(empty_url: str, inspector_db: Database) -> None:
    # API, worker and `hypercare token issue` may all start at once against a new database.
    code = "import sys; from hypercare.storage.migrate import upgrade_database; upgrade_database(sys.argv[1])"
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", code, empty_url, stderr=asyncio.subprocess.PIPE, cwd=Path(__file__).parents[3]
        )
        for _ in range(3)
    ]
    results = [await asyncio.wait_for(process.communicate(), 60) for process in processes]
    assert [process.returncode for process in processes] == [0, 0, 0], [err.decode()[-2000:] for _, err in results]
    assert (await schema(inspector_db))["revision"] == head_revision()


async def test_0005_adds_the_token_scope_columns_and_takes_them_away_again(
    empty_url: str, inspector_db: Database
) -> None:
    # Tokens issued before 0005 keep working (NULL scope: not narrowed); a downgrade keeps every token.
    upgrade_database(empty_url, "0004")
    async with inspector_db.engine.begin() as connection:
        await connection.execute(
            text("INSERT INTO api_tokens (name, role, token_hash, created_at) VALUES ('old', 'source', 'h0', :at)"),
            {"at": datetime.now(UTC)},
        )
    upgrade_database(empty_url)

    def columns(connection: Connection) -> set[str]:
        return {column["name"] for column in inspect(connection).get_columns("api_tokens")}

    async with inspector_db.engine.begin() as connection:
        assert {"families", "units"} <= await connection.run_sync(columns)
        old = (await connection.execute(text("SELECT families, units FROM api_tokens WHERE name = 'old'"))).one()
        assert tuple(old) == (None, None)
        await connection.execute(
            text(
                "INSERT INTO api_tokens (name, role, token_hash, created_at, families, units)"
                " VALUES ('new', 'source', 'h1', :at, :families, :units)"
            ).bindparams(bindparam("families", type_=JSONType), bindparam("units", type_=JSONType)),
            {"at": datetime.now(UTC), "families": ["tickets"], "units": ["U1"]},
        )
    downgrade_database(empty_url, "0004")
    async with inspector_db.engine.connect() as connection:
        assert not {"families", "units"} & await connection.run_sync(columns)
        names = (await connection.execute(text("SELECT name FROM api_tokens ORDER BY name"))).scalars().all()
        assert names == ["new", "old"]
    found = await schema(inspector_db)
    assert found["revision"] == "0004"
    assert ("uq_api_tokens_token_hash", ("token_hash",)) in found["unique"]
    assert ("ix_api_tokens_name", ("name",)) in found["indexes"]["api_tokens"]
    upgrade_database(empty_url)
    assert (await schema(inspector_db))["diff"] == []


async def test_0006_adds_the_token_lifecycle_and_makes_names_unique(empty_url: str, inspector_db: Database) -> None:
    # Duplicate names from before 0006 are kept apart (the later ones renamed "<name>#<id>"), nothing is lost.
    upgrade_database(empty_url, "0005")
    async with inspector_db.engine.begin() as connection:
        for token_hash in ("h0", "h1", "h2"):
            await connection.execute(
                text("INSERT INTO api_tokens (name, role, token_hash, created_at) VALUES ('twin', 'viewer', :h, :at)"),
                {"h": token_hash, "at": datetime.now(UTC)},
            )
    upgrade_database(empty_url, "0006")

    def columns(connection: Connection) -> set[str]:
        return {column["name"] for column in inspect(connection).get_columns("api_tokens")}

    def name_index_unique(connection: Connection) -> bool:
        indexes = inspect(connection).get_indexes("api_tokens")
        return any(ix["name"] == "ix_api_tokens_name" and ix["unique"] for ix in indexes)

    async with inspector_db.engine.begin() as connection:
        assert {"expires_at", "last_used_at", "scope"} <= await connection.run_sync(columns)
        assert await connection.run_sync(name_index_unique)
        rows = (await connection.execute(text("SELECT id, name, scope, expires_at FROM api_tokens ORDER BY id"))).all()
        first = rows[0].id
        assert [row.name for row in rows] == ["twin", f"twin#{first + 1}", f"twin#{first + 2}"]
        assert {(row.scope, row.expires_at) for row in rows} == {(None, None)}
    downgrade_database(empty_url, "0005")
    async with inspector_db.engine.connect() as connection:
        assert not {"expires_at", "last_used_at", "scope"} & await connection.run_sync(columns)
        assert not await connection.run_sync(name_index_unique)
        assert len((await connection.execute(text("SELECT name FROM api_tokens"))).all()) == 3
    found = await schema(inspector_db)
    assert found["revision"] == "0005"
    assert ("ix_api_tokens_name", ("name",)) in found["indexes"]["api_tokens"]
    upgrade_database(empty_url)
    assert (await schema(inspector_db))["diff"] == []
