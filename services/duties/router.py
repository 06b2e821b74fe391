"""``GET /api/v1/duties``: reporting duties with time left; opened and fulfilled as events (chief, admin)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from services.auth.dependencies import Reader
from services.dependencies import DatabaseDep, DutiesDep, OrgDep
from services.duties import service
from services.duties.schemas import DutyList

router = APIRouter(prefix="/api/v1", tags=["duties"])


@router.get("/duties", summary="Reporting duties (lex Maria, IMY, MSB, Läkemedelsverket) with deadlines and time left")
async def get_duties(
    principal: Reader,
    db: DatabaseDep,
    org: OrgDep,
    config: DutiesDep,
    state: Annotated[Literal["open", "fulfilled", "all"], Query(alias="status")] = "all",
) -> DutyList:
    return await service.list_duties(
        db=db, org=org, scope=principal.scope, config=config, state=state, now=datetime.now(UTC)
    )
