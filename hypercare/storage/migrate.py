"""Run Alembic migrations from code: no alembic.ini, the URL is passed in.

Alembic's async ``env.py`` calls ``asyncio.run()``, which cannot run inside a running event loop;
when this thread already runs one, the migration runs in a short-lived thread of its own.
Alembic keeps its running context in module globals, so calls in one process are serialised;
across processes ``env.py`` takes a PostgreSQL advisory lock, and SQLite (whose DDL is not
transactional here) a lock file next to the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from hypercare.storage.db import normalise_url

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_ALEMBIC_LOCK = threading.Lock()


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    config.attributes["url"] = url
    return config


@contextlib.contextmanager
def _sqlite_file_lock(url: str) -> Iterator[None]:
    parsed = normalise_url(url)
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or database in ("", ":memory:"):
        yield
        return
    try:
        import fcntl
    except ImportError:  # not POSIX: in-process serialisation only
        yield
        return
    path = Path(database).expanduser().resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".migrate-lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


def _outside_event_loop(action: str, url: str, revision: str) -> None:
    def run() -> None:
        config = alembic_config(url)
        with _ALEMBIC_LOCK, _sqlite_file_lock(url):
            if action == "upgrade":
                command.upgrade(config, revision)
            else:
                command.downgrade(config, revision)

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        run()
        return
    errors: list[BaseException] = []

    def target() -> None:
        try:
            run()
        except BaseException as error:  # re-raised in the caller's thread
            errors.append(error)

    thread = threading.Thread(target=target, name=f"alembic-{action}")
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


def upgrade_database(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` to ``revision`` (blocking; safe to call repeatedly)."""
    _outside_event_loop("upgrade", url, revision)


def downgrade_database(url: str, revision: str) -> None:
    """Step the database back to ``revision`` (``"base"`` drops everything)."""
    _outside_event_loop("downgrade", url, revision)
