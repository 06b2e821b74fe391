"""The decision log: find entries (for the API and the daily report) and serve them as JSON or CSV."""

from __future__ import annotations

from typing import Any

from hypercare.org.registry import OrgRegistry
from hypercare.storage.db import Database
from services.decisions import store
from services.decisions.csv_export import decisions_csv
from services.decisions.entries import DecisionQuery, log_entries
from services.decisions.schemas import DecisionEntry, DecisionList


async def find_decisions(*, db: Database, org: OrgRegistry, query: DecisionQuery) -> list[dict[str, Any]]:
    """Entries matching ``query``, newest first, each with the decision_ids of the entries correcting it."""
    events = await store.decision_events(db, since=query.since, until=query.until)
    return log_entries(events, org, query)


async def decision_log(*, db: Database, org: OrgRegistry, query: DecisionQuery) -> DecisionList:
    entries = await find_decisions(db=db, org=org, query=query)
    return DecisionList(items=[DecisionEntry.model_validate(entry) for entry in entries], count=len(entries))


async def decision_log_csv(*, db: Database, org: OrgRegistry, query: DecisionQuery) -> str:
    """The same entries as CSV that spreadsheets open as text, never as formulas."""
    return decisions_csv(await find_decisions(db=db, org=org, query=query))
