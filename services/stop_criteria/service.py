"""Stop criteria at a moment (count the figures in the event store, then judge them), and go/no-go decisions.

A go/no-go decision is a ``decision.recorded`` event like any other, sent through the normal ingest
path; it is stamped with the evaluation at that moment so the log shows what the group saw.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiokafka.errors import KafkaError

from hypercare.contract.events import new_id
from hypercare.org.registry import OrgRegistry
from hypercare.settings import Settings
from hypercare.storage.db import Database
from hypercare.topics import topics_for
from services.auth.scope import subtree
from services.auth.tokens import Principal
from services.ingest.body import RawItem
from services.ingest.producer import EventProducer
from services.ingest.schemas import IngestResponse
from services.ingest.service import IngestResult, describe, ingest_items
from services.stop_criteria.evaluate import evaluate
from services.stop_criteria.measures import day_start, unit_figures
from services.stop_criteria.rules import StopCriteria
from services.stop_criteria.schemas import (
    RolloutDecisionIn,
    RolloutDecisionRecorded,
    StopCriteriaEvaluation,
)

TITLES = {
    "continue": "Införandet fortsätter",
    "pause": "Införandet pausas",
    "rollback": "Återgång till tidigare system",
}


class BrokerUnavailable(Exception):
    """The broker did not acknowledge the decision event; nothing was recorded."""


class DecisionRejected(Exception):
    """The ingest path refused the decision event; ``outcome`` says why."""

    def __init__(self, outcome: IngestResponse) -> None:
        super().__init__("the decision event was rejected")
        self.outcome = outcome


async def stop_criteria_at(
    *, db: Database, org: OrgRegistry, criteria: StopCriteria, at: datetime, zone: ZoneInfo
) -> dict[str, Any]:
    """The evaluation as the stored events stood at ``at`` ("today" is ``at``'s local day in ``zone``)."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("at must be an aware datetime")
    at = at.astimezone(UTC)
    figures = await unit_figures(db, at=at, zone=zone)
    return evaluate(criteria, figures, org=org, at=at, since=day_start(at, zone).astimezone(UTC))


async def evaluation_at(
    *,
    db: Database,
    org: OrgRegistry,
    criteria: StopCriteria,
    at: datetime,
    zone: ZoneInfo,
    scope: str | None = None,
) -> StopCriteriaEvaluation:
    """:func:`stop_criteria_at` as the API's schema. A scoped reader gets the region's verdicts and values (the
    go/no-go is the region's) and, of the per-administration breakdown, its own administration's line only."""
    document = await stop_criteria_at(db=db, org=org, criteria=criteria, at=at, zone=zone)
    tree = subtree(org, scope)
    if tree is not None:
        for criterion in document["criteria"]:
            criterion["breakdown"] = [item for item in criterion["breakdown"] if item["id"] == tree.administration_id]
    return StopCriteriaEvaluation.model_validate(document)


async def record_rollout_decision(
    *,
    db: Database,
    org: OrgRegistry,
    criteria: StopCriteria,
    settings: Settings,
    producer: EventProducer,
    principal: Principal,
    choice: RolloutDecisionIn,
) -> RolloutDecisionRecorded:
    """Send the decision through ingest, stamped with the criteria now; raises BrokerUnavailable, DecisionRejected."""
    now = datetime.now(UTC)
    evaluation = await stop_criteria_at(db=db, org=org, criteria=criteria, at=now, zone=settings.zone)
    decision_id = new_id("gonogo")
    event = {
        "event_id": decision_id,
        "type": "decision.recorded",
        "occurred_at": now.isoformat(),
        "unit_id": choice.unit_id or org.region.id,
        "source": "console",
        "decision_id": decision_id,
        "title": TITLES[choice.rollout_decision],
        "decision": choice.decision or TITLES[choice.rollout_decision],
        "rationale": choice.rationale,
        "mandate": choice.mandate,
        "owner": choice.owner,
        "decided_by": principal.name,
        "rollout_decision": choice.rollout_decision,
        "stop_criteria": evaluation,
    }
    result = await send_decision(event, db=db, org=org, settings=settings, producer=producer, principal=principal)
    return RolloutDecisionRecorded.model_validate(
        {**describe(result), "decision_id": decision_id, "stop_criteria": evaluation}
    )


async def send_decision(
    event: dict[str, Any],
    *,
    db: Database,
    org: OrgRegistry,
    settings: Settings,
    producer: EventProducer,
    principal: Principal,
) -> IngestResult:
    """A go/no-go ``decision.recorded`` (stamped by the caller) through the normal ingest path, so it is checked,
    stamped and stored like any event; raises BrokerUnavailable, DecisionRejected."""
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
