"""The console API's routes: ``/api/v1/me``, ``/trends``, ``/tickets``, ``/tickets/hotspots``,
``/units/{unit_id}/events`` and ``/known-issues`` (read by everyone; written by agents, chiefs and admins)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status
from fastapi.responses import JSONResponse

from hypercare.contract.events import TICKET_CATEGORIES
from services.auth.dependencies import Anyone, KnownIssueEditor, Reader
from services.console_api import service
from services.console_api.schemas import (
    Hotspots,
    KnownIssueChange,
    KnownIssueList,
    KnownIssueOut,
    KnownIssueStatus,
    Me,
    NewKnownIssue,
    TicketFlow,
    TicketLink,
    Trends,
    UnitHistory,
)
from services.dependencies import DatabaseDep, OrgDep

router = APIRouter(prefix="/api/v1")

CategoryParam = Annotated[str | None, Query(pattern="^(" + "|".join(TICKET_CATEGORIES) + ")$")]
_LINKED: dict[int | str, dict[str, Any]] = {
    200: {"model": KnownIssueOut, "description": "Already linked"},
    201: {"model": KnownIssueOut, "description": "Linked"},
}


def _not_found(error: service.NotFound) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, str(error))


@router.get("/me", tags=["console"], summary="The holder of the token: name, role and pseudonymous floor-walker id")
async def get_me(principal: Anyone, org: OrgDep) -> Me:
    """Read on every console load: not audited (a sign-in is ``POST /api/v1/sign-in`` or the OIDC callback)."""
    return service.me(principal=principal, org=org)


@router.post(
    "/sign-in",
    tags=["console"],
    summary="Sign in with a token: the holder as GET /api/v1/me shows it, noted once in the audit log as sign_in",
)
async def sign_in(principal: Anyone, org: OrgDep) -> Me:
    """The console's token sign-in form posts here once; a refused token is audited as a failed sign-in."""
    return service.me(principal=principal, org=org)


@router.get(
    "/trends",
    tags=["console"],
    summary="Tickets opened/resolved, logins and login failures per bucket, per administration (and one unit)",
    responses={403: {"description": "unit_id lies outside the token's scope"}},
)
async def get_trends(
    principal: Reader,
    db: DatabaseDep,
    org: OrgDep,
    hours: Annotated[float, Query(gt=0, le=168, description="how far back")] = 6,
    bucket_minutes: Annotated[int, Query(ge=1, le=1440)] = 15,
    until: Annotated[datetime | None, Query(description="end of the period (RFC 3339); default now")] = None,
    unit_id: Annotated[str | None, Query(max_length=200, description="also this unit's own series")] = None,
) -> Trends:
    now = datetime.now(UTC)
    if until is not None and (until.tzinfo is None or until.utcoffset() is None):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "until: give a time zone offset")
    if until is not None and not 1970 <= until.year <= 9000:  # the buckets before it must stay in the calendar
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "until: a time between the years 1970 and 9000")
    try:
        return await service.trends(
            db=db,
            org=org,
            hours=hours,
            bucket_minutes=bucket_minutes,
            until=until,
            now=now,
            scope=principal.scope,
            unit_id=unit_id,
        )
    except service.TooManyBuckets as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(error)) from None
    except service.OutsideScope as error:
        raise HTTPException(status.HTTP_403_FORBIDDEN, str(error)) from None


@router.get("/tickets", tags=["console"], summary="Recent ticket events (opened, updated, resolved), newest first")
async def get_tickets(
    principal: Reader,
    db: DatabaseDep,
    org: OrgDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    administration_id: str | None = None,
    site_id: str | None = None,
    unit_id: str | None = None,
    category: CategoryParam = None,
    priority: Annotated[int | None, Query(ge=1, le=4)] = None,
) -> TicketFlow:
    return await service.ticket_flow(
        db=db,
        org=org,
        limit=limit,
        administration_id=administration_id,
        site_id=site_id,
        unit_id=unit_id,
        category=category,
        priority=priority,
        scope=principal.scope,
    )


@router.get("/tickets/hotspots", tags=["console"], summary="Units whose open tickets grew most in the last period")
async def get_hotspots(
    principal: Reader,
    db: DatabaseDep,
    org: OrgDep,
    minutes: Annotated[int, Query(ge=5, le=1440)] = 60,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> Hotspots:
    return await service.hotspots(
        db=db, org=org, minutes=minutes, limit=limit, now=datetime.now(UTC), scope=principal.scope
    )


@router.get(
    "/units/{unit_id}/events",
    tags=["console"],
    summary="A unit's most recent events, newest first (redacted; 403 outside the token's scope)",
)
async def get_unit_events(
    unit_id: str,
    principal: Reader,
    db: DatabaseDep,
    org: OrgDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> UnitHistory:
    try:
        return await service.unit_history(db=db, org=org, unit_id=unit_id, limit=limit, scope=principal.scope)
    except service.OutsideScope as error:
        raise HTTPException(status.HTTP_403_FORBIDDEN, str(error)) from None


@router.get("/known-issues", tags=["known issues"], summary="Known issues, newest first, with their linked tickets")
async def list_known_issues(
    _: Reader,
    db: DatabaseDep,
    status_filter: Annotated[KnownIssueStatus | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> KnownIssueList:
    return await service.list_known_issues(db=db, status=status_filter, limit=limit)


@router.post(
    "/known-issues",
    tags=["known issues"],
    status_code=status.HTTP_201_CREATED,
    summary="Create a known issue (agent, chief, admin)",
)
async def create_known_issue(body: NewKnownIssue, principal: KnownIssueEditor, db: DatabaseDep) -> KnownIssueOut:
    return await service.create_known_issue(db=db, new=body, by=principal.name)


@router.get("/known-issues/{issue_id}", tags=["known issues"], summary="One known issue")
async def get_known_issue(issue_id: int, _: Reader, db: DatabaseDep) -> KnownIssueOut:
    try:
        return await service.get_known_issue(db=db, issue_id=issue_id)
    except service.NotFound as error:
        raise _not_found(error) from None


@router.patch(
    "/known-issues/{issue_id}",
    tags=["known issues"],
    summary="Change a known issue's title, workaround or status (agent, chief, admin)",
)
async def change_known_issue(
    issue_id: int, body: KnownIssueChange, _: KnownIssueEditor, db: DatabaseDep
) -> KnownIssueOut:
    try:
        return await service.change_known_issue(db=db, issue_id=issue_id, change=body)
    except service.NotFound as error:
        raise _not_found(error) from None


@router.post(
    "/known-issues/{issue_id}/tickets",
    tags=["known issues"],
    summary="Link a ticket to a known issue (agent, chief, admin); linking again changes nothing",
    response_model=KnownIssueOut,
    responses=_LINKED,
)
async def link_ticket(issue_id: int, body: TicketLink, principal: KnownIssueEditor, db: DatabaseDep) -> JSONResponse:
    try:
        issue, created = await service.link_ticket(
            db=db, issue_id=issue_id, ticket_id=body.ticket_id, by=principal.name
        )
    except service.NotFound as error:
        raise _not_found(error) from None
    code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return JSONResponse(issue.model_dump(mode="json"), status_code=code)
