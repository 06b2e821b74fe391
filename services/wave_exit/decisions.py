"""A wave's hypercare exit: a ``decision.recorded`` ("handover to support", or hypercare extended) stamped with the
wave's exit criteria as they stood, sent like the other go/no-go decisions
(:mod:`services.decisions.stamped`), so the decision log shows what the group saw. A handover
while the criteria are not all within is the group's call, but it must say why (the rationale)."""

from __future__ import annotations

from datetime import UTC, datetime

from hypercare.org.registry import OrgRegistry
from hypercare.rules.exit_criteria import ExitCriteria
from hypercare.settings import Settings
from hypercare.storage.db import Database
from services.auth.tokens import Principal
from services.decisions.stamped import decision_event, send_decision
from services.ingest.producer import EventProducer
from services.ingest.service import describe
from services.wave_exit.schemas import HandoverDecisionIn, HandoverDecisionRecorded
from services.wave_exit.service import UnknownWave, wave_exit

TITLES = {
    "handover": "{wave} lämnar hypercare: överlämning till ordinarie support",
    "extend": "{wave} stannar i hypercare",
}


class HandoverWithoutReason(ValueError):
    """A handover while the exit criteria are not all within, without a rationale."""


async def record_handover_decision(
    *,
    db: Database,
    org: OrgRegistry,
    criteria: ExitCriteria,
    settings: Settings,
    producer: EventProducer,
    principal: Principal,
    wave_id: str,
    choice: HandoverDecisionIn,
) -> HandoverDecisionRecorded:
    """Send the decision stamped with the wave's exit criteria now; raises UnknownWave, HandoverWithoutReason, and
    the stamped decisions' BrokerUnavailable and DecisionRejected."""
    if wave_id not in org.waves_by_id:
        raise UnknownWave(f"wave {wave_id!r} is not a wave of the org registry")
    now = datetime.now(UTC)
    stamp = await wave_exit(db, org, criteria, wave_id, at=now, zone=settings.zone)
    if choice.handover_decision == "handover" and stamp.overall != "ready" and not choice.rationale.strip():
        open_criteria = ", ".join(f"{c.id} ({c.state})" for c in stamp.criteria if c.state != "within")
        raise HandoverWithoutReason(
            f"rationale: the exit criteria of {wave_id} are not all within ({open_criteria}); "
            "a handover needs the reason it goes anyway"
        )
    title = TITLES[choice.handover_decision].format(wave=org.waves_by_id[wave_id].name)
    stamped = stamp.model_dump(mode="json")
    decision_id, event = decision_event(
        prefix="handover",
        now=now,
        org=org,
        principal=principal,
        title=title,
        words=choice,
        stamped={"handover_decision": choice.handover_decision, "exit_criteria": stamped},
    )
    result = await send_decision(event, db=db, org=org, settings=settings, producer=producer, principal=principal)
    return HandoverDecisionRecorded.model_validate(
        {**describe(result), "decision_id": decision_id, "exit_criteria": stamped}
    )
