"""Known issues (kända fel): listed for everyone, written by agents, chiefs and admins.

``GET /api/v1/known-issues``, ``POST /api/v1/known-issues``, ``PATCH /api/v1/known-issues/{id}``
and ``POST /api/v1/known-issues/{id}/tickets`` (link a ticket). Free text is redacted of identity
numbers before it is stored.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, status
from fastapi.responses import JSONResponse
from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from hypercare.privacy.redact import contains_identity_number, redact
from hypercare.storage.db import Database
from hypercare.storage.known_issue_models import KnownIssue, KnownIssueTicket
from hypercare.storage.models import utcnow
from services.auth.dependencies import KnownIssueEditor as Agent
from services.auth.dependencies import Reader
from services.dependencies import DatabaseDep

router = APIRouter(prefix="/api/v1/known-issues", tags=["known issues"])

Status = Literal["open", "workaround", "resolved"]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), AfterValidator(redact)]
Workaround = Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000), AfterValidator(redact)]


def _not_identity(value: str) -> str:
    if contains_identity_number(value):
        raise ValueError("a ticket id must not contain a personal identity number")
    return value


TicketId = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128), AfterValidator(_not_identity)
]


class NewKnownIssue(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: Title
    workaround: Workaround = ""
    status: Status = "open"


class KnownIssueChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: Title | None = None
    workaround: Workaround | None = None
    status: Status | None = None


class TicketLink(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ticket_id: TicketId


def _public(issue: KnownIssue, ticket_ids: list[str]) -> dict[str, Any]:
    return {
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


async def _tickets_of(db: Database, issue_ids: list[int]) -> dict[int, list[str]]:
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


async def _one(db: Database, issue_id: int) -> dict[str, Any]:
    async with db.sessions() as session:
        issue = await session.get(KnownIssue, issue_id)
    if issue is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no known issue {issue_id}")
    return _public(issue, (await _tickets_of(db, [issue_id]))[issue_id])


@router.get("", summary="Known issues, newest first, with their linked tickets")
async def list_known_issues(
    _: Reader,
    db: DatabaseDep,
    status_filter: Annotated[Status | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> dict[str, Any]:
    query = select(KnownIssue).order_by(KnownIssue.created_at.desc(), KnownIssue.id.desc()).limit(limit)
    if status_filter is not None:
        query = query.where(KnownIssue.status == status_filter)
    async with db.sessions() as session:
        issues = list((await session.execute(query)).scalars())
    tickets = await _tickets_of(db, [issue.id for issue in issues])
    return {"items": [_public(issue, tickets[issue.id]) for issue in issues]}


@router.post("", status_code=status.HTTP_201_CREATED, summary="Create a known issue (agent, chief, admin)")
async def create_known_issue(body: NewKnownIssue, principal: Agent, db: DatabaseDep) -> dict[str, Any]:
    now = utcnow()
    issue = KnownIssue(
        title=body.title,
        workaround=body.workaround,
        status=body.status,
        created_by=principal.name,
        created_at=now,
        updated_at=now,
    )
    async with db.sessions.begin() as session:
        session.add(issue)
    return _public(issue, [])


@router.get("/{issue_id}", summary="One known issue")
async def get_known_issue(issue_id: int, _: Reader, db: DatabaseDep) -> dict[str, Any]:
    return await _one(db, issue_id)


@router.patch("/{issue_id}", summary="Change a known issue's title, workaround or status (agent, chief, admin)")
async def change_known_issue(issue_id: int, body: KnownIssueChange, _: Agent, db: DatabaseDep) -> dict[str, Any]:
    async with db.sessions.begin() as session:
        issue = await session.get(KnownIssue, issue_id, with_for_update=True)
        if issue is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no known issue {issue_id}")
        for field in ("title", "workaround", "status"):
            value = getattr(body, field)
            if value is not None:
                setattr(issue, field, value)
        issue.updated_at = utcnow()
    return await _one(db, issue_id)


@router.post(
    "/{issue_id}/tickets",
    summary="Link a ticket to a known issue (agent, chief, admin); linking again changes nothing",
    responses={200: {"description": "Already linked"}, 201: {"description": "Linked"}},
)
async def link_ticket(issue_id: int, body: TicketLink, principal: Agent, db: DatabaseDep) -> JSONResponse:
    created = False
    try:
        async with db.sessions.begin() as session:
            if await session.get(KnownIssue, issue_id) is None:
                raise HTTPException(status.HTTP_404_NOT_FOUND, f"no known issue {issue_id}")
            if await session.get(KnownIssueTicket, (issue_id, body.ticket_id)) is None:
                session.add(
                    KnownIssueTicket(
                        known_issue_id=issue_id,
                        ticket_id=body.ticket_id,
                        linked_by=principal.name,
                        linked_at=utcnow(),
                    )
                )
                created = True
    except IntegrityError:
        created = False  # linked by a concurrent request in the meantime
    code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return JSONResponse(await _one(db, issue_id), status_code=code)
