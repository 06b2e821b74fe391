"""``GET /api/v1/waves``: the go-live waves and areas of the org registry (everyone who reads the picture)."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter

from services.auth.dependencies import Reader
from services.dependencies import DatabaseDep, OrgDep, ReadinessDep
from services.readiness.service import wave_gates
from services.waves import service
from services.waves.schemas import Waves

router = APIRouter(prefix="/api/v1", tags=["waves"])


@router.get("/waves", summary="The go-live waves: areas, planned and actual go-live, status, units, readiness gate")
async def get_waves(principal: Reader, org: OrgDep, db: DatabaseDep, checklist: ReadinessDep) -> Waves:
    now = datetime.now(UTC)
    return service.waves_at(org, now, await wave_gates(db, org, checklist, at=now, scope=principal.scope))
