"""``GET /api/v1/waves/{wave_id}/exit`` (everyone who reads the picture) and ``POST …/exit/decisions``: the
"handover to support" decision, stamped with the wave's exit criteria (chiefs, admins, region-wide)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, status
from fastapi.responses import JSONResponse

from services.auth.dependencies import Reader, RolloutDecider
from services.decisions.stamped import answered
from services.dependencies import DatabaseDep, ExitCriteriaDep, OrgDep, ProducerDep, SettingsDep
from services.ingest.schemas import IngestResponse
from services.wave_exit import decisions, service
from services.wave_exit.schemas import HandoverDecisionIn, HandoverDecisionRecorded, WaveExit

router = APIRouter(prefix="/api/v1", tags=["waves"])

WaveId = Annotated[str, Path(max_length=64, description="a wave of the org registry")]


@router.get(
    "/waves/{wave_id}/exit",
    summary="A wave's hypercare exit criteria (within, exceeded, not assessed) with the numbers behind them",
    response_model=WaveExit,
    responses={404: {"description": "The wave is not in the org registry"}},
)
async def get_wave_exit(
    wave_id: WaveId,
    principal: Reader,
    db: DatabaseDep,
    org: OrgDep,
    settings: SettingsDep,
    criteria: ExitCriteriaDep,
    at: Annotated[datetime | None, Query(description="evaluate as the stored events stood then (RFC 3339)")] = None,
) -> WaveExit:
    if at is not None and (at.tzinfo is None or at.utcoffset() is None):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "at: give a time zone offset")
    try:
        return await service.wave_exit(db, org, criteria, wave_id, at=at or datetime.now(UTC), zone=settings.zone)
    except service.UnknownWave as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(error)) from None


@router.post(
    "/waves/{wave_id}/exit/decisions",
    summary="Record a wave's handover to support (or extended hypercare), stamped with its exit criteria now",
    response_model=HandoverDecisionRecorded,
    responses={
        404: {"description": "The wave is not in the org registry"},
        422: {
            "model": IngestResponse,
            "description": "The event was rejected, a handover while not ready lacks a rationale, or a bad body",
        },
        503: {"description": "The broker did not acknowledge; nothing was recorded"},
    },
)
async def record_handover_decision(
    wave_id: WaveId,
    body: HandoverDecisionIn,
    principal: RolloutDecider,
    db: DatabaseDep,
    org: OrgDep,
    criteria: ExitCriteriaDep,
    settings: SettingsDep,
    producer: ProducerDep,
) -> HandoverDecisionRecorded | JSONResponse:
    try:
        return await answered(
            decisions.record_handover_decision(
                db=db,
                org=org,
                criteria=criteria,
                settings=settings,
                producer=producer,
                principal=principal,
                wave_id=wave_id,
                choice=body,
            )
        )
    except service.UnknownWave as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(error)) from None
    except decisions.HandoverWithoutReason as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(error)) from None
