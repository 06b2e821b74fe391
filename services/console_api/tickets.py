"""The service desk's ticket flow: ``GET /api/v1/tickets`` and ``GET /api/v1/tickets/hotspots``.

Both read the stored ticket events (summaries were redacted at ingest). The flow lists events newest
first; each carries the ticket as currently known, folded by the one ticket fold every reader uses
(:mod:`hypercare.situation.facts.tickets`: the earliest opening, the latest priority and category,
resolved once resolved), and the known issues it is linked to.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import select

from hypercare.contract.events import TICKET_CATEGORIES, Event, stored_event
from hypercare.org.registry import OrgRegistry
from hypercare.situation.facts.tickets import Ticket, TicketKey, fold_tickets
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


async def ticket_states(db: Database, ticket_ids: Iterable[str]) -> dict[TicketKey, dict[str, Any]]:
    """The current view of each ticket, by ``(unit_id, ticket_id)``, from the shared ticket fold."""
    ids = list(dict.fromkeys(ticket_ids))
    events: list[Event] = []
    if ids:
        async with db.sessions() as session:
            for start in range(0, len(ids), _MAX_IDS_PER_QUERY):
                chunk = ids[start : start + _MAX_IDS_PER_QUERY]
                query = select(StoredEvent.payload).where(
                    StoredEvent.type.in_(TICKET_TYPES), payload_text("ticket_id").in_(chunk)
                )
                events.extend(stored_event(payload) for payload in (await session.execute(query)).scalars())
    return {key: _ticket_view(ticket) for key, ticket in fold_tickets(events).items()}


def _ticket_view(ticket: Ticket) -> dict[str, Any]:
    return {
        "status": ticket.status,
        "category": ticket.category,
        "priority": ticket.priority,
        "channel": ticket.channel,
        "summary": ticket.summary,
        "patient_safety": ticket.patient_safety,
        "opened_at": ticket.opened_at.isoformat() if ticket.opened_at else None,
        "resolved_at": ticket.resolved_at.isoformat() if ticket.resolved_at else None,
    }


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
            "ticket": states.get((event.unit_id, ticket_id)),
            "known_issue_ids": links.get(ticket_id, []),
        }
        for event, ticket_id in zip(events, ticket_ids, strict=False)
    ]
    return {"as_of": datetime.now(UTC).isoformat(), "items": items}


def _within(moment: datetime | None, since: datetime, until: datetime) -> bool:
    return moment is not None and since <= moment <= until


@router.get("/tickets/hotspots", summary="Units whose open tickets grew most in the last period")
async def get_hotspots(
    _: Reader,
    db: DatabaseDep,
    org: OrgDep,
    minutes: Annotated[int, Query(ge=5, le=1440)] = 60,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> dict[str, Any]:
    now = datetime.now(UTC)
    since, until = now - timedelta(minutes=minutes), now + timedelta(minutes=5)
    ticket_id = payload_text("ticket_id")

    # Tickets with an opening or resolve in the window, folded whole: a resend of an opening (or a second
    # resolve) inside the window does not count when the ticket's first one was before it.
    candidates = (
        select(payload_text("ticket_id"))
        .where(
            StoredEvent.type.in_(("ticket.opened", "ticket.resolved")),
            StoredEvent.occurred_at >= since,
            StoredEvent.occurred_at <= until,
        )
        .scalar_subquery()
    )
    query = select(StoredEvent.payload).where(StoredEvent.type.in_(TICKET_TYPES), ticket_id.in_(candidates))
    async with db.sessions() as session:
        events = [stored_event(payload) for payload in (await session.execute(query)).scalars()]
    per_unit: dict[str, dict[str, int]] = {}
    for ticket in fold_tickets(events).values():
        opened, resolved = _within(ticket.opened_at, since, until), _within(ticket.resolved_at, since, until)
        if opened or resolved:
            counts = per_unit.setdefault(ticket.unit_id, {"opened": 0, "resolved": 0})
            counts["opened"] += opened
            counts["resolved"] += resolved
    spots = [
        {"unit_id": unit_id, **_placement(org, unit_id), **counts, "growth": counts["opened"] - counts["resolved"]}
        for unit_id, counts in per_unit.items()
    ]
    spots = [spot for spot in spots if spot["growth"] > 0]
    spots.sort(key=lambda spot: (-spot["growth"], -spot["opened"], spot["unit_id"]))
    return {"as_of": now.isoformat(), "minutes": minutes, "items": spots[:limit]}
