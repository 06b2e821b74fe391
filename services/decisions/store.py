"""The decision log's reads: decision events from the event store (insert-only, so entries never change)."""

from __future__ import annotations

from datetime import datetime

from hypercare.storage.db import Database
from hypercare.storage.events_store import events_of_types
from hypercare.storage.models import StoredEvent

DECISION_EVENT_TYPES = ("decision.recorded", "ed.diversion_started", "ed.diversion_ended")
MAX_SCANNED = 20_000  # decision events of a whole go-live are far fewer; this bounds one request


async def decision_events(db: Database, *, since: datetime | None, until: datetime | None) -> list[StoredEvent]:
    """Decision events with ``since <= occurred_at < until`` (either open), newest first."""
    return await events_of_types(
        db, types=DECISION_EVENT_TYPES, since=since, until=until, newest_first=True, limit=MAX_SCANNED
    )
