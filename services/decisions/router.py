"""``GET /api/v1/decisions``: the decision log, searchable, as JSON or CSV. Decisions are recorded as events."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from services.auth.dependencies import Reader
from services.auth.scope import readable
from services.decisions import service
from services.decisions.entries import DecisionQuery
from services.decisions.schemas import DecisionList
from services.dependencies import DatabaseDep, OrgDep

router = APIRouter(prefix="/api/v1", tags=["decisions"])


@router.get(
    "/decisions",
    summary="The decision log: decisions and ED diversions, newest first",
    description="Record a decision by posting a `decision.recorded` event (chief or admin) to `/api/v1/events`.",
    response_model=DecisionList,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "JSON, or CSV"}},
)
async def get_decisions(
    principal: Reader,
    db: DatabaseDep,
    org: OrgDep,
    q: Annotated[str | None, Query(max_length=200, description="text in title, decision, rationale, ...")] = None,
    since: Annotated[datetime | None, Query(alias="from", description="occurred at or after (RFC 3339)")] = None,
    until: Annotated[datetime | None, Query(alias="to", description="occurred before (RFC 3339)")] = None,
    unit_id: Annotated[str | None, Query(max_length=128)] = None,
    owner: Annotated[str | None, Query(max_length=128)] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 200,
    format: Annotated[Literal["json", "csv"], Query()] = "json",  # noqa: A002 - the query parameter's name
) -> DecisionList | Response:
    query = DecisionQuery(
        text=q,
        since=since,
        until=until,
        unit_id=unit_id,
        owner=owner,
        limit=limit,
        readable=readable(org, principal.scope),
    )
    if format == "csv":
        return Response(
            await service.decision_log_csv(db=db, org=org, query=query),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="beslutslogg.csv"'},
        )
    return await service.decision_log(db=db, org=org, query=query)
