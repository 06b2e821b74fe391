"""``GET /api/v1/units/{unit_id}/events``: a unit's recent history, for an agent before calling back."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import select

from hypercare.storage.models import StoredEvent
from services.auth.dependencies import Reader
from services.dependencies import DatabaseDep, OrgDep

router = APIRouter(prefix="/api/v1", tags=["console"])


@router.get("/units/{unit_id}/events", summary="A unit's most recent events, newest first (redacted)")
async def get_unit_events(
    unit_id: str,
    _: Reader,
    db: DatabaseDep,
    org: OrgDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    query = (
        select(StoredEvent)
        .where(StoredEvent.unit_id == unit_id)
        .order_by(StoredEvent.occurred_at.desc(), StoredEvent.stored_at.desc(), StoredEvent.event_id.desc())
        .limit(limit)
    )
    async with db.sessions() as session:
        events = list((await session.execute(query)).scalars())
    placement = org.place(unit_id)
    return {
        "unit_id": unit_id,
        "name": placement.name,
        "site_id": placement.site_id,
        "administration_id": placement.administration_id,
        "items": [
            {
                "event_id": event.event_id,
                "type": event.type,
                "occurred_at": event.occurred_at.isoformat(),
                "source": event.source,
                "payload": event.payload,
            }
            for event in events
        ],
    }
