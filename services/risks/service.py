"""The risk register for the API: filter the current risks, or show one with its history."""

from __future__ import annotations

from typing import Literal

from hypercare.org.registry import OrgRegistry
from hypercare.storage.db import Database
from services.auth.scope import filter_by_node, readable
from services.risks.register import OPEN_STATUSES, current_risks, flags_of, risk_versions
from services.risks.schemas import CurrentRisk, RiskDetail, RiskList


class RiskNotFound(LookupError):
    """No version of this risk has been recorded."""


async def list_risks(
    *, db: Database, org: OrgRegistry, scope: str | None, state: Literal["open", "closed", "all"], flagged: bool
) -> RiskList:
    """Current risks ``scope`` may read (its subtree's and the region's), open first; ``flagged`` keeps those
    missing an owner or a mitigation plan. The counts are of the risks listed."""
    risks = filter_by_node(org, scope, await current_risks(db))
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


async def get_risk(*, db: Database, org: OrgRegistry, scope: str | None, risk_id: str) -> RiskDetail:
    """One risk with its history; outside ``scope`` it is not found (as if it did not exist)."""
    versions = (await risk_versions(db)).get(risk_id)
    nodes = readable(org, scope)
    if not versions or (nodes is not None and versions[-1]["unit_id"] not in nodes):
        raise RiskNotFound(f"no risk {risk_id!r} has been recorded")
    return RiskDetail.model_validate({**versions[-1], "flags": flags_of(versions[-1]), "history": versions})
