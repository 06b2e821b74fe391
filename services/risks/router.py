"""``GET /api/v1/risks``: the risk register. Risks are recorded as ``risk.recorded`` events (chief, admin)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, status

from services.auth.dependencies import Reader
from services.dependencies import DatabaseDep, OrgDep
from services.risks import service
from services.risks.schemas import RiskDetail, RiskList

router = APIRouter(prefix="/api/v1", tags=["risks"])


@router.get("/risks", summary="Current risks and problems, open first; flagged when missing an owner or a plan")
async def get_risks(
    principal: Reader,
    db: DatabaseDep,
    org: OrgDep,
    state: Annotated[Literal["open", "closed", "all"], Query(alias="status")] = "all",
    flagged: bool = False,
) -> RiskList:
    return await service.list_risks(db=db, org=org, scope=principal.scope, state=state, flagged=flagged)


@router.get("/risks/{risk_id}", summary="One risk with every recorded version (404 outside the token's scope)")
async def get_risk(risk_id: str, principal: Reader, db: DatabaseDep, org: OrgDep) -> RiskDetail:
    try:
        return await service.get_risk(db=db, org=org, scope=principal.scope, risk_id=risk_id)
    except service.RiskNotFound as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(error)) from None
