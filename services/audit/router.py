"""``GET /api/v1/audit`` (admins): the audit log, newest first, as JSON or CSV; ``POST /api/v1/sign-out``."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from services.audit.schemas import AuditEntryOut, AuditPage, Outcome, SignedOut
from services.audit.service import audit_csv, sink_of
from services.audit.store import AuditQuery, as_dict, list_audit_rows
from services.auth.dependencies import Admin, Anyone
from services.dependencies import DatabaseDep

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1", tags=["audit"])


@router.get(
    "/audit",
    response_model=AuditPage,
    summary="The audit log (admins): writes, sign-ins and sign-outs, refusals; newest first",
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "JSON, or CSV"}},
)
async def get_audit(
    request: Request,
    _: Admin,
    db: DatabaseDep,
    since: Annotated[datetime | None, Query(alias="from")] = None,
    until: Annotated[datetime | None, Query(alias="to")] = None,
    principal: Annotated[str | None, Query(max_length=128)] = None,
    action: Annotated[str | None, Query(max_length=160)] = None,
    outcome: Annotated[Outcome | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 200,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    format: Annotated[Literal["json", "csv"], Query()] = "json",  # noqa: A002 - the query parameter's name
) -> AuditPage | Response:
    sink = sink_of(request.scope)
    if sink is not None:
        await sink.flush()  # what is waiting in this process is listed too (best effort: keeps waiting if down)
    query = AuditQuery(
        since=since, until=until, principal=principal, action=action, outcome=outcome, limit=limit, offset=offset
    )
    total, rows = await list_audit_rows(db, query)
    if format == "csv":
        return Response(
            audit_csv(as_dict(row) for row in rows),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="granskningslogg.csv"'},
        )
    return AuditPage(total=total, items=[AuditEntryOut.model_validate(row) for row in rows])


@router.post(
    "/sign-out",
    response_model=SignedOut,
    summary="Note a sign-out in the audit log (the console forgets its token; tokens stay valid until revoked)",
)
async def sign_out(_: Anyone) -> SignedOut:
    return SignedOut()
