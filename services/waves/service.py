"""The waves of the org registry as the API shows them: a pure function of the registry and a moment."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from hypercare.org.registry import OrgRegistry, WaveStatus, hours_since_go_live
from hypercare.storage.db import Database
from hypercare.storage.models import StoredEvent
from hypercare.waves.compare import Span, compare_waves
from services.auth.scope import readable_units
from services.decisions.store import decision_events
from services.readiness.schemas import WaveGate
from services.wave_exit.schemas import WaveExit
from services.waves.schemas import AreaView, WaveComparison, WaveHandover, WaveRollout, Waves, WaveView
from services.waves.store import counted_since_go_live


@dataclass(frozen=True)
class Decided:
    """A decision-log entry as the waves read it (from a stored ``decision.recorded``)."""

    decision_id: str
    title: str
    occurred_at: datetime
    unit_id: str
    rollout_decision: str | None = None
    handover_decision: str | None = None
    wave_id: str | None = None  # the wave of a handover (its stamped exit criteria's wave_id)


@dataclass
class WaveDecisions:
    rollout: WaveRollout | None = None
    handover: WaveHandover | None = None


def decided(event: StoredEvent) -> Decided:
    payload = event.payload
    stamp = payload.get("exit_criteria")
    return Decided(
        decision_id=str(payload.get("decision_id", event.event_id)),
        title=str(payload.get("title", "")),
        occurred_at=event.occurred_at,
        unit_id=event.unit_id,
        rollout_decision=payload.get("rollout_decision"),
        handover_decision=payload.get("handover_decision"),
        wave_id=stamp.get("wave_id") if isinstance(stamp, Mapping) else None,
    )


def _concerned(org: OrgRegistry, node_id: str, at: datetime) -> list[str]:
    """The waves a roll-out decision about ``node_id`` at ``at`` concerns: those of its units that had gone live by
    then; for the region, the wave in progress (the one that went live last before it)."""
    live = {wave.id for wave in org.waves if wave.actual_go_live is not None and wave.actual_go_live <= at}
    if node_id == org.region.id:
        going = max(
            (wave for wave in org.waves if wave.id in live),
            key=lambda wave: wave.actual_go_live or at,
            default=None,
        )
        return [] if going is None else [going.id]
    if org.knows(node_id):
        wave_id = org.placements[node_id].wave_id
        return [wave_id] if wave_id in live else []
    waves = {
        placement.wave_id
        for placement in org.placements.values()
        if node_id in (placement.site_id, placement.administration_id) and placement.wave_id in live
    }
    return [wave.id for wave in org.waves if wave.id in waves]


def wave_decisions(org: OrgRegistry, decisions: Iterable[Decided]) -> dict[str, WaveDecisions]:
    """Each wave's latest roll-out state and handover decision from the decision log (any order in)."""
    found = {wave.id: WaveDecisions() for wave in org.waves}
    for item in sorted(decisions, key=lambda d: (d.occurred_at, d.decision_id)):
        if item.unit_id not in org.node_ids:
            continue  # about a node this registry does not know (the region's own decisions name the region)
        if item.handover_decision in ("handover", "extend") and item.wave_id in found:
            found[item.wave_id].handover = WaveHandover(
                decision=item.handover_decision,  # type: ignore[arg-type]
                decided_at=item.occurred_at,
                decision_id=item.decision_id,
            )
        if item.rollout_decision not in ("continue", "pause", "rollback"):
            continue
        for wave_id in _concerned(org, item.unit_id, item.occurred_at):
            before = found[wave_id].rollout
            if item.rollout_decision == "continue":
                if before is None or before.state == "resumed":
                    continue
                state = "resumed"
            else:
                state = "paused" if item.rollout_decision == "pause" else "rolled_back"
            found[wave_id].rollout = WaveRollout(
                state=state,  # type: ignore[arg-type]
                decided_at=item.occurred_at,
                decision_id=item.decision_id,
                title=item.title,
            )
    return found


def effective_status(status: WaveStatus, decisions: WaveDecisions) -> WaveStatus:
    """The registry's status moved on by the decision log."""
    if decisions.handover is not None and decisions.handover.decision == "handover":
        return "exited"
    rollout = decisions.rollout
    if rollout is not None and status in ("live", "paused"):
        return "live" if rollout.state == "resumed" else "paused"
    return status


