"""Exactly one API process owns alert evaluation: the holder of the alert lock (PostgreSQL advisory lock, or a
file lock next to a SQLite database); when it lets go, the next process to ask takes over."""

from __future__ import annotations

from hypercare.storage.db import Database
from services.alerts.ownership import AlertOwnership


async def test_one_owner_at_a_time_and_another_takes_over_when_it_lets_go(db_url: str) -> None:
    # Two processes are two engines (connections) on one database; the lock does not care which process.
    first_db, second_db = Database.from_url(db_url), Database.from_url(db_url)
    first, second = AlertOwnership(first_db), AlertOwnership(second_db)
    try:
        assert await first.held() is True
        assert await second.held() is False
        assert await first.held() is True  # asking again keeps it
        assert await second.held() is False
        await first.release()
        assert await second.held() is True
        assert await first.held() is False
    finally:
        await first.release()
        await second.release()
        await first_db.close()
        await second_db.close()


async def test_an_in_memory_sqlite_database_is_its_process_own() -> None:
    db = Database.from_url("sqlite+aiosqlite:///:memory:")
    try:
        assert await AlertOwnership(db).held() is True
    finally:
        await db.close()
