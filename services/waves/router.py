"""``GET /api/v1/waves``: the go-live waves and areas of the org registry (everyone who reads the picture)."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter

from services.auth.dependencies import Reader
from services.dependencies import OrgDep
from services.waves import service
from services.waves.schemas import Waves

router = APIRouter(prefix="/api/v1", tags=["waves"])


@router.get("/waves", summary="The go-live waves: areas, planned and actual go-live, status, units")
async def get_waves(_: Reader, org: OrgDep) -> Waves:
    return service.waves_at(org, datetime.now(UTC))
