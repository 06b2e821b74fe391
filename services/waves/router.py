"""``GET /api/v1/waves``: the go-live waves and areas of the org registry (everyone who reads the picture)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, status

from services.auth.dependencies import Reader
from services.dependencies import DatabaseDep, ExitCriteriaDep, OrgDep, ReadinessDep, SettingsDep
from services.readiness.service import wave_gates
from services.wave_exit.service import wave_exits
from services.waves import service
from services.waves.schemas import WaveComparison, Waves

router = APIRouter(prefix="/api/v1", tags=["waves"])


@router.get("/waves", summary="The go-live waves: areas, go-live times, status, units, readiness gate, exit criteria")
async def get_waves(
    principal: Reader,
    org: OrgDep,
    db: DatabaseDep,
    settings: SettingsDep,
    checklist: ReadinessDep,
    exit_criteria: ExitCriteriaDep,
) -> Waves:
    now = datetime.now(UTC)
    gates = await wave_gates(db, org, checklist, at=now, scope=principal.scope)
    exits = await wave_exits(db, org, exit_criteria, at=now, zone=settings.zone)
    return service.waves_at(org, now, gates, exits, await service.waves_decided(db, org))


@router.get(
    "/waves/compare",
    summary="Waves side by side: tickets, login failures, permission denials and assists per 100 users, per hour "
    "(72h) or day (14d) since each wave's go-live",
    response_model=WaveComparison,
    responses={404: {"description": "A named wave is not in the org registry"}},
)
async def compare_waves(
    principal: Reader,
    org: OrgDep,
    db: DatabaseDep,
    waves: Annotated[
        str, Query(max_length=1000, description="comma-separated wave ids; empty: every wave that has gone live")
    ] = "",
    span: Annotated[Literal["72h", "14d"], Query(description="72h: hourly buckets; 14d: daily buckets")] = "72h",
) -> WaveComparison:
    try:
        wave_ids = service.compared_waves(org, waves)
    except service.UnknownWaves as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(error)) from None
    return await service.comparison(db, org, wave_ids=wave_ids, span=span, at=datetime.now(UTC), scope=principal.scope)
