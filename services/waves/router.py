"""``GET /api/v1/waves``: the go-live waves and areas of the org registry (everyone who reads the picture)."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter

from services.auth.dependencies import Reader
from services.dependencies import DatabaseDep, ExitCriteriaDep, OrgDep, ReadinessDep, SettingsDep
from services.readiness.service import wave_gates
from services.wave_exit.service import wave_exits
from services.waves import service
from services.waves.schemas import Waves

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
    return service.waves_at(org, now, gates, await wave_exits(db, org, exit_criteria, at=now, zone=settings.zone))
