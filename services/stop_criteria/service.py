"""Stop criteria at a moment (count the figures in the event store, then judge them), and go/no-go decisions.

A go/no-go decision is a stamped decision (:mod:`services.decisions.stamped`): stamped with the evaluation at
that moment so the log shows what the group saw.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from hypercare.org.registry import OrgRegistry
from hypercare.settings import Settings
from hypercare.storage.db import Database
from services.auth.scope import subtree
from services.auth.tokens import Principal
from services.decisions.stamped import decision_event, send_decision
from services.ingest.producer import EventProducer
from services.ingest.service import describe
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
    decision_id, event = decision_event(
        prefix="gonogo",
        now=now,
        org=org,
        principal=principal,
        title=TITLES[choice.rollout_decision],
        words=choice,
        stamped={"rollout_decision": choice.rollout_decision, "stop_criteria": evaluation},
        unit_id=choice.unit_id,
    )
    result = await send_decision(event, db=db, org=org, settings=settings, producer=producer, principal=principal)
    return RolloutDecisionRecorded.model_validate(
        {**describe(result), "decision_id": decision_id, "stop_criteria": evaluation}
    )
