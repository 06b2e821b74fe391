"""What the console reads and writes besides the situation: the token holder, trends, the ticket flow and hot
spots, a unit's history, and known issues (free text redacted by the schemas before it gets here)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import false

from hypercare.org.registry import UNMAPPED_ID, UNMAPPED_NAME, OrgRegistry
from hypercare.situation.facts.tickets import fold_tickets
from hypercare.storage.db import Database
from hypercare.storage.known_issue_models import KnownIssue
from hypercare.storage.models import StoredEvent, utcnow
from services.auth.identity import walker_id_for
from services.auth.scope import readable, readable_units, subtree
from services.auth.scope import refusal as scope_refusal
from services.auth.tokens import Principal
from services.console_api import store
from services.console_api.schemas import (
    Hotspots,
    KnownIssueChange,
    KnownIssueList,
    KnownIssueOut,
    Me,
    NewKnownIssue,
    TicketFlow,
    Trends,
    UnitHistory,
)
from services.console_api.sql import units_condition
from services.console_api.tickets import ticket_states
from services.console_api.trends import MAX_BUCKETS, bucket_starts, first_go_live, roll_up


class NotFound(LookupError):
    """No such known issue."""


class TooManyBuckets(ValueError):
    """A trend request that would need more buckets than one answer carries."""


class OutsideScope(PermissionError):
    """A read of a unit outside the principal's scope (the message is the reason)."""


def me(*, principal: Principal, org: OrgRegistry) -> Me:
    """Who the console signed in as, with the scope that decides what it reads (the console hides the report,
    which needs the whole region, from a scoped principal)."""
    return Me(
        name=principal.name,
        role=principal.role.value,
        walker_id=walker_id_for(principal.name),
        scope=principal.scope,
        whole_region=subtree(org, principal.scope) is None,
    )


async def trends(
    *,
    db: Database,
    org: OrgRegistry,
    hours: float,
    bucket_minutes: int,
    until: datetime | None,
    now: datetime,
    scope: str | None = None,
    unit_id: str | None = None,
) -> Trends:
    """Counts per bucket up to ``until`` (default now), per administration (unknown units: unmapped) and region,
    and ``unit_id``'s own series when asked for; each series with its first go-live.

    A scoped reader gets the region's totals and its own administration's series only (as in the situation); a
    unit outside its scope is :class:`OutsideScope`.
    """
    if unit_id is not None:
        refused = scope_refusal(org, scope, unit_id, "read the unit's trend")
        if refused is not None:
            raise OutsideScope(refused)
    end = until.astimezone(UTC) if until is not None else now
    if math.ceil(hours * 60 / bucket_minutes) > MAX_BUCKETS:
        raise TooManyBuckets(f"more than {MAX_BUCKETS} buckets; use longer buckets")
    size = bucket_minutes * 60
    starts = bucket_starts(end, hours=hours, bucket_minutes=bucket_minutes)
    rows = await store.count_by_unit_and_bucket(
        db, start=starts[0], end=starts[-1] + timedelta(seconds=size), bucket_seconds=size
    )
    region, by_admin, unit = roll_up(org, rows, starts, size, unit_id)
    names = {admin.id: admin.name for admin in org.administrations}
    tree = subtree(org, scope)
    if tree is not None:
        by_admin = {admin_id: series for admin_id, series in by_admin.items() if admin_id == tree.administration_id}
    admin_units: dict[str, list[str]] = {}
    for placement in org.placements.values():
        admin_units.setdefault(placement.administration_id, []).append(placement.unit_id)
    administrations = [
        {
            "administration_id": admin_id,
            "name": names.get(admin_id, UNMAPPED_NAME),
            "go_live_at": first_go_live(org, admin_units.get(admin_id, ())),
            **series,
        }
        for admin_id, series in by_admin.items()
        if admin_id in names or admin_id == UNMAPPED_ID
    ]
    unit_trend = None
    if unit_id is not None and unit is not None:
        unit_trend = {
            "unit_id": unit_id,
            "name": org.place(unit_id).name,
            "go_live_at": first_go_live(org, (unit_id,)),
            **unit,
        }
    return Trends.model_validate(
        {
            "as_of": now.isoformat(),
            "from": starts[0].isoformat(),
            "to": end.isoformat(),
            "bucket_minutes": bucket_minutes,
            "buckets": [start.isoformat() for start in starts],
            "region": {
                "region_id": org.region.id,
                "name": org.region.name,
                "go_live_at": first_go_live(org, org.placements),
                **region,
            },
            "administrations": administrations,
            "unit": unit_trend,
        }
    )


def _placement(org: OrgRegistry, unit_id: str) -> dict[str, Any]:
    placement = org.place(unit_id)
    return {"unit_name": placement.name, "site_id": placement.site_id, "administration_id": placement.administration_id}


