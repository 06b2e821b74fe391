"""The service desk's ticket flow: ``GET /api/v1/tickets`` and ``GET /api/v1/tickets/hotspots``.

Both read the stored ticket events (summaries were redacted at ingest). The flow lists events newest
first; each carries the ticket as currently known (category, priority, summary from its opening,
status from its latest update or resolution) and the known issues it is linked to.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import distinct, func, select

from hypercare.contract.events import TICKET_CATEGORIES
from hypercare.org.registry import OrgRegistry
from hypercare.storage.db import Database
from hypercare.storage.known_issue_models import KnownIssueTicket
from hypercare.storage.models import StoredEvent
from services.auth.dependencies import Reader
from services.console_api.sql import TICKET_TYPES, payload_int, payload_text, units_condition
from services.dependencies import DatabaseDep, OrgDep

router = APIRouter(prefix="/api/v1", tags=["console"])

CategoryParam = Annotated[str | None, Query(pattern="^(" + "|".join(TICKET_CATEGORIES) + ")$")]
_MAX_IDS_PER_QUERY = 5_000


def _tickets_with(field: str, value: Any) -> Any:
    """Ids of tickets whose opening or an update set ``field`` to ``value``."""
    column = payload_int(field) if isinstance(value, int) else payload_text(field)
    return select(payload_text("ticket_id")).where(
        StoredEvent.type.in_(("ticket.opened", "ticket.updated")), column == value
    )


def _placement(org: OrgRegistry, unit_id: str) -> dict[str, Any]:
    placement = org.place(unit_id)
    return {"unit_name": placement.name, "site_id": placement.site_id, "administration_id": placement.administration_id}


async def ticket_states(db: Database, ticket_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The current view of each ticket, folded from all its stored events in time order."""
    ids = list(dict.fromkeys(ticket_ids))
    states: dict[str, dict[str, Any]] = {}
    if not ids:
        return states
    ticket_id = payload_text("ticket_id")
    async with db.sessions() as session:
        for start in range(0, len(ids), _MAX_IDS_PER_QUERY):
            chunk = ids[start : start + _MAX_IDS_PER_QUERY]
            query = (
                select(StoredEvent.type, StoredEvent.occurred_at, StoredEvent.payload)
                .where(StoredEvent.type.in_(TICKET_TYPES), ticket_id.in_(chunk))
                .order_by(StoredEvent.occurred_at, StoredEvent.stored_at)
            )
            for type_, occurred_at, payload in await session.execute(query):
                state = states.setdefault(
                    str(payload.get("ticket_id")),
                    {
                        "status": "open",
                        "category": None,
                        "priority": None,
                        "channel": None,
                        "summary": None,
                        "patient_safety": False,
                        "opened_at": None,
                        "resolved_at": None,
                    },
                )
                if type_ == "ticket.opened":
                    for key in ("category", "priority", "channel", "summary", "patient_safety"):
                        if key in payload and (key in ("summary", "channel", "patient_safety") or state[key] is None):
                            state[key] = payload[key]
                    state["opened_at"] = state["opened_at"] or occurred_at.isoformat()
                elif type_ == "ticket.updated":
                    if state["status"] != "resolved":
                        state["status"] = payload.get("status", state["status"])
                    for key in ("category", "priority"):
                        if payload.get(key) is not None:
                            state[key] = payload[key]
                else:
                    state["status"] = "resolved"
                    state["resolved_at"] = occurred_at.isoformat()
    return states


async def linked_known_issues(db: Database, ticket_ids: Iterable[str]) -> dict[str, list[int]]:
    ids = list(dict.fromkeys(ticket_ids))
    links: dict[str, list[int]] = {}
    if not ids:
        return links
    async with db.sessions() as session:
        for start in range(0, len(ids), _MAX_IDS_PER_QUERY):
            query = (
                select(KnownIssueTicket.ticket_id, KnownIssueTicket.known_issue_id)
                .where(KnownIssueTicket.ticket_id.in_(ids[start : start + _MAX_IDS_PER_QUERY]))
                .order_by(KnownIssueTicket.linked_at)
            )
            for ticket_id, issue_id in await session.execute(query):
                links.setdefault(ticket_id, []).append(issue_id)
    return links


