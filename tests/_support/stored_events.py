"""Storing contract events straight into the event store, for tests of readers of that store."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from hypercare.contract.events import parse_event
from hypercare.storage.db import Database
from hypercare.storage.events_store import EventRow, store_events

_offsets = itertools.count()


async def store(db: Database, *items: dict[str, Any]) -> None:
    rows = [
        EventRow.of(parse_event(item), src_topic="test", src_partition=0, src_offset=next(_offsets)) for item in items
    ]
    await store_events(db, rows=rows)


def at(moment: datetime) -> str:
    return moment.isoformat()