def waves_at(
    org: OrgRegistry,
    now: datetime,
    gates: Mapping[str, WaveGate],
    exits: Mapping[str, WaveExit],
    decisions: Mapping[str, WaveDecisions] | None = None,
) -> Waves:
    """The waves at ``now``, each with its readiness gate (``gates``: services.readiness.service.wave_gates), its
    exit criteria (``exits``: services.wave_exit.service.wave_exits) and its decisions (:func:`wave_decisions`)."""
    decisions = decisions or {}
    administrations: dict[str, list[str]] = {wave.id: [] for wave in org.waves}
    for admin_id, wave_ids in org.administration_waves.items():
        for wave_id in wave_ids:
            administrations[wave_id].append(admin_id)
    sites: dict[str | None, dict[str, None]] = {}
    area_admins: dict[str | None, dict[str, None]] = {}
    area_sites: dict[str | None, dict[str, None]] = {}
    for placement in org.placements.values():  # registry order
        sites.setdefault(placement.wave_id, {})[placement.site_id] = None
        area_admins.setdefault(placement.area, {})[placement.administration_id] = None
        area_sites.setdefault(placement.area, {})[placement.site_id] = None
    return Waves(
        as_of=now,
        areas=[
            AreaView(
                area_id=area.id,
                name=area.name,
                administration_ids=list(area_admins.get(area.id, {})),
                site_ids=list(area_sites.get(area.id, {})),
            )
            for area in org.areas
        ],
        waves=[
            WaveView(
                wave_id=wave.id,
                name=wave.name,
                status=effective_status(wave.status, decisions.get(wave.id, WaveDecisions())),
                registry_status=wave.status,
                rollout=decisions.get(wave.id, WaveDecisions()).rollout,
                handover=decisions.get(wave.id, WaveDecisions()).handover,
                areas=org.wave_areas[wave.id],
                planned_go_live=wave.planned_go_live,
                actual_go_live=wave.actual_go_live,
                hours_since_go_live=hours_since_go_live(wave.actual_go_live, now),
                unit_count=len(org.wave_units[wave.id]),
                administration_ids=administrations[wave.id],
                site_ids=list(sites.get(wave.id, {})),
                readiness=gates[wave.id],
                exit=exits[wave.id],
            )
            for wave in org.waves
        ],
    )


class UnknownWaves(LookupError):
    """A compared wave is not in the org registry."""


def compared_waves(org: OrgRegistry, asked: str) -> list[str]:
    """The waves named in ``asked`` (comma-separated, in that order, once each); every wave that has gone live when
    empty. Raises :class:`UnknownWaves` naming the ones the registry lacks."""
    names = list(dict.fromkeys(part.strip() for part in asked.split(",") if part.strip()))
    if not names:
        return [wave.id for wave in org.waves if wave.actual_go_live is not None]
    unknown = [name for name in names if name not in org.waves_by_id]
    if unknown:
        known = ", ".join(wave.id for wave in org.waves)
        raise UnknownWaves(f"waves: {', '.join(unknown)} not in the org registry (its waves: {known})")
    return names


async def comparison(
    db: Database, org: OrgRegistry, *, wave_ids: list[str], span: Span, at: datetime, scope: str | None
) -> WaveComparison:
    """The comparison as the stored events stand at ``at``, over the units ``scope`` may read."""
    units = readable_units(org, scope)
    allowed = None if units is None else set(units)
    counted = await counted_since_go_live(db, org, wave_ids=wave_ids, span=span, at=at, units=allowed)
    return WaveComparison.model_validate(
        compare_waves(org, counted, wave_ids=wave_ids, span=span, at=at, units=allowed)
    )


async def waves_decided(db: Database, org: OrgRegistry) -> dict[str, WaveDecisions]:
    """Each wave's decisions as the decision log stands (every stored ``decision.recorded``)."""
    events = await decision_events(db, since=None, until=None)
    return wave_decisions(org, (decided(event) for event in events if event.type == "decision.recorded"))
