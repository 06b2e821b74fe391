"""A wave's go/no-go: a ``decision.recorded`` stamped with the wave's readiness as it stood, sent like the stop
criteria's go/no-go (:mod:`services.decisions.stamped`), so the decision log shows what the
group saw. A "go" while the gate is red is the group's call, but it must say why (the rationale)."""

from __future__ import annotations

from datetime import UTC, datetime

from hypercare.org.registry import OrgRegistry
from hypercare.rules.readiness import ReadinessChecklist
from hypercare.settings import Settings
from hypercare.storage.db import Database
from services.auth.tokens import Principal
from services.decisions.stamped import decision_event, send_decision
from services.ingest.producer import EventProducer
from services.ingest.service import describe
from services.readiness.schemas import ReadinessStamp, UnitReasons, WaveDecisionIn, WaveDecisionRecorded
from services.readiness.service import UnknownNode, readiness_at

TITLES = {"go": "{wave} går live", "no_go": "{wave} går inte live (no-go)"}


class GoWithoutReason(ValueError):
    """A "go" on a red gate without a rationale."""


async def readiness_stamp(
    db: Database, org: OrgRegistry, checklist: ReadinessChecklist, wave_id: str, *, at: datetime
) -> ReadinessStamp:
    """The wave's gate at ``at`` and its units that are not green, with their reasons (the whole region's)."""
    view = await readiness_at(db, org, checklist, at=at, wave=wave_id)
    return ReadinessStamp(
        as_of=view.as_of,
        wave_id=wave_id,
        gate=view.waves[0],
        units_not_green=[
            UnitReasons(
                unit_id=unit.unit_id,
                status=unit.status,
                reasons=[item.reason for item in unit.items if item.reason is not None],
            )
            for unit in view.units
            if unit.status != "green"
        ],
    )


async def record_wave_decision(
    *,
    db: Database,
    org: OrgRegistry,
    checklist: ReadinessChecklist,
    settings: Settings,
    producer: EventProducer,
    principal: Principal,
    choice: WaveDecisionIn,
) -> WaveDecisionRecorded:
    """Send the decision stamped with the readiness now; raises UnknownNode, GoWithoutReason, and the stop
    stamped decisions' BrokerUnavailable and DecisionRejected."""
    if choice.wave_id not in org.waves_by_id:
        raise UnknownNode(f"wave {choice.wave_id!r} is not a wave of the org registry")
    now = datetime.now(UTC)
    stamp = await readiness_stamp(db, org, checklist, choice.wave_id, at=now)
    if choice.wave_decision == "go" and stamp.gate.status == "red" and not choice.rationale.strip():
        blocking = ", ".join(stamp.gate.blocking_unit_ids[:5])
        more = len(stamp.gate.blocking_unit_ids) - 5
        listed = blocking + (f" and {more} more" if more > 0 else "")
        raise GoWithoutReason(
            f"rationale: the gate of {choice.wave_id} is red (blocking: {listed}); a go needs the reason it goes anyway"
        )
    title = TITLES[choice.wave_decision].format(wave=org.waves_by_id[choice.wave_id].name)
    stamped = stamp.model_dump(mode="json")
    decision_id, event = decision_event(
        prefix="wavego",
        now=now,
        org=org,
        principal=principal,
        title=title,
        words=choice,
        stamped={"wave_decision": choice.wave_decision, "readiness": stamped},
    )
    result = await send_decision(event, db=db, org=org, settings=settings, producer=producer, principal=principal)
    return WaveDecisionRecorded.model_validate({**describe(result), "decision_id": decision_id, "readiness": stamped})
