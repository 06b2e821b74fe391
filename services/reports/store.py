"""The reports' SQL: the ``reports`` table (draft → approved → published, then never changed) and the
alerts a report reads. The workflow itself is in :mod:`services.reports.service`.

Every transition is one conditional UPDATE (``WHERE status = <the state it leaves>``), so two chiefs
clicking at once cannot approve a stale draft or publish twice; the loser gets a clear conflict.
Published rows are also guarded by a database trigger (migration 0004), and at most one daily report
per day can be published and one unpublished report per kind and day can exist (partial unique indexes).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, or_, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from hypercare.storage.alert_models import Alert
from hypercare.storage.db import Database
from hypercare.storage.report_models import IMMUTABLE_MESSAGE, Report


class ReportError(Exception):
    """A request the workflow refuses; the message is meant for the user."""


class ReportNotFound(ReportError):
    pass


class ReportConflict(ReportError):
    """The report exists but its state does not allow the change (or another report is in the way)."""


async def latest_published(db: Database) -> Report | None:
    """The last meeting's report: the published report with the latest snapshot."""
    query = select(Report).where(Report.status == "published").order_by(Report.snapshot_at.desc(), Report.id.desc())
    async with db.sessions() as session:
        return (await session.execute(query.limit(1))).scalars().first()


async def get_report(db: Database, report_id: int) -> Report:
    async with db.sessions() as session:
        report = await session.get(Report, report_id)
    if report is None:
        raise ReportNotFound(f"no report {report_id}")
    return report


async def list_reports(
    db: Database, *, kind: str | None = None, status: str | None = None, limit: int = 100
) -> list[Report]:
    """Newest snapshot first."""
    query: Select[Report] = select(Report).order_by(Report.snapshot_at.desc(), Report.id.desc()).limit(limit)
    if kind is not None:
        query = query.where(Report.kind == kind)
    if status is not None:
        query = query.where(Report.status == status)
    async with db.sessions() as session:
        return list((await session.execute(query)).scalars())


async def daily_report(db: Database, day: date) -> Report | None:
    """The daily report of ``day``: the published one, else the draft or approved one, else None."""
    query = select(Report).where(Report.kind == "daily", Report.day == day)
    async with db.sessions() as session:
        found = list((await session.execute(query)).scalars())
    found.sort(key=lambda report: (report.status != "published", -report.id))
    return found[0] if found else None


async def blocking_report(db: Database, *, kind: str, day: date) -> Report | None:
    """A report that keeps a new one of ``kind`` for ``day`` from being created."""
    query = select(Report).where(Report.kind == kind, Report.day == day)
    async with db.sessions() as session:
        existing = list((await session.execute(query)).scalars())
    for report in existing:
        if report.status != "published" or report.kind == "daily":
            return report
    return None


async def insert_report(db: Database, report: Report) -> bool:
    """Store a new report; False when a unique index refused it (another report was created meanwhile)."""
    try:
        async with db.sessions.begin() as session:
            session.add(report)
    except IntegrityError:
        return False
    return True


async def transition(
    db: Database, report_id: int, *, from_statuses: tuple[str, ...], values: dict[str, Any], action: str
) -> Report:
    statement = (
        update(Report)
        .where(Report.id == report_id, Report.status.in_(from_statuses))
        .values(**values)
        .returning(Report.id)
    )
    try:
        async with db.sessions.begin() as session:
            changed = (await session.execute(statement)).scalar_one_or_none()
    except DBAPIError as error:
        if IMMUTABLE_MESSAGE in str(error.orig):  # the trigger: published while we looked
            raise ReportConflict(f"report {report_id} is published and can no longer be changed") from None
        if not isinstance(error, IntegrityError):
            raise
        current = await get_report(db, report_id)
        raise ReportConflict(
            f"the daily report for {current.day.isoformat()} is already published; published reports are final"
        ) from None
    current = await get_report(db, report_id)
    if changed is None:
        raise ReportConflict(_refusal(current, action))
    return current


def _refusal(report: Report, action: str) -> str:
    if report.status == "published":
        return f"report {report.id} is published and can no longer be changed"
    if action == "approve" and report.status == "approved":
        return f"report {report.id} is already approved (by {report.approved_by}); publish it"
    if action == "publish" and report.status == "draft":
        return f"report {report.id} is a draft; a chief must approve it before it is published"
    return f"report {report.id} is {report.status}; it cannot be {action}d"


async def alerts_unresolved_at(db: Database, at: datetime) -> list[Alert]:
    """Alerts raised before ``at`` and not resolved then, oldest first."""
    query = (
        select(Alert)
        .where(Alert.raised_at < at, or_(Alert.resolved_at.is_(None), Alert.resolved_at >= at))
        .order_by(Alert.raised_at, Alert.id)
    )
    async with db.sessions() as session:
        return list((await session.execute(query)).scalars())


async def count_alerts_raised(db: Database, *, since: datetime, until: datetime) -> int:
    """Alerts raised in ``[since, until)``."""
    raised = select(Alert.id).where(Alert.raised_at >= since, Alert.raised_at < until)
    async with db.sessions() as session:
        return len(list((await session.execute(raised)).scalars()))
