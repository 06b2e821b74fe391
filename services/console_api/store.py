"""The console API's SQL: the ticket flow and hot spots, a unit's history, trend counts, known issues.

(The fold of a ticket's events into its current state, with its query, is ``tickets.ticket_states``.)
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement

from hypercare.contract.events import Event, stored_event
from hypercare.storage.db import Database
from hypercare.storage.known_issue_models import KnownIssue, KnownIssueTicket
from hypercare.storage.models import StoredEvent, utcnow
from services.console_api.sql import TICKET_TYPES, count_where, epoch_seconds, payload_int, payload_text
from services.console_api.trends import SERIES

_MAX_IDS_PER_QUERY = 5_000


def _tickets_with(field: str, value: Any) -> Any:
    """Ids of tickets whose opening or an update set ``field`` to ``value``."""
    column = payload_int(field) if isinstance(value, int) else payload_text(field)
    return select(payload_text("ticket_id")).where(
        StoredEvent.type.in_(("ticket.opened", "ticket.updated")), column == value
    )


async def ticket_events(
    db: Database,
    *,
    where_units: ColumnElement[bool] | None,
    category: str | None,
    priority: int | None,
    limit: int,
) -> list[StoredEvent]:
    """Ticket events newest first, of tickets that ever had ``category``/``priority`` when given."""
    query = select(StoredEvent).where(StoredEvent.type.in_(TICKET_TYPES))
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
        return list((await session.execute(query)).scalars())


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


async def ticket_history(db: Database, ticket_ids: Iterable[str]) -> list[Event]:
    """Every stored event of these tickets, read back through the contract models."""
    ids = list(dict.fromkeys(ticket_ids))
    events: list[Event] = []
    async with db.sessions() as session:
        for start in range(0, len(ids), _MAX_IDS_PER_QUERY):
            query = select(StoredEvent.payload).where(
                StoredEvent.type.in_(TICKET_TYPES),
                payload_text("ticket_id").in_(ids[start : start + _MAX_IDS_PER_QUERY]),
            )
            events.extend(stored_event(payload) for payload in (await session.execute(query)).scalars())
    return events


async def tickets_touching(db: Database, *, since: datetime, until: datetime) -> list[Event]:
    """The whole history of every ticket opened or resolved in ``[since, until]``, for the ticket fold:
    a resend of an opening (or a second resolve) inside the window must not count when the ticket's first
    one was before it."""
    candidates = (
        select(payload_text("ticket_id"))
        .where(
            StoredEvent.type.in_(("ticket.opened", "ticket.resolved")),
            StoredEvent.occurred_at >= since,
            StoredEvent.occurred_at <= until,
        )
        .scalar_subquery()
    )
    query = select(StoredEvent.payload).where(
        StoredEvent.type.in_(TICKET_TYPES), payload_text("ticket_id").in_(candidates)
    )
    async with db.sessions() as session:
        return [stored_event(payload) for payload in (await session.execute(query)).scalars()]


async def unit_events(db: Database, *, unit_id: str, limit: int) -> list[StoredEvent]:
    """A unit's most recent stored events, newest first."""
    query = (
        select(StoredEvent)
        .where(StoredEvent.unit_id == unit_id)
        .order_by(StoredEvent.occurred_at.desc(), StoredEvent.stored_at.desc(), StoredEvent.event_id.desc())
        .limit(limit)
    )
    async with db.sessions() as session:
        return list((await session.execute(query)).scalars())


async def count_by_unit_and_bucket(
    db: Database, *, start: datetime, end: datetime, bucket_seconds: int, origin: int = 0
) -> list[tuple[str, int, dict[str, int]]]:
    """``(unit_id, bucket_start_epoch, {series: n})`` for every unit and bucket with events.

    Counted in SQL over the ``events`` table (each stored event once, so resends never count twice).
    Buckets are aligned to ``origin`` (epoch seconds at or before ``start``): whole multiples of the
    bucket length for the console, the period's start for a report.
    """
    since_origin = epoch_seconds(db.dialect) - origin
    bucket = (since_origin - since_origin % bucket_seconds + origin).label("bucket")
    is_login = StoredEvent.type == "access.login"

    query = (
        select(
            StoredEvent.unit_id,
            bucket,
            count_where(StoredEvent.type == "ticket.opened", "tickets_opened"),
            count_where(StoredEvent.type == "ticket.resolved", "tickets_resolved"),
            count_where(is_login, "logins"),
            count_where(and_(is_login, payload_text("outcome") == "failure"), "login_failures"),
        )
        .where(
            StoredEvent.type.in_(("ticket.opened", "ticket.resolved", "access.login")),
            StoredEvent.occurred_at >= start,
            StoredEvent.occurred_at < end,
        )
        .group_by(StoredEvent.unit_id, bucket)
    )
    async with db.sessions() as session:
        rows = (await session.execute(query)).all()
    return [(row.unit_id, int(row.bucket), {name: int(getattr(row, name)) for name in SERIES}) for row in rows]


async def known_issues(db: Database, *, status: str | None, limit: int) -> list[KnownIssue]:
    """Newest first."""
    query = select(KnownIssue).order_by(KnownIssue.created_at.desc(), KnownIssue.id.desc()).limit(limit)
    if status is not None:
        query = query.where(KnownIssue.status == status)
    async with db.sessions() as session:
        return list((await session.execute(query)).scalars())


async def known_issue(db: Database, issue_id: int) -> KnownIssue | None:
    async with db.sessions() as session:
        return await session.get(KnownIssue, issue_id)


async def tickets_of(db: Database, issue_ids: list[int]) -> dict[int, list[str]]:
    """The ticket ids linked to each known issue, in the order they were linked."""
    tickets: dict[int, list[str]] = {issue_id: [] for issue_id in issue_ids}
    if not issue_ids:
        return tickets
    query = (
        select(KnownIssueTicket.known_issue_id, KnownIssueTicket.ticket_id)
        .where(KnownIssueTicket.known_issue_id.in_(issue_ids))
        .order_by(KnownIssueTicket.linked_at, KnownIssueTicket.ticket_id)
    )
    async with db.sessions() as session:
        for issue_id, ticket_id in await session.execute(query):
            tickets[issue_id].append(ticket_id)
    return tickets


async def insert_known_issue(db: Database, issue: KnownIssue) -> None:
    async with db.sessions.begin() as session:
        session.add(issue)


async def change_known_issue(db: Database, issue_id: int, changes: dict[str, Any]) -> bool:
    """Apply ``changes`` (field → new value) under a row lock; False when there is no such issue."""
    async with db.sessions.begin() as session:
        issue = await session.get(KnownIssue, issue_id, with_for_update=True)
        if issue is None:
            return False
        for field, value in changes.items():
            setattr(issue, field, value)
        issue.updated_at = utcnow()
    return True


async def link_ticket(db: Database, issue_id: int, *, ticket_id: str, by: str) -> bool | None:
    """Link a ticket once: True when linked now, False when it already was, None when there is no such issue."""
    created = False
    try:
        async with db.sessions.begin() as session:
            if await session.get(KnownIssue, issue_id) is None:
                return None
            if await session.get(KnownIssueTicket, (issue_id, ticket_id)) is None:
                session.add(
                    KnownIssueTicket(known_issue_id=issue_id, ticket_id=ticket_id, linked_by=by, linked_at=utcnow())
                )
                created = True
    except IntegrityError:
        created = False  # linked by a concurrent request in the meantime
    return created