@router.get("/tickets", summary="Recent ticket events (opened, updated, resolved), newest first")
async def get_tickets(
    _: Reader,
    db: DatabaseDep,
    org: OrgDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    administration_id: str | None = None,
    site_id: str | None = None,
    unit_id: str | None = None,
    category: CategoryParam = None,
    priority: Annotated[int | None, Query(ge=1, le=4)] = None,
) -> dict[str, Any]:
    query = select(StoredEvent).where(StoredEvent.type.in_(TICKET_TYPES))
    where_units = units_condition(org, administration_id=administration_id, site_id=site_id, unit_id=unit_id)
    if where_units is not None:
        query = query.where(where_units)
    if category is not None:
        query = query.where(payload_text("ticket_id").in_(_tickets_with("category", category)))
    if priority is not None:
        query = query.where(payload_text("ticket_id").in_(_tickets_with("priority", priority)))
    query = query.order_by(
        StoredEvent.occurred_at.desc(), StoredEvent.stored_at.desc(), StoredEvent.event_id.desc()
    ).limit(limit)
    async with db.sessions() as session:
        events = list((await session.execute(query)).scalars())
    ticket_ids = [str(event.payload.get("ticket_id")) for event in events]
    states = await ticket_states(db, ticket_ids)
    links = await linked_known_issues(db, ticket_ids)
    items = [
        {
            "event_id": event.event_id,
            "type": event.type,
            "ticket_id": ticket_id,
            "unit_id": event.unit_id,
            **_placement(org, event.unit_id),
            "occurred_at": event.occurred_at.isoformat(),
            "source": event.source,
            "payload": event.payload,
            "ticket": states.get(ticket_id),
            "known_issue_ids": links.get(ticket_id, []),
        }
        for event, ticket_id in zip(events, ticket_ids, strict=False)
    ]
    return {"as_of": datetime.now(UTC).isoformat(), "items": items}


@router.get("/tickets/hotspots", summary="Units whose open tickets grew most in the last period")
async def get_hotspots(
    _: Reader,
    db: DatabaseDep,
    org: OrgDep,
    minutes: Annotated[int, Query(ge=5, le=1440)] = 60,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> dict[str, Any]:
    now = datetime.now(UTC)
    since = now - timedelta(minutes=minutes)
    ticket_id = payload_text("ticket_id")

    # Distinct ticket ids per type: a ticket opened twice under two event ids still counts once.
    query = (
        select(StoredEvent.unit_id, StoredEvent.type, func.count(distinct(ticket_id)).label("tickets"))
        .where(
            StoredEvent.type.in_(("ticket.opened", "ticket.resolved")),
            StoredEvent.occurred_at >= since,
            StoredEvent.occurred_at <= now + timedelta(minutes=5),
        )
        .group_by(StoredEvent.unit_id, StoredEvent.type)
    )
    async with db.sessions() as session:
        rows = (await session.execute(query)).all()
    per_unit: dict[str, dict[str, int]] = {}
    for unit_id, type_, n in rows:
        counts = per_unit.setdefault(unit_id, {"opened": 0, "resolved": 0})
        counts["opened" if type_ == "ticket.opened" else "resolved"] = int(n)
    spots = [
        {"unit_id": unit_id, **_placement(org, unit_id), **counts, "growth": counts["opened"] - counts["resolved"]}
        for unit_id, counts in per_unit.items()
    ]
    spots = [spot for spot in spots if spot["growth"] > 0]
    spots.sort(key=lambda spot: (-spot["growth"], -spot["opened"], spot["unit_id"]))
    return {"as_of": now.isoformat(), "minutes": minutes, "items": spots[:limit]}
