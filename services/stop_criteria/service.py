"""Stop criteria at a moment: count the figures in the event store, then judge them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from hypercare.org.registry import OrgRegistry
from hypercare.storage.db import Database
from services.stop_criteria.evaluate import evaluate
from services.stop_criteria.measures import day_start, unit_figures
from services.stop_criteria.rules import StopCriteria


async def stop_criteria_at(
    db: Database, *, org: OrgRegistry, criteria: StopCriteria, at: datetime, zone: ZoneInfo
) -> dict[str, Any]:
    """The evaluation as the stored events stood at ``at`` ("today" is ``at``'s local day in ``zone``)."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("at must be an aware datetime")
    at = at.astimezone(UTC)
    figures = await unit_figures(db, at=at, zone=zone)
    return evaluate(criteria, figures, org=org, at=at, since=day_start(at, zone).astimezone(UTC))
