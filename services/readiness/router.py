"""``GET /api/v1/readiness``: each unit's readiness before its go-live, rolled up, with each wave's gate; and
``POST /api/v1/readiness/decisions``: a wave's go/no-go, stamped with its readiness (chiefs, admins)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from fastapi.responses import JSONResponse

from services.auth.dependencies import Reader, RolloutDecider
from services.auth.scope import refusal as scope_refusal
from services.decisions.stamped import answered
from services.dependencies import DatabaseDep, OrgDep, ProducerDep, ReadinessDep, SettingsDep
from services.ingest.schemas import IngestResponse
from services.readiness import decisions, service
from services.readiness.schemas import ReadinessView, WaveDecisionIn, WaveDecisionRecorded

router = APIRouter(prefix="/api/v1", tags=["readiness"])


@router.get(
    "/readiness",
    summary="Readiness per unit (green/yellow/red with reasons), rolled up, and each wave's go/no-go gate",
    responses={
        403: {"description": "unit_id lies outside the token's scope"},
        404: {"description": "The wave or unit_id is not in the org registry"},
    },
)
async def get_readiness(
    principal: Reader,
    db: DatabaseDep,
    org: OrgDep,
    checklist: ReadinessDep,
    wave: Annotated[str | None, Query(max_length=64, description="only the units of this wave")] = None,
    unit_id: Annotated[
        str | None, Query(max_length=128, description="only this unit, or the units of this site or administration")
    ] = None,
    at: Annotated[datetime | None, Query(description="as the stored assessments stood then (RFC 3339)")] = None,
) -> ReadinessView:
    if at is not None and (at.tzinfo is None or at.utcoffset() is None):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "at: give a time zone offset")
    if unit_id is not None and unit_id in org.node_ids:
        refused = scope_refusal(org, principal.scope, unit_id, "read the readiness")
        if refused is not None:
            raise HTTPException(status.HTTP_403_FORBIDDEN, refused)
    try:
        return await service.readiness_at(
            db, org, checklist, at=at or datetime.now(UTC), wave=wave, node=unit_id, scope=principal.scope
        )
    except service.UnknownNode as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(error)) from None


@router.post(
    "/readiness/decisions",
    summary="Record a wave's go/no-go, stamped with the wave's readiness as it is now",
    response_model=WaveDecisionRecorded,
    responses={
        404: {"description": "The wave is not in the org registry"},
        422: {
            "model": IngestResponse,
            "description": "The decision event was rejected, a go on a red gate has no rationale, or a bad body",
        },
        503: {"description": "The broker did not acknowledge; nothing was recorded"},
    },
)
async def record_wave_decision(
    body: WaveDecisionIn,
    principal: RolloutDecider,
    db: DatabaseDep,
    org: OrgDep,
    checklist: ReadinessDep,
    settings: SettingsDep,
    producer: ProducerDep,
) -> WaveDecisionRecorded | JSONResponse:
    try:
        return await answered(
            decisions.record_wave_decision(
                db=db,
                org=org,
                checklist=checklist,
                settings=settings,
                producer=producer,
                principal=principal,
                choice=body,
            )
        )
    except service.UnknownNode as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(error)) from None
    except decisions.GoWithoutReason as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(error)) from None
