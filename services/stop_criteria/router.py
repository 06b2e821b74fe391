"""``GET /api/v1/stop-criteria`` (everyone who reads the picture) and go/no-go decisions (chiefs, admins)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from fastapi.responses import JSONResponse

from services.auth.dependencies import Reader, RolloutDecider
from services.decisions.stamped import answered
from services.dependencies import DatabaseDep, OrgDep, ProducerDep, SettingsDep, StopCriteriaDep
from services.ingest.schemas import IngestResponse
from services.stop_criteria import service
from services.stop_criteria.schemas import (
    RolloutDecisionIn,
    RolloutDecisionRecorded,
    StopCriteriaEvaluation,
)

router = APIRouter(prefix="/api/v1", tags=["stop criteria"])


@router.get("/stop-criteria", summary="The go/no-go criteria, met or not, with the numbers behind them")
async def get_stop_criteria(
    principal: Reader,
    db: DatabaseDep,
    org: OrgDep,
    settings: SettingsDep,
    criteria: StopCriteriaDep,
    at: Annotated[datetime | None, Query(description="evaluate as the stored events stood then (RFC 3339)")] = None,
) -> StopCriteriaEvaluation:
    if at is not None and (at.tzinfo is None or at.utcoffset() is None):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "at: give a time zone offset")
    moment = at or datetime.now(UTC)
    return await service.evaluation_at(
        db=db, org=org, criteria=criteria, at=moment, zone=settings.zone, scope=principal.scope
    )


@router.post(
    "/stop-criteria/decisions",
    summary="Record a continue/pause/roll-back decision, stamped with the stop criteria as they are now",
    response_model=RolloutDecisionRecorded,
    responses={
        422: {"model": IngestResponse, "description": "The decision event was rejected (or the body is invalid)"},
        503: {"description": "The broker did not acknowledge; nothing was recorded"},
    },
)
async def record_rollout_decision(
    body: RolloutDecisionIn,
    principal: RolloutDecider,
    db: DatabaseDep,
    org: OrgDep,
    settings: SettingsDep,
    producer: ProducerDep,
    criteria: StopCriteriaDep,
) -> RolloutDecisionRecorded | JSONResponse:
    return await answered(
        service.record_rollout_decision(
            db=db,
            org=org,
            criteria=criteria,
            settings=settings,
            producer=producer,
            principal=principal,
            choice=body,
        )
    )
