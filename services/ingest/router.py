"""``POST /api/v1/events`` and the admin's quarantine listing."""

from __future__ import annotations

from typing import Annotated

from aiokafka.errors import KafkaError
from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import JSONResponse

from hypercare.storage.quarantine import count_quarantined, list_quarantined
from hypercare.topics import topics_for
from services.audit.service import note_counts
from services.auth.dependencies import Admin, Ingester
from services.dependencies import (
    DatabaseDep,
    LiveHubDep,
    OrgDep,
    ProducerDep,
    QuarantineSinkDep,
    ReadinessDep,
    SettingsDep,
)
from services.ingest.body import request_items
from services.ingest.diversions import ActiveDiversions
from services.ingest.schemas import IngestResponse, QuarantinePage
from services.ingest.service import describe, ingest_items

router = APIRouter(prefix="/api/v1", tags=["ingest"])


@router.post(
    "/events",
    response_model=IngestResponse,
    summary="Submit events: one JSON object, a JSON array, or NDJSON",
    responses={
        200: {"description": "Batch processed: accepted count and every rejected item with its reason"},
        400: {"description": "The body is neither JSON nor NDJSON"},
        403: {
            "model": IngestResponse,
            "description": "Every item was refused for this token (role, scope or actor), each with its reason;"
            " or the role may not submit at all",
        },
        413: {"description": "Body or event count over the configured limit"},
        422: {
            "model": IngestResponse,
            "description": "Every item was rejected, some for what they say (same body shape as 200); or JSON"
            " nested too deep",
        },
        503: {"description": "The broker did not acknowledge, or the token could not be checked; resend safely"},
    },
)
async def post_events(
    request: Request,
    principal: Ingester,
    settings: SettingsDep,
    db: DatabaseDep,
    producer: ProducerDep,
    org: OrgDep,
    quarantine: QuarantineSinkDep,
    hub: LiveHubDep,
    readiness: ReadinessDep,
) -> JSONResponse:
    # The body limit (HYPERCARE_MAX_BODY_BYTES, 413) and the nesting limit (422) are enforced for every
    # route by services.middleware.limits before the request gets here.
    items = await request_items(request, limit=settings.max_events_per_request, noun="events")
    try:
        result = await ingest_items(
            items=items,
            principal=principal,
            producer=producer,
            db=db,
            topics=topics_for(settings),
            org=org,
            unknown_units=settings.unknown_units,
            quarantine=quarantine,
            active_diversions=ActiveDiversions(hub.store.unit_states) if hub is not None else None,
            readiness=readiness,
        )
    except KafkaError as error:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            f"the event broker did not acknowledge ({type(error).__name__}); nothing from this request "
            "counts as accepted, resend it (event ids make resending safe)",
        ) from None
    note_counts(request.scope, accepted=result.accepted, rejected=len(result.rejected))  # its audit row
    return JSONResponse(describe(result), status_code=result.status)


@router.get(
    "/quarantine", response_model=QuarantinePage, summary="Rejected and dead-lettered items, newest first (admins)"
)
async def get_quarantine(
    _: Admin,
    db: DatabaseDep,
    stage: Annotated[str | None, Query(pattern="^(ingest|mapping|stream)$")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> QuarantinePage:
    items = await list_quarantined(db, stage=stage, limit=limit, offset=offset)
    return QuarantinePage.model_validate({"total": await count_quarantined(db, stage=stage), "items": items})