async def ticket_flow(
    *,
    db: Database,
    org: OrgRegistry,
    limit: int,
    administration_id: str | None,
    site_id: str | None,
    unit_id: str | None,
    category: str | None,
    priority: int | None,
    scope: str | None = None,
) -> TicketFlow:
    """Ticket events newest first, each with the ticket as currently known and its linked known issues; a scoped
    reader's of its subtree's units only (the limit counts those)."""
    where_units = units_condition(org, administration_id=administration_id, site_id=site_id, unit_id=unit_id)
    allowed = readable_units(org, scope)
    if allowed is not None:
        inside = StoredEvent.unit_id.in_(allowed) if allowed else false()
        where_units = inside if where_units is None else where_units & inside
    events = await store.ticket_events(db, where_units=where_units, category=category, priority=priority, limit=limit)
    ticket_ids = [str(event.payload.get("ticket_id")) for event in events]
    states = await ticket_states(db, ticket_ids)
    links = await store.linked_known_issues(db, ticket_ids)
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
    return TicketFlow.model_validate({"as_of": datetime.now(UTC).isoformat(), "items": items})


def _within(moment: datetime | None, since: datetime, until: datetime) -> bool:
    return moment is not None and since <= moment <= until


async def hotspots(
    *, db: Database, org: OrgRegistry, minutes: int, limit: int, now: datetime, scope: str | None = None
) -> Hotspots:
    """Units whose open tickets grew most in the last ``minutes`` (opened − resolved), largest first; a scoped
    reader's units only."""
    since, until = now - timedelta(minutes=minutes), now + timedelta(minutes=5)
    nodes = readable(org, scope)
    per_unit: dict[str, dict[str, int]] = {}
    for ticket in fold_tickets(await store.tickets_touching(db, since=since, until=until)).values():
        if nodes is not None and ticket.unit_id not in nodes:
            continue
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
    return Hotspots.model_validate({"as_of": now.isoformat(), "minutes": minutes, "items": spots[:limit]})


async def unit_history(
    *, db: Database, org: OrgRegistry, unit_id: str, limit: int, scope: str | None = None
) -> UnitHistory:
    """A unit's recent events; :class:`OutsideScope` for a unit outside ``scope`` (as ``/units/{id}``)."""
    refused = scope_refusal(org, scope, unit_id, "read the unit")
    if refused is not None:
        raise OutsideScope(refused)
    events = await store.unit_events(db, unit_id=unit_id, limit=limit)
    placement = org.place(unit_id)
    return UnitHistory.model_validate(
        {
            "unit_id": unit_id,
            "name": placement.name,
            "site_id": placement.site_id,
            "administration_id": placement.administration_id,
            "items": [
                {
                    "event_id": event.event_id,
                    "type": event.type,
                    "occurred_at": event.occurred_at.isoformat(),
                    "source": event.source,
                    "payload": event.payload,
                }
                for event in events
            ],
        }
    )


def _public(issue: KnownIssue, ticket_ids: list[str]) -> KnownIssueOut:
    return KnownIssueOut.model_validate(
        {
            "id": issue.id,
            "title": issue.title,
            "workaround": issue.workaround,
            "status": issue.status,
            "created_by": issue.created_by,
            "created_at": issue.created_at.isoformat(),
            "updated_at": issue.updated_at.isoformat(),
            "ticket_ids": ticket_ids,
            "ticket_count": len(ticket_ids),
        }
    )


async def list_known_issues(*, db: Database, status: str | None, limit: int) -> KnownIssueList:
    issues = await store.known_issues(db, status=status, limit=limit)
    tickets = await store.tickets_of(db, [issue.id for issue in issues])
    return KnownIssueList(items=[_public(issue, tickets[issue.id]) for issue in issues])


async def get_known_issue(*, db: Database, issue_id: int) -> KnownIssueOut:
    issue = await store.known_issue(db, issue_id)
    if issue is None:
        raise NotFound(f"no known issue {issue_id}")
    return _public(issue, (await store.tickets_of(db, [issue_id]))[issue_id])


async def create_known_issue(*, db: Database, new: NewKnownIssue, by: str) -> KnownIssueOut:
    now = utcnow()
    issue = KnownIssue(
        title=new.title, workaround=new.workaround, status=new.status, created_by=by, created_at=now, updated_at=now
    )
    await store.insert_known_issue(db, issue)
    return _public(issue, [])


async def change_known_issue(*, db: Database, issue_id: int, change: KnownIssueChange) -> KnownIssueOut:
    """Set the fields given (title, workaround, status); the others stay."""
    changes = {
        field: value for field in ("title", "workaround", "status") if (value := getattr(change, field)) is not None
    }
    if not await store.change_known_issue(db, issue_id, changes):
        raise NotFound(f"no known issue {issue_id}")
    return await get_known_issue(db=db, issue_id=issue_id)


async def link_ticket(*, db: Database, issue_id: int, ticket_id: str, by: str) -> tuple[KnownIssueOut, bool]:
    """``(the issue, whether the link is new)``; linking again changes nothing."""
    created = await store.link_ticket(db, issue_id, ticket_id=ticket_id, by=by)
    if created is None:
        raise NotFound(f"no known issue {issue_id}")
    return await get_known_issue(db=db, issue_id=issue_id), created
