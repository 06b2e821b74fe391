"""The risk register for the API: filter the current risks, or show one with its history."""

from __future__ import annotations

from typing import Literal

from hypercare.storage.db import Database
from services.risks.register import OPEN_STATUSES, current_risks, flags_of, risk_versions
from services.risks.schemas import CurrentRisk, RiskDetail, RiskList


class RiskNotFound(LookupError):
    """No version of this risk has been recorded."""


async def list_risks(*, db: Database, state: Literal["open", "closed", "all"], flagged: bool) -> RiskList:
    """Current risks, open first; ``flagged`` keeps those missing an owner or a mitigation plan."""
    risks = await current_risks(db)
    if state == "open":
        risks = [r for r in risks if r["status"] in OPEN_STATUSES]
    elif state == "closed":
        risks = [r for r in risks if r["status"] not in OPEN_STATUSES]
    if flagged:
        risks = [r for r in risks if r["flags"]]
    return RiskList(
        items=[CurrentRisk.model_validate(risk) for risk in risks],
        count=len(risks),
        flagged=sum(1 for r in risks if r["flags"]),
    )


async def get_risk(*, db: Database, risk_id: str) -> RiskDetail:
    versions = (await risk_versions(db)).get(risk_id)
    if not versions:
        raise RiskNotFound(f"no risk {risk_id!r} has been recorded")
    return RiskDetail.model_validate({**versions[-1], "flags": flags_of(versions[-1]), "history": versions})
