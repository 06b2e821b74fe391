"""``GET /api/v1/alerts`` (viewer and up), ``POST .../{id}/acknowledge`` and ``.../{id}/assign`` (chief, admin).

Acknowledging stops escalation and is kept once: a second acknowledgement changes nothing and
answers with the alert as it is. Assignees are free text, redacted of identity numbers before they
are stored. A change is pushed to this gateway's WebSocket clients at once (other replicas within
a tick).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status

from services.alerts import service
from services.alerts.schemas import AlertDetail, AlertList, AlertOut, Assignment
from services.alerts.store import AlertConflict, StatusFilter
from services.auth.dependencies import AlertHandler, Reader
from services.auth.scope import refusal as scope_refusal
from services.auth.tokens import Principal
from services.dependencies import AlertServiceDep, DatabaseDep, OrgDep

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])


def _http(error: Exception) -> HTTPException:
    if isinstance(error, service.AlertNotFound):
        return HTTPException(status.HTTP_404_NOT_FOUND, str(error))
    return HTTPException(status.HTTP_409_CONFLICT, str(error))


@router.get("", summary="Alerts, newest first; status open, acknowledged, resolved or active (open or acknowledged)")
async def list_alerts(
    principal: Reader,
    db: DatabaseDep,
    org: OrgDep,
    status_filter: Annotated[StatusFilter | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> AlertList:
    """A scoped token sees the alerts of its subtree and the region's (as on the WebSocket)."""
    return await service.list_alerts(db=db, status=status_filter, limit=limit, org=org, scope=principal.scope)


@router.get("/{alert_id}", summary="One alert with its notifications and their state (404 outside the token's scope)")
async def get_alert(alert_id: int, principal: Reader, db: DatabaseDep, org: OrgDep) -> AlertDetail:
    try:
        return await service.alert_detail(db=db, alert_id=alert_id, org=org, scope=principal.scope)
    except service.AlertNotFound as error:
        raise _http(error) from None


async def _in_scope(alert_id: int, principal: Principal, db: DatabaseDep, org: OrgDep, action: str) -> None:
    """403 when the alert's node lies outside the principal's scope (404 when there is no such alert)."""
    if principal.scope is None:
        return
    try:
        alert = await service.get_alert(db=db, alert_id=alert_id)
    except service.AlertNotFound as error:
        raise _http(error) from None
    refused = scope_refusal(org, principal.scope, alert.node_id, action)
    if refused is not None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, refused)


@router.post(
    "/{alert_id}/acknowledge",
    summary="Acknowledge an alert (chief, admin); stops its escalation",
    responses={403: {"description": "Not a chief or admin, or the alert lies outside the token's scope"}},
)
async def acknowledge_alert(
    alert_id: int, principal: AlertHandler, db: DatabaseDep, org: OrgDep, runtime: AlertServiceDep
) -> AlertOut:
    await _in_scope(alert_id, principal, db, org, "acknowledge alerts")
    try:
        return await service.acknowledge(db=db, alert_id=alert_id, by=principal.name, runtime=runtime)
    except (service.AlertNotFound, AlertConflict) as error:
        raise _http(error) from None


@router.post(
    "/{alert_id}/assign",
    summary="Assign an alert to someone (chief, admin)",
    responses={403: {"description": "Not a chief or admin, or the alert lies outside the token's scope"}},
)
async def assign_alert(
    alert_id: int, body: Assignment, principal: AlertHandler, db: DatabaseDep, org: OrgDep, runtime: AlertServiceDep
) -> AlertOut:
    await _in_scope(alert_id, principal, db, org, "assign alerts")
    try:
        return await service.assign(db=db, alert_id=alert_id, to=body.assigned_to, runtime=runtime)
    except (service.AlertNotFound, AlertConflict) as error:
        raise _http(error) from None
