"""Reports in the database and their workflow: draft → approved → published (then never changed).

Every transition is one conditional UPDATE (``WHERE status = <the state it leaves>``), so two chiefs
clicking at once cannot approve a stale draft or publish twice; the loser gets a clear conflict.
Published rows are also guarded by a database trigger (migration 0004), and at most one daily report
per day can be published and one unpublished report per kind and day can exist (partial unique indexes).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from hypercare.storage.db import Database
from hypercare.storage.report_models import IMMUTABLE_MESSAGE, Report
from services.reports.context import ReportContext
from services.reports.period import Period, PeriodError, ReportKind, daily_period, since_period
from services.reports.snapshot import build_snapshot


class ReportError(Exception):
    """A request the workflow refuses; the message is meant for the user."""


class ReportNotFound(ReportError):
    pass


class ReportConflict(ReportError):
    """The report exists but its state does not allow the change (or another report is in the way)."""


@dataclass(frozen=True)
class Preview:
    """A report computed on request and not stored (no draft exists for the day yet)."""

    kind: str
    day: date
    period_start: datetime
    period_end: datetime
    snapshot_at: datetime
    content: dict[str, Any]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def public(report: Report | Preview) -> dict[str, Any]:
    """The report's metadata as the API lists it (the content is served separately)."""
    meta: dict[str, Any] = {
        "id": None,
        "status": "preview",
        "created_by": None,
        "created_at": None,
        "approved_by": None,
        "approved_at": None,
        "published_by": None,
        "published_at": None,
    }
    if isinstance(report, Report):
        meta = {
            "id": report.id,
            "status": report.status,
            "created_by": report.created_by,
            "created_at": _iso(report.created_at),
            "approved_by": report.approved_by,
            "approved_at": _iso(report.approved_at),
            "published_by": report.published_by,
            "published_at": _iso(report.published_at),
        }
    return {
        **meta,
        "kind": report.kind,
        "day": report.day.isoformat(),
        "title": report.content.get("title", ""),
        "period_start": report.period_start.isoformat(),
        "period_end": report.period_end.isoformat(),
        "snapshot_at": report.snapshot_at.isoformat(),
    }


async def latest_published(db: Database) -> Report | None:
    """The last meeting's report: the published report with the latest snapshot."""
    query = select(Report).where(Report.status == "published").order_by(Report.snapshot_at.desc(), Report.id.desc())
    async with db.sessions() as session:
        return (await session.execute(query.limit(1))).scalars().first()


async def period_for(
    db: Database, context: ReportContext, *, kind: ReportKind, day: date | None, as_of: datetime
) -> Period:
    """The period of a new report: the given local day, or since the last published report's snapshot."""
    zone = context.zone
    try:
        if kind == "daily":
            if day is None:
                raise ReportError("a daily report needs a date (YYYY-MM-DD)")
            return daily_period(day, as_of=as_of, zone=zone)
        last = await latest_published(db)
        if last is None:
            raise ReportConflict(
                "no report has been published yet, so there is no last meeting to report from; "
                "publish a daily report first"
            )
        return since_period(last.snapshot_at, as_of=as_of, zone=zone)
    except PeriodError as error:
        raise ReportError(str(error)) from None


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


async def preview(db: Database, context: ReportContext, period: Period) -> Preview:
    content = await build_snapshot(db, context, period)
    return Preview(
        kind=period.kind,
        day=period.day,
        period_start=period.start,
        period_end=period.end,
        snapshot_at=period.as_of,
        content=content,
    )


async def _blocking(db: Database, period: Period) -> Report | None:
    """A report that keeps a new one for this period from being created."""
    query = select(Report).where(Report.kind == period.kind, Report.day == period.day)
    async with db.sessions() as session:
        existing = list((await session.execute(query)).scalars())
    for report in existing:
        if report.status != "published" or report.kind == "daily":
            return report
    return None


def _describe_block(report: Report) -> str:
    if report.status == "published":
        return (
            f"the daily report for {report.day.isoformat()} is already published (report {report.id}); "
            "published reports are final"
        )
    return (
        f"report {report.id} ({report.status}) already covers {report.day.isoformat()}; "
        "refresh, approve or publish it instead of creating another"
    )


async def create_report(
    db: Database,
    context: ReportContext,
    *,
    kind: ReportKind,
    day: date | None,
    as_of: datetime,
    by: str,
    note: str = "",
) -> Report:
    """A new draft with a fresh snapshot."""
    period = await period_for(db, context, kind=kind, day=day, as_of=as_of)
    blocking = await _blocking(db, period)
    if blocking is not None:
        raise ReportConflict(_describe_block(blocking))
    content = await build_snapshot(db, context, period, note=note)
    report = Report(
        kind=period.kind,
        day=period.day,
        period_start=period.start,
        period_end=period.end,
        snapshot_at=as_of,
        status="draft",
        content=content,
        created_by=by,
        created_at=as_of,
    )
    try:
        async with db.sessions.begin() as session:
            session.add(report)
    except IntegrityError:
        blocking = await _blocking(db, period)
        message = _describe_block(blocking) if blocking else "another report was created at the same moment"
        raise ReportConflict(message) from None
    return report


async def _transition(
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


async def refresh_report(
    db: Database, context: ReportContext, report_id: int, *, as_of: datetime, note: str | None = None
) -> Report:
    """A new snapshot of a draft or approved report; it becomes a draft again (the approval was of the old numbers)."""
    report = await get_report(db, report_id)
    if report.status == "published":
        raise ReportConflict(f"report {report_id} is published and can no longer be changed")
    try:
        if report.kind == "daily":
            period = daily_period(report.day, as_of=as_of, zone=context.zone)
        else:
            period = since_period(report.period_start, as_of=as_of, zone=context.zone)
    except PeriodError as error:
        raise ReportError(str(error)) from None
    keep = str(report.content.get("note", "")) if note is None else note
    content = await build_snapshot(db, context, period, note=keep)
    return await _transition(
        db,
        report_id,
        from_statuses=("draft", "approved"),
        action="refresh",
        values={
            "content": content,
            "snapshot_at": as_of,
            "period_end": period.end,
            "status": "draft",
            "approved_by": None,
            "approved_at": None,
        },
    )


async def approve_report(db: Database, report_id: int, *, by: str, at: datetime) -> Report:
    return await _transition(
        db,
        report_id,
        from_statuses=("draft",),
        action="approve",
        values={
            "status": "approved",
            "approved_by": by,
            "approved_at": at,
        },
    )


async def publish_report(db: Database, report_id: int, *, by: str, at: datetime) -> Report:
    return await _transition(
        db,
        report_id,
        from_statuses=("approved",),
        action="publish",
        values={
            "status": "published",
            "published_by": by,
            "published_at": at,
        },
    )
