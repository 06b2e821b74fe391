"""Shared fixtures: one real Tansu broker and one real PostgreSQL database per test session.

Tests isolate themselves with unique topic prefixes (``settings_factory``) rather than new brokers.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings as hypothesis_settings
from pg_databases import fresh_pg_database

from hypercare.entrypoints.embedded_broker import EmbeddedBroker
from hypercare.settings import Settings
from hypercare.storage.db import Database

# Property-based tests: a fixed, derandomised profile keeps the suite fast and every run the same;
# HYPOTHESIS_PROFILE=explore searches harder (and at random) when working on a fold or parser.
hypothesis_settings.register_profile("ci", max_examples=100, deadline=None, derandomize=True, database=None)
hypothesis_settings.register_profile("explore", max_examples=2_000, deadline=None)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def broker() -> Iterator[EmbeddedBroker]:
    embedded = EmbeddedBroker().start()
    yield embedded
    embedded.stop()


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """The session's PostgreSQL database. Tests share it, so what they store must be whole, valid events
    (other tests read events back); a module that stores anything else overrides this fixture with
    :func:`fresh_pg_database` of its own."""
    with fresh_pg_database() as url:
        yield url


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def settings_factory(broker: EmbeddedBroker, pg_url: str, tmp_path: Any) -> Callable[..., Settings]:
    """Settings on the session broker and database with a topic prefix unique to the test."""

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "kafka_bootstrap": broker.bootstrap,
            "database_url": pg_url,
            "data_dir": tmp_path,
            "topic_prefix": unique("t").replace("-", "_"),
            "worker_id": unique("worker"),
            "worker_web_port": 0,
        }
        values.update(overrides)
        return Settings(**values)

    return make


@pytest.fixture
async def pg_session_url(pg_url: str) -> AsyncIterator[str]:
    return pg_url


@pytest.fixture(params=["postgresql", "sqlite"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same test on the session's PostgreSQL database and on a fresh SQLite file (the embedded default)."""
    if request.param == "postgresql":
        return str(request.getfixturevalue("pg_url"))
    url = f"sqlite+aiosqlite:///{tmp_path / 'hypercare.db'}"
    from hypercare.storage.migrate import upgrade_database

    upgrade_database(url)
    return url


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = Database.from_url(db_url)
    yield database
    await database.close()
