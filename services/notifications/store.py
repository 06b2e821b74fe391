"""The notification outbox in the database: queue in the alert's transaction, claim, record the outcome.

Claiming is one ``UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING``: on PostgreSQL two
dispatchers (``hypercare api --workers N``, replicas) skip each other's rows; on SQLite the statement runs
under the database's single writer lock. A claim moves ``next_attempt_at`` to the end of a lease and counts
the attempt, so a process that dies while delivering leaves the row due again after the lease (delivered at
least once; the delivery id lets a receiver drop a repeat) and a row that kills its deliverer still runs out
of attempts. Every outcome is written only while the claim is still this dispatcher's.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from hypercare.storage.db import Database
from hypercare.storage.notification_models import Notification

OutcomeKind = Literal["delivered", "retry", "failed"]


@dataclass(frozen=True)
class Queued:
    """One row to queue: an alert transition for one recipient."""

    alert_id: int
    transition: str
    level: str
    recipient: str
    channel: str
    document: dict[str, Any]


async def enqueue(session: AsyncSession, dialect: str, rows: Sequence[Queued], *, now: datetime) -> int:
    """Queue ``rows`` in the caller's transaction; a row queued before (same alert, transition, level and
    recipient) is kept as it is. Returns how many were new."""
    if not rows:
        return 0
    module: Any = postgresql if dialect == "postgresql" else sqlite if dialect == "sqlite" else None
    if module is None:
        raise NotImplementedError(f"unsupported database dialect {dialect!r}")
    values = [
        {
            "alert_id": row.alert_id,
            "transition": row.transition,
            "level": row.level,
            "recipient": row.recipient,
            "channel": row.channel,
            "delivery_id": str(uuid.uuid4()),
            "document": row.document,
            "state": "pending",
            "attempts": 0,
            "created_at": now,
            "next_attempt_at": now,
        }
        for row in rows
    ]
    statement = (
        module.insert(Notification)
        .values(values)
        .on_conflict_do_nothing(index_elements=["alert_id", "transition", "level", "recipient"])
        .returning(Notification.id)
    )
    return len((await session.execute(statement)).scalars().all())


async def claim(db: Database, *, now: datetime, lease: timedelta, limit: int, token: str) -> list[Notification]:
    """Take up to ``limit`` due rows for ``lease``; rows another dispatcher holds are skipped."""
    due = (
        select(Notification.id)
        .where(Notification.state == "pending", Notification.next_attempt_at <= now)
        .order_by(Notification.next_attempt_at, Notification.id)
        .limit(limit)
    )
    async with db.sessions() as session:  # a read first: an idle outbox costs no write (no lock on SQLite)
        if (await session.execute(due.limit(1))).first() is None:
            return []
    if db.dialect == "postgresql":
        due = due.with_for_update(skip_locked=True)
    statement = (
        update(Notification)
        .where(
            Notification.id.in_(due.scalar_subquery()),
            Notification.state == "pending",
            Notification.next_attempt_at <= now,
        )
        .values(
            claimed_by=token,
            next_attempt_at=now + lease,
            attempts=Notification.attempts + 1,
            last_attempt_at=now,
        )
        .returning(Notification)
        .execution_options(synchronize_session=False)
    )
    async with db.sessions.begin() as session:
        rows = list((await session.execute(statement)).scalars())
    return sorted(rows, key=lambda row: row.id)


async def finish(
    db: Database,
    row: Notification,
    *,
    token: str,
    kind: OutcomeKind,
    error: str | None,
    now: datetime,
    max_attempts: int,
    retry_in: timedelta,
) -> str | None:
    """Record an attempt's outcome; returns the row's new state (``pending`` when it will be retried), or None
    when the claim was no longer ours (the lease ran out and another dispatcher took the row)."""
    if kind == "delivered":
        values: dict[str, Any] = {"state": "delivered", "delivered_at": now, "last_error": None}
    elif kind == "failed" or row.attempts >= max_attempts:
        values = {"state": "dead", "last_error": (error or "")[:200]}
    else:
        values = {"state": "pending", "next_attempt_at": now + retry_in, "last_error": (error or "")[:200]}
    statement = (
        update(Notification)
        .where(Notification.id == row.id, Notification.claimed_by == token, Notification.state == "pending")
        .values(claimed_by=None, **values)
        .returning(Notification.state)
        .execution_options(synchronize_session=False)
    )
    async with db.sessions.begin() as session:
        return (await session.execute(statement)).scalar_one_or_none()


async def release(db: Database, *, token: str, now: datetime) -> int:
    """Hand back this dispatcher's claims (it is stopping): due at once for whoever runs next."""
    statement = (
        update(Notification)
        .where(Notification.claimed_by == token, Notification.state == "pending")
        .values(claimed_by=None, next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    async with db.sessions.begin() as session:
        result = await session.execute(statement)
    return int(getattr(result, "rowcount", 0) or 0)


async def pending(db: Database) -> int:
    async with db.sessions() as session:
        count = await session.scalar(
            select(func.count()).select_from(Notification).where(Notification.state == "pending")
        )
    return int(count or 0)


async def for_alert(db: Database, alert_id: int) -> list[Notification]:
    """An alert's notifications, in the order they were queued."""
    async with db.sessions() as session:
        query = select(Notification).where(Notification.alert_id == alert_id).order_by(Notification.id)
        return list((await session.execute(query)).scalars())
