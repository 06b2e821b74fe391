"""``GET /api/v1/stop-criteria`` (everyone who reads the picture) and go/no-go decisions (chiefs, admins).

A go/no-go decision is a ``decision.recorded`` event like any other, sent through the normal ingest
path; the gateway stamps it with the evaluation at that moment so the log shows what the group saw.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from aiokafka.errors import KafkaError
from fastapi import APIRouter, HTTPException, Query, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from hypercare.contract.events import RolloutDecision
from hypercare.topics import topics_for
from services.auth.dependencies import Decider, Reader
from services.dependencies import DatabaseDep, OrgDep, ProducerDep, SettingsDep, StopCriteriaDep
from services.ingest.body import RawItem
from services.ingest.service import describe, ingest_items
from services.stop_criteria.service import stop_criteria_at

router = APIRouter(prefix="/api/v1", tags=["stop criteria"])

TITLES = {
    "continue": "Införandet fortsätter",
    "pause": "Införandet pausas",
    "rollback": "Återgång till tidigare system",
}


@router.get("/stop-criteria", summary="The go/no-go criteria, met or not, with the numbers behind them")
async def get_stop_criteria(
    _: Reader,
    db: DatabaseDep,
    org: OrgDep,
    settings: SettingsDep,
    criteria: StopCriteriaDep,
    at: Annotated[datetime | None, Query(description="evaluate as the stored events stood then (RFC 3339)")] = None,
) -> dict[str, Any]:
    if at is not None and (at.tzinfo is None or at.utcoffset() is None):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "at: give a time zone offset")
    moment = at or datetime.now(UTC)
    return await stop_criteria_at(db, org=org, criteria=criteria, at=moment, zone=settings.zone)


class RolloutDecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rollout_decision: RolloutDecision
    decision: str = Field(default="", max_length=2000, description="what was decided; a standard text if empty")
    rationale: str = Field(default="", max_length=2000)
    mandate: str = Field(default="", max_length=200)
    owner: str = Field(default="", max_length=128)
    unit_id: str | None = Field(default=None, description="what it concerns; the region if empty")


@router.post(
    "/stop-criteria/decisions",
    summary="Record a continue/pause/roll-back decision, stamped with the stop criteria as they are now",
)
async def record_rollout_decision(
    body: RolloutDecisionIn,
    principal: Decider,
    db: DatabaseDep,
    org: OrgDep,
    settings: SettingsDep,
    producer: ProducerDep,
    criteria: StopCriteriaDep,
) -> JSONResponse:
    now = datetime.now(UTC)
    evaluation = await stop_criteria_at(db, org=org, criteria=criteria, at=now, zone=settings.zone)
    decision_id = f"gonogo-{uuid.uuid4().hex[:20]}"
    event = {
        "event_id": decision_id,
        "type": "decision.recorded",
        "occurred_at": now.isoformat(),
        "unit_id": body.unit_id or org.region.id,
        "source": "console",
        "decision_id": decision_id,
        "title": TITLES[body.rollout_decision],
        "decision": body.decision or TITLES[body.rollout_decision],
        "rationale": body.rationale,
        "mandate": body.mandate,
        "owner": body.owner,
        "decided_by": principal.name,
        "rollout_decision": body.rollout_decision,
        "stop_criteria": evaluation,
    }
    try:
        result = await ingest_items(
            items=[RawItem(index=0, text=json.dumps(event, ensure_ascii=False), data=event)],
            principal=principal,
            producer=producer,
            db=db,
            topics=topics_for(settings),
        )
    except KafkaError as error:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            f"the event broker did not acknowledge ({type(error).__name__}); the decision is not recorded, try again",
        ) from None
    if not result.accepted:
        return JSONResponse(describe(result), status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)
    return JSONResponse({**describe(result), "decision_id": decision_id, "stop_criteria": evaluation})
