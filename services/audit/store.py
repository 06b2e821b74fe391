"""Append and read audit rows; nothing here changes or deletes one (the database refuses that too)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, insert, select

from hypercare.storage.audit_models import AuditEntry
from hypercare.storage.db import Database


@dataclass(frozen=True, slots=True)
class AuditRow:
    at: datetime
    principal: str | None
    role: str | None
    scope: str | None
    action: str
    object: str | None
    outcome: str
    status: int | None
    request_id: str
    client: str | None
    accepted: int | None = None
    rejected: int | None = None


@dataclass(frozen=True, slots=True)
class AuditQuery:
    since: datetime | None = None
    until: datetime | None = None
    principal: str | None = None
    action: str | None = None
    outcome: str | None = None
    limit: int = 200
    offset: int = 0


async def add_audit_rows(db: Database, rows: Sequence[AuditRow]) -> None:
    if not rows:
        return
    async with db.sessions() as session, session.begin():
        await session.execute(insert(AuditEntry), [asdict(row) for row in rows])


def _conditions(query: AuditQuery) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if query.since is not None:
        conditions.append(AuditEntry.at >= query.since)
    if query.until is not None:
        conditions.append(AuditEntry.at < query.until)
    if query.principal:
        conditions.append(AuditEntry.principal == query.principal)
    if query.action:
        conditions.append(AuditEntry.action == query.action)
    if query.outcome:
        conditions.append(AuditEntry.outcome == query.outcome)
    return conditions


async def list_audit_rows(db: Database, query: AuditQuery) -> tuple[int, list[AuditEntry]]:
    """The total matching ``query`` and one page of them, newest first."""
    conditions = _conditions(query)
    async with db.sessions() as session:
        total = (await session.execute(select(func.count()).select_from(AuditEntry).where(*conditions))).scalar_one()
        rows = (
            await session.execute(
                select(AuditEntry)
                .where(*conditions)
                .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
                .limit(query.limit)
                .offset(query.offset)
            )
        ).scalars()
        return int(total), list(rows)


def as_dict(entry: AuditEntry) -> dict[str, Any]:
    return {column.name: getattr(entry, column.name) for column in AuditEntry.__table__.columns}
