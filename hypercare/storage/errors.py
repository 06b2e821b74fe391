"""Database errors told apart: an outage to wait out, or data the database refuses (never worth a retry).

The stream worker retries a transient error with backoff (nothing may be skipped in the store of record)
and splits a batch that hit a permanent one to dead-letter only the refused records; the API answers 503
for a transient one. Messages here never carry SQL parameters or payloads: :func:`describe` keeps the
error's class, SQLSTATE and the first line of the driver's message, redacted.
"""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Literal

from sqlalchemy import exc as sa_exc

from hypercare.privacy.redact import redact

Kind = Literal["transient", "permanent", "unknown"]

# SQLSTATE classes (PostgreSQL appendix A): 08 connection, 53 resources, 57 operator intervention
# (shutdown, cancel), 40 transaction rollback (serialization failure, deadlock), 55P03 lock not available.
_TRANSIENT_SQLSTATE_CLASSES = ("08", "53", "57", "40")
_TRANSIENT_SQLSTATES = frozenset({"55P03", "55006", "58000", "58030"})
# 22 data exception (e.g. 22P05 "\u0000 cannot be converted to text"), 23 integrity constraint violation.
_PERMANENT_SQLSTATE_CLASSES = ("22", "23")
_MAX_MESSAGE = 200


def _driver_error(error: BaseException) -> BaseException:
    """The DBAPI driver's own exception behind SQLAlchemy's wrapper (asyncpg's, sqlite3's)."""
    original = getattr(error, "orig", None)
    if isinstance(original, BaseException):
        inner = getattr(original, "__cause__", None)
        return inner if isinstance(inner, BaseException) and _sqlstate(inner) else original
    return error


def _sqlstate(error: BaseException) -> str | None:
    for name in ("sqlstate", "pgcode"):
        value = getattr(error, name, None)
        if isinstance(value, str) and len(value) == 5:
            return value
    return None


def classify(error: BaseException) -> Kind:
    """``transient`` (wait and retry), ``permanent`` (the data is refused) or ``unknown``."""
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return "transient"
    if isinstance(error, (OSError, ConnectionError, asyncio.TimeoutError, sa_exc.TimeoutError)):
        return "transient"
    if isinstance(error, sa_exc.DisconnectionError):
        return "transient"
    driver = _driver_error(error)
    state = _sqlstate(driver)
    if state is not None:
        if state in _TRANSIENT_SQLSTATES or state.startswith(_TRANSIENT_SQLSTATE_CLASSES):
            return "transient"
        if state.startswith(_PERMANENT_SQLSTATE_CLASSES):
            return "permanent"
    if isinstance(driver, (OSError, ConnectionError, asyncio.TimeoutError)):
        return "transient"
    if type(driver).__module__.startswith("asyncpg") and type(driver).__name__ in {
        "ConnectionDoesNotExistError",
        "InterfaceError",
        "InternalClientError",
        "TooManyConnectionsError",
        "CannotConnectNowError",
    }:
        return "transient"
    if isinstance(driver, sqlite3.OperationalError):
        # "database is locked" / "disk I/O error" pass; a bad statement would be a bug, not an outage.
        text = str(driver).lower()
        return "transient" if ("locked" in text or "i/o" in text or "busy" in text) else "unknown"
    if isinstance(driver, (sqlite3.DataError, sqlite3.IntegrityError)):
        return "permanent"
    if isinstance(error, (sa_exc.DataError, sa_exc.IntegrityError)):
        return "permanent"
    if isinstance(error, sa_exc.OperationalError):
        return "transient"
    return "unknown"


def describe(error: BaseException, *, message: bool = True) -> str:
    """One line: class, SQLSTATE and (for a dead letter's reason, shown to admins) the first line of the
    driver's message, redacted and shortened. Log lines use ``message=False``: a driver may quote a value."""
    driver = _driver_error(error)
    state = _sqlstate(driver)
    head = type(driver).__name__ + (f" [{state}]" if state else "")
    if not message:
        return head
    text = str(driver).strip().splitlines()[0] if str(driver).strip() else ""
    text = redact(text)
    if len(text) > _MAX_MESSAGE:
        text = text[: _MAX_MESSAGE - 1] + "…"
    return f"{head}: {text}" if text else head
