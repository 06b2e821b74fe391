"""``GET /api/v1/readiness``: each unit's readiness before its go-live, rolled up, with each wave's gate."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status

from services.auth.dependencies import Reader
from services.auth.scope import refusal as scope_refusal
from services.dependencies import DatabaseDep, OrgDep, ReadinessDep
from services.readiness import service
from services.readiness.schemas import ReadinessView

router = APIRouter(prefix="/api/v1", tags=["readiness"])


@router.get(
    "/readiness",
    summary="Readiness per unit (green/yellow/red with reasons), rolled up, and each wave's go/no-go gate",
    responses={
        403: {"description": "unit_id lies outside the token's scope"},
        404: {"description": "The wave or unit_id is not in the org registry"},
    },
)
async def get_readiness(
    principal: Reader,
    db: DatabaseDep,
    org: OrgDep,
    checklist: ReadinessDep,
    wave: Annotated[str | None, Query(max_length=64, description="only the units of this wave")] = None,
    unit_id: Annotated[
        str | None, Query(max_length=128, description="only this unit, or the units of this site or administration")
    ] = None,
    at: Annotated[datetime | None, Query(description="as the stored assessments stood then (RFC 3339)")] = None,
) -> ReadinessView:
    if at is not None and (at.tzinfo is None or at.utcoffset() is None):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "at: give a time zone offset")
    if unit_id is not None and unit_id in org.node_ids:
        refused = scope_refusal(org, principal.scope, unit_id, "read the readiness")
        if refused is not None:
            raise HTTPException(status.HTTP_403_FORBIDDEN, refused)
    try:
        return await service.readiness_at(
            db, org, checklist, at=at or datetime.now(UTC), wave=wave, node=unit_id, scope=principal.scope
        )
    except service.UnknownNode as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(error)) from None
