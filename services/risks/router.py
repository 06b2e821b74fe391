"""``GET /api/v1/risks``: the risk register. Risks are recorded as ``risk.recorded`` events (chief, admin)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, status

from services.auth.dependencies import Reader
from services.dependencies import DatabaseDep
from services.risks.register import OPEN_STATUSES, current_risks, flags_of, risk_versions

router = APIRouter(prefix="/api/v1", tags=["risks"])


@router.get("/risks", summary="Current risks and problems, open first; flagged when missing an owner or a plan")
async def get_risks(
    _: Reader,
    db: DatabaseDep,
    state: Annotated[Literal["open", "closed", "all"], Query(alias="status")] = "all",
    flagged: bool = False,
) -> dict[str, Any]:
    risks = await current_risks(db)
    if state == "open":
        risks = [r for r in risks if r["status"] in OPEN_STATUSES]
    elif state == "closed":
        risks = [r for r in risks if r["status"] not in OPEN_STATUSES]
    if flagged:
        risks = [r for r in risks if r["flags"]]
    return {"items": risks, "count": len(risks), "flagged": sum(1 for r in risks if r["flags"])}


@router.get("/risks/{risk_id}", summary="One risk with every recorded version")
async def get_risk(risk_id: str, _: Reader, db: DatabaseDep) -> dict[str, Any]:
    versions = (await risk_versions(db)).get(risk_id)
    if not versions:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no risk {risk_id!r} has been recorded")
    return {**versions[-1], "flags": flags_of(versions[-1]), "history": versions}
