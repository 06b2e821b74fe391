"""Reporting duties for the API: every duty with its time left now, and the kinds the duties file defines."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from hypercare.org.registry import OrgRegistry
from hypercare.storage.db import Database
from services.auth.scope import filter_by_node
from services.duties.config import DutiesConfig
from services.duties.register import duties_at
from services.duties.schemas import Duty, DutyKindOut, DutyList


async def list_duties(
    *,
    db: Database,
    org: OrgRegistry,
    scope: str | None,
    config: DutiesConfig,
    state: Literal["open", "fulfilled", "all"],
    now: datetime,
) -> DutyList:
    """The duties ``scope`` may read (its subtree's and the region's)."""
    duties = filter_by_node(org, scope, await duties_at(db, config, now))
    if state != "all":
        duties = [d for d in duties if d["status"] == state]
    return DutyList(
        items=[Duty.model_validate(duty) for duty in duties],
        count=len(duties),
        kinds={key: DutyKindOut.model_validate(kind.model_dump()) for key, kind in config.duties.items()},
    )
