"""Reporting duties' reads: ``duty.opened`` and ``duty.fulfilled`` events from the event store, oldest first."""

from __future__ import annotations

from datetime import datetime

from hypercare.storage.db import Database
from hypercare.storage.events_store import events_of_types
from hypercare.storage.models import StoredEvent


async def duty_events(db: Database, *, until: datetime | None = None) -> list[StoredEvent]:
    """Every duty event before ``until`` (default: all), in event time."""
    return await events_of_types(db, types=("duty.opened", "duty.fulfilled"), until=until)
