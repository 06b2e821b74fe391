"""The report workflow: preview, create a draft from a fresh snapshot, refresh, approve, publish.

A published report never changes; the store's conditional updates (and a database trigger) make every
transition happen once, and refusals are :class:`store.ReportError` with a message meant for the user.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from hypercare.situation.key_figures import Value, changes
from hypercare.storage.db import Database
from hypercare.storage.report_models import Report
from services.reports import store
from services.reports.context import ReportContext
from services.reports.period import Period, PeriodError, ReportKind, daily_period, local_day, since_period
from services.reports.schemas import ReportDocument, ReportList, ReportMeta, ReportState
from services.reports.snapshot import build_snapshot
from services.reports.store import ReportConflict, ReportError


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


def document(report: Report | Preview, content: dict[str, Any] | None = None) -> ReportDocument:
    """Metadata and content (``content``: a scoped reader's cut of it), as ``?format=json`` and the workflow's
    answers show them."""
    return ReportDocument(
        report=ReportMeta.model_validate(public(report)), content=report.content if content is None else content
    )


def state(report: Report) -> ReportState:
    return ReportState(report=ReportMeta.model_validate(public(report)))


async def period_for(
    *, db: Database, context: ReportContext, kind: ReportKind, day: date | None, as_of: datetime
) -> Period:
    """The period of a new report: the given local day, or since the last published report's snapshot."""
    zone = context.zone
    try:
        if kind == "daily":
            if day is None:
                raise ReportError("a daily report needs a date (YYYY-MM-DD)")
            return daily_period(day, as_of=as_of, zone=zone)
        last = await store.latest_published(db)
        if last is None:
            raise ReportConflict(
                "no report has been published yet, so there is no last meeting to report from; "
                "publish a daily report first"
            )
        return since_period(last.snapshot_at, as_of=as_of, zone=zone)
    except PeriodError as error:
        raise ReportError(str(error)) from None


async def preview(*, db: Database, context: ReportContext, period: Period) -> Preview:
    content = await build_snapshot(db, context, period)
    return Preview(
        kind=period.kind,
        day=period.day,
        period_start=period.start,
        period_end=period.end,
        snapshot_at=period.as_of,
        content=content,
    )


async def daily_report(*, db: Database, context: ReportContext, day: date | None, now: datetime) -> Report | Preview:
    """The daily report of ``day`` (default today): published, else the draft or approved one, else a preview."""
    day = day or local_day(now, context.zone)
    report = await store.daily_report(db, day)
    if report is not None:
        return report
    period = await period_for(db=db, context=context, kind="daily", day=day, as_of=now)
    return await preview(db=db, context=context, period=period)


async def list_reports(*, db: Database, kind: ReportKind | None, status: str | None, limit: int) -> ReportList:
    reports = await store.list_reports(db, kind=kind, status=status, limit=limit)
    return ReportList(items=[ReportMeta.model_validate(public(report)) for report in reports], count=len(reports))


async def get_report(*, db: Database, report_id: int) -> Report:
    return await store.get_report(db, report_id)


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


@dataclass(frozen=True)
class LiveFigures:
    """The live picture's key figures (:mod:`hypercare.situation.key_figures`) and the moment they are of."""

    at: str
    values: dict[str, Value]


def with_live(content: dict[str, Any], live: LiveFigures | None) -> dict[str, Any]:
    """The content with the live key figures at its snapshot (absent when made without the live picture: the CLI)."""
    if live is None:
        return content
    return {**content, "key_figures": {"at": live.at, "values": dict(live.values)}}


async def changes_since_published(*, db: Database, live: LiveFigures) -> dict[str, Any]:
    """The key figures now against those stored with the last published report; ``reason`` says why there is
    nothing to compare (no report released yet, or one made without the live picture)."""
    report = await store.latest_published(db)
    if report is None:
        return {"report": None, "at": live.at, "report_at": None, "figures": [], "reason": "no_published_report"}
    stored = report.content.get("key_figures")
    meta = public(report)
    if not isinstance(stored, dict) or not isinstance(stored.get("values"), dict):
        return {"report": meta, "at": live.at, "report_at": None, "figures": [], "reason": "no_key_figures"}
    return {
        "report": meta,
        "at": live.at,
        "report_at": stored.get("at"),
        "figures": changes(stored["values"], live.values),
        "reason": None,
    }


async def create_report(
    *,
    db: Database,
    context: ReportContext,
    kind: ReportKind,
    day: date | None,
    as_of: datetime,
    by: str,
    note: str = "",
    live: LiveFigures | None = None,
) -> Report:
    """A new draft with a fresh snapshot; a daily report without a date is today's. ``live``: the live picture's
    key figures at the snapshot, kept in the content for the console's change since the report."""
    day = (day or local_day(as_of, context.zone)) if kind == "daily" else None
    period = await period_for(db=db, context=context, kind=kind, day=day, as_of=as_of)
    blocking = await store.blocking_report(db, kind=period.kind, day=period.day)
    if blocking is not None:
        raise ReportConflict(_describe_block(blocking))
    content = with_live(await build_snapshot(db, context, period, note=note), live)
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
    if not await store.insert_report(db, report):
        blocking = await store.blocking_report(db, kind=period.kind, day=period.day)
        message = _describe_block(blocking) if blocking else "another report was created at the same moment"
        raise ReportConflict(message)
    return report


async def refresh_report(
    *,
    db: Database,
    context: ReportContext,
    report_id: int,
    as_of: datetime,
    note: str | None = None,
    live: LiveFigures | None = None,
) -> Report:
    """A new snapshot of a draft or approved report; it becomes a draft again (the approval was of the old numbers)."""
    report = await store.get_report(db, report_id)
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
    content = with_live(await build_snapshot(db, context, period, note=keep), live)
    return await store.transition(
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


async def approve_report(*, db: Database, report_id: int, by: str, at: datetime) -> Report:
    return await store.transition(
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


async def publish_report(*, db: Database, report_id: int, by: str, at: datetime) -> Report:
    return await store.transition(
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
