"""Decisions stamped with what the group saw: go/no-go on the rollout (stop criteria), a wave's go/no-go
(readiness) and a wave's handover to support (exit criteria).

Each is a ``decision.recorded`` event like any other, built here the same way (server-stamped
``decided_by``, a letters-only id, the region as its unit unless told otherwise) and sent through the normal
ingest path, so it is checked, stamped and stored like every event. The caller adds its own choice field and
its stamp (the evaluation as it stood).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable
from datetime import datetime
from typing import Any, Protocol, TypeVar

from aiokafka.errors import KafkaError
from fastapi import HTTPException, status
from fastapi.responses import JSONResponse

from hypercare.contract.events import new_id
from hypercare.org.registry import OrgRegistry
from hypercare.settings import Settings
from hypercare.storage.db import Database
from hypercare.topics import topics_for
from services.auth.tokens import Principal
from services.ingest.body import RawItem
from services.ingest.producer import EventProducer
from services.ingest.schemas import IngestResponse
from services.ingest.service import IngestResult, describe, ingest_items

T = TypeVar("T")


class BrokerUnavailable(Exception):
    """The broker did not acknowledge the decision event; nothing was recorded."""


class DecisionRejected(Exception):
    """The ingest path refused the decision event; ``outcome`` says why."""

    def __init__(self, outcome: IngestResponse) -> None:
        super().__init__("the decision event was rejected")
        self.outcome = outcome


class DecisionWords(Protocol):
    """What the person gives with every stamped decision (the request bodies share these fields)."""

    decision: str
    rationale: str
    mandate: str
    owner: str


def decision_event(
    *,
    prefix: str,
    now: datetime,
    org: OrgRegistry,
    principal: Principal,
    title: str,
    words: DecisionWords,
    stamped: dict[str, Any],
    unit_id: str | None = None,
) -> tuple[str, dict[str, Any]]:
    """The decision's id and its ``decision.recorded`` event; ``stamped`` holds the choice and what it saw."""
    decision_id = new_id(prefix)
    return decision_id, {
        "event_id": decision_id,
        "type": "decision.recorded",
        "occurred_at": now.isoformat(),
        "unit_id": unit_id or org.region.id,
        "source": "console",
        "decision_id": decision_id,
        "title": title,
        "decision": words.decision or title,
        "rationale": words.rationale,
        "mandate": words.mandate,
        "owner": words.owner,
        "decided_by": principal.name,
        **stamped,
    }


async def send_decision(
    event: dict[str, Any],
    *,
    db: Database,
    org: OrgRegistry,
    settings: Settings,
    producer: EventProducer,
    principal: Principal,
) -> IngestResult:
    """Send a stamped decision through the normal ingest path; raises BrokerUnavailable, DecisionRejected."""
    try:
        result = await ingest_items(
            items=[RawItem(index=0, text=json.dumps(event, ensure_ascii=False), data=event)],
            principal=principal,
            producer=producer,
            db=db,
            topics=topics_for(settings),
            org=org,
            unknown_units=settings.unknown_units,
        )
    except KafkaError as error:
        raise BrokerUnavailable(
            f"the event broker did not acknowledge ({type(error).__name__}); the decision is not recorded, try again"
        ) from None
    if not result.accepted:
        raise DecisionRejected(IngestResponse.model_validate(describe(result)))
    return result


async def answered(recording: Awaitable[T]) -> T | JSONResponse:
    """A router's answer to recording a stamped decision: 503 when the broker did not acknowledge, the ingest
    outcome with 422 when the event was refused."""
    try:
        return await recording
    except BrokerUnavailable as error:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(error)) from None
    except DecisionRejected as rejected:
        return JSONResponse(rejected.outcome.model_dump(mode="json"), status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)
