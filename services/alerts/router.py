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
from services.alerts.schemas import AlertList, AlertOut, Assignment
from services.alerts.store import AlertConflict, StatusFilter
from services.auth.dependencies import AlertHandler, Reader
from services.dependencies import AlertServiceDep, DatabaseDep

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])


def _http(error: Exception) -> HTTPException:
    if isinstance(error, service.AlertNotFound):
        return HTTPException(status.HTTP_404_NOT_FOUND, str(error))
    return HTTPException(status.HTTP_409_CONFLICT, str(error))


@router.get("", summary="Alerts, newest first; status open, acknowledged, resolved or active (open or acknowledged)")
async def list_alerts(
    _: Reader,
    db: DatabaseDep,
    status_filter: Annotated[StatusFilter | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> AlertList:
    return await service.list_alerts(db=db, status=status_filter, limit=limit)


@router.get("/{alert_id}", summary="One alert")
async def get_alert(alert_id: int, _: Reader, db: DatabaseDep) -> AlertOut:
    try:
        return await service.get_alert(db=db, alert_id=alert_id)
    except service.AlertNotFound as error:
        raise _http(error) from None


@router.post("/{alert_id}/acknowledge", summary="Acknowledge an alert (chief, admin); stops its escalation")
async def acknowledge_alert(
    alert_id: int, principal: AlertHandler, db: DatabaseDep, runtime: AlertServiceDep
) -> AlertOut:
    try:
        return await service.acknowledge(db=db, alert_id=alert_id, by=principal.name, runtime=runtime)
    except (service.AlertNotFound, AlertConflict) as error:
        raise _http(error) from None


@router.post("/{alert_id}/assign", summary="Assign an alert to someone (chief, admin)")
async def assign_alert(
    alert_id: int, body: Assignment, _: AlertHandler, db: DatabaseDep, runtime: AlertServiceDep
) -> AlertOut:
    try:
        return await service.assign(db=db, alert_id=alert_id, to=body.assigned_to, runtime=runtime)
    except (service.AlertNotFound, AlertConflict) as error:
        raise _http(error) from None
