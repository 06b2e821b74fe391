"""``/api/v1/reports``: the daily situation report, read by everyone, made and released by chiefs and admins.

A scoped reader gets the region's totals and its scope's rows only (:func:`services.reports.scope.cut_content`);
making and releasing a report is the region's (a scoped chief is refused)."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, status
from fastapi.responses import HTMLResponse, JSONResponse, Response

from hypercare.situation.key_figures import key_figures
from hypercare.storage.report_models import Report
from services.auth.dependencies import ReportMaker, ReportReader
from services.dependencies import DatabaseDep, HubDep, LiveHubDep, OrgDep, ReportContextDep
from services.gateway.hub import SituationHub
from services.reports import service, store
from services.reports.period import ReportKind
from services.reports.render import html_policy, render_html, render_markdown, render_pdf
from services.reports.schemas import RefreshIn, ReportChanges, ReportDocument, ReportIn, ReportList, ReportState
from services.reports.scope import cut_content

router = APIRouter(prefix="/api/v1", tags=["reports"])

ReportFormat = Literal["json", "html", "pdf", "md"]
FormatQuery = Annotated[ReportFormat, Query(description="json (metadata and content), html, pdf or md (Markdown)")]
# One report in any format: JSON by default (the response model), or a rendered document.
FORMATS: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The report as JSON, HTML, PDF or Markdown (`format`); `X-Report-Status` tells which version",
        "content": {
            "text/html": {"schema": {"type": "string"}},
            "application/pdf": {"schema": {"type": "string", "format": "binary"}},
            "text/markdown": {"schema": {"type": "string"}},
        },
    }
}


def _error(error: store.ReportError) -> HTTPException:
    if isinstance(error, store.ReportNotFound):
        return HTTPException(status.HTTP_404_NOT_FOUND, str(error))
    if isinstance(error, store.ReportConflict):
        return HTTPException(status.HTTP_409_CONFLICT, str(error))
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(error))


def _filename(meta: dict[str, Any], extension: str) -> str:
    stem = f"lagesbild-{meta['day']}" if meta["kind"] == "daily" else f"lagesbild-sedan-forra-motet-{meta['day']}"
    return f"{stem}.{extension}"


async def respond(report: Report | service.Preview, fmt: ReportFormat, content: dict[str, Any]) -> Response:
    """The report in the asked format (``content``: the reader's cut of it), with its status and snapshot time in
    headers too."""
    meta = service.public(report)
    headers = {
        "X-Report-Status": meta["status"],
        "X-Report-Snapshot-At": meta["snapshot_at"],
        "Cache-Control": "no-store",
    }
    if meta["id"] is not None:
        headers["X-Report-Id"] = str(meta["id"])
    if fmt == "html":
        html = render_html(meta, content)
        # Its own policy, kept by the security-headers middleware: the inline <style> by its hash, nothing else.
        headers["Content-Security-Policy"] = html_policy(html)
        return HTMLResponse(html, headers=headers)
    if fmt == "md":
        headers["Content-Disposition"] = f'inline; filename="{_filename(meta, "md")}"'
        return Response(render_markdown(meta, content), media_type="text/markdown; charset=utf-8", headers=headers)
    if fmt == "pdf":
        headers["Content-Disposition"] = f'attachment; filename="{_filename(meta, "pdf")}"'
        pdf = await asyncio.to_thread(render_pdf, meta, content)
        return Response(pdf, media_type="application/pdf", headers=headers)
    return JSONResponse(service.document(report, content).model_dump(mode="json"), headers=headers)


@router.get("/reports", summary="Stored reports (drafts, approved and published), newest snapshot first")
async def list_reports(
    _: ReportReader,
    db: DatabaseDep,
    kind: Annotated[ReportKind | None, Query()] = None,
    state: Annotated[Literal["draft", "approved", "published"] | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> ReportList:
    return await service.list_reports(db=db, kind=kind, status=state, limit=limit)


@router.get(
    "/reports/daily",
    summary="The daily situation report of a date: published, else the draft or approved one, else a preview",
    description="A preview is computed on request from the stored events and not saved (`X-Report-Status: preview`).",
    response_model=ReportDocument,
    responses=FORMATS,
)
async def get_daily_report(
    principal: ReportReader,
    org: OrgDep,
    db: DatabaseDep,
    context: ReportContextDep,
    day: Annotated[date | None, Query(alias="date", description="local date (YYYY-MM-DD); default today")] = None,
    format: FormatQuery = "json",  # noqa: A002 - the query parameter's name
) -> Response:
    try:
        report = await service.daily_report(db=db, context=context, day=day, now=datetime.now(UTC))
    except store.ReportError as error:
        raise _error(error) from None
    return await respond(report, format, cut_content(org, principal.scope, report.content))


def live_figures(hub: SituationHub | None) -> service.LiveFigures | None:
    """The live picture's key figures now (None in an app running without the live picture)."""
    if hub is None:
        return None
    situation = hub.situation()
    return service.LiveFigures(at=situation["as_of"], values=key_figures(situation["region"]))


@router.get(
    "/reports/changes",
    summary="The region's key figures now against the last published report's (the console's header strip)",
)
async def get_changes(principal: ReportReader, db: DatabaseDep, hub: HubDep) -> ReportChanges:
    """Region totals, as every reader's situation carries them (a scoped reader included)."""
    situation = hub.situation()
    live = service.LiveFigures(at=situation["as_of"], values=key_figures(situation["region"]))
    return ReportChanges.model_validate(await service.changes_since_published(db=db, live=live))


@router.get("/reports/{report_id}", summary="One stored report", response_model=ReportDocument, responses=FORMATS)
async def get_report(
    report_id: int,
    principal: ReportReader,
    org: OrgDep,
    db: DatabaseDep,
    format: FormatQuery = "json",  # noqa: A002 - the query parameter's name
) -> Response:
    try:
        report = await service.get_report(db=db, report_id=report_id)
    except store.ReportError as error:
        raise _error(error) from None
    return await respond(report, format, cut_content(org, principal.scope, report.content))


@router.post("/reports", status_code=status.HTTP_201_CREATED, summary="Create a draft report from a fresh snapshot")
async def create_report(
    body: ReportIn, principal: ReportMaker, db: DatabaseDep, context: ReportContextDep, hub: LiveHubDep
) -> ReportDocument:
    try:
        report = await service.create_report(
            db=db,
            context=context,
            kind=body.kind,
            day=body.day,
            as_of=datetime.now(UTC),
            by=principal.name,
            note=body.note,
            live=live_figures(hub),
        )
    except store.ReportError as error:
        raise _error(error) from None
    return service.document(report)


@router.post(
    "/reports/{report_id}/refresh", summary="Take a new snapshot for a draft (an approved report returns to draft)"
)
async def refresh_report(
    report_id: int,
    principal: ReportMaker,
    db: DatabaseDep,
    context: ReportContextDep,
    hub: LiveHubDep,
    body: RefreshIn | None = None,
) -> ReportDocument:
    try:
        report = await service.refresh_report(
            db=db,
            context=context,
            report_id=report_id,
            as_of=datetime.now(UTC),
            note=body.note if body else None,
            live=live_figures(hub),
        )
    except store.ReportError as error:
        raise _error(error) from None
    return service.document(report)


@router.post("/reports/{report_id}/approve", summary="Approve a draft (chief or admin)")
async def approve_report(report_id: int, principal: ReportMaker, db: DatabaseDep) -> ReportState:
    try:
        report = await service.approve_report(db=db, report_id=report_id, by=principal.name, at=datetime.now(UTC))
    except store.ReportError as error:
        raise _error(error) from None
    return service.state(report)


@router.post("/reports/{report_id}/publish", summary="Publish an approved report; it never changes afterwards")
async def publish_report(report_id: int, principal: ReportMaker, db: DatabaseDep) -> ReportState:
    try:
        report = await service.publish_report(db=db, report_id=report_id, by=principal.name, at=datetime.now(UTC))
    except store.ReportError as error:
        raise _error(error) from None
    return service.state(report)
