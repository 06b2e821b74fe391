"""``GET /api/v1/alerts`` (viewer and up), ``POST .../{id}/acknowledge`` and ``.../{id}/assign`` (chief, admin).

Acknowledging stops escalation and is kept once: a second acknowledgement changes nothing and
answers with the alert as it is. Assignees are free text, redacted of identity numbers before they
are stored. A change is pushed to this gateway's WebSocket clients at once (other replicas within
a tick).
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints

from hypercare.observability import metrics
from hypercare.privacy.redact import redact
from hypercare.storage.alert_models import Alert
from hypercare.storage.models import utcnow
from services.alerts import store
from services.alerts.service import AlertService
from services.alerts.store import AlertConflict, StatusFilter
from services.auth.dependencies import AlertHandler, Reader
from services.dependencies import AlertServiceDep, DatabaseDep

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])

Assignee = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), AfterValidator(redact)
]


class Assignment(BaseModel):
    model_config = ConfigDict(extra="forbid")
    assigned_to: Assignee


async def _push(service: AlertService | None) -> None:
    if service is None:
        return
    try:
        await service.refresh()
    except Exception:  # the change is stored; clients get it on the next tick
        log.exception("could not push an alert change right away")


def _found(alert: Alert | None, alert_id: int) -> Alert:
    if alert is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no alert {alert_id}")
    return alert


@router.get("", summary="Alerts, newest first; status open, acknowledged, resolved or active (open or acknowledged)")
async def list_alerts(
    _: Reader,
    db: DatabaseDep,
    status_filter: Annotated[StatusFilter | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> dict[str, Any]:
    alerts = await store.list_alerts(db, status=status_filter, limit=limit)
    return {"items": [store.public(alert) for alert in alerts]}


@router.get("/{alert_id}", summary="One alert")
async def get_alert(alert_id: int, _: Reader, db: DatabaseDep) -> dict[str, Any]:
    return store.public(_found(await store.get_alert(db, alert_id), alert_id))


@router.post("/{alert_id}/acknowledge", summary="Acknowledge an alert (chief, admin); stops its escalation")
async def acknowledge_alert(
    alert_id: int, principal: AlertHandler, db: DatabaseDep, alerts: AlertServiceDep
) -> dict[str, Any]:
    try:
        result = await store.acknowledge(db, alert_id, by=principal.name, at=utcnow())
    except AlertConflict as conflict:
        raise HTTPException(status.HTTP_409_CONFLICT, str(conflict)) from None
    if result is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no alert {alert_id}")
    alert, changed = result
    if changed:
        metrics.ALERT_TRANSITIONS.labels(transition="acknowledge").inc()
        await _push(alerts)
    return store.public(alert)


@router.post("/{alert_id}/assign", summary="Assign an alert to someone (chief, admin)")
async def assign_alert(
    alert_id: int, body: Assignment, _: AlertHandler, db: DatabaseDep, alerts: AlertServiceDep
) -> dict[str, Any]:
    try:
        alert = _found(await store.assign(db, alert_id, to=body.assigned_to), alert_id)
    except AlertConflict as conflict:
        raise HTTPException(status.HTTP_409_CONFLICT, str(conflict)) from None
    await _push(alerts)
    return store.public(alert)
