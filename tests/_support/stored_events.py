"""Storing contract events straight into the event store, for tests of readers of that store."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from hypercare.contract.events import event_to_json_text, parse_event
from hypercare.storage.db import Database
from hypercare.storage.events_store import EventRow, store_events

_offsets = itertools.count()


async def store(db: Database, *items: dict[str, Any]) -> None:
    rows = []
    for item in items:
        event = parse_event(item)
        rows.append(
            EventRow(
                event_id=event.event_id,
                type=event.type,
                family=event.family,
                unit_id=event.unit_id,
                occurred_at=event.occurred_at,
                source=event.source,
                payload=event_to_json_text(event),
                src_topic="test",
                src_partition=0,
                src_offset=next(_offsets),
            )
        )
    await store_events(db, rows=rows)


def at(moment: datetime) -> str:
    return moment.isoformat()
