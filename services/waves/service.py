"""The waves of the org registry as the API shows them: a pure function of the registry and a moment."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from hypercare.org.registry import OrgRegistry, hours_since_go_live
from hypercare.storage.db import Database
from hypercare.waves.compare import Span, compare_waves
from services.auth.scope import readable_units
from services.readiness.schemas import WaveGate
from services.wave_exit.schemas import WaveExit
from services.waves.schemas import AreaView, WaveComparison, Waves, WaveView
from services.waves.store import counted_since_go_live


def waves_at(org: OrgRegistry, now: datetime, gates: Mapping[str, WaveGate], exits: Mapping[str, WaveExit]) -> Waves:
    """The waves at ``now``, each with its readiness gate (``gates``: services.readiness.service.wave_gates) and its
    exit criteria (``exits``: services.wave_exit.service.wave_exits)."""
    administrations: dict[str, list[str]] = {wave.id: [] for wave in org.waves}
    for admin_id, wave_ids in org.administration_waves.items():
        for wave_id in wave_ids:
            administrations[wave_id].append(admin_id)
    return Waves(
        as_of=now,
        areas=[AreaView(area_id=area.id, name=area.name) for area in org.areas],
        waves=[
            WaveView(
                wave_id=wave.id,
                name=wave.name,
                status=wave.status,
                areas=org.wave_areas[wave.id],
                planned_go_live=wave.planned_go_live,
                actual_go_live=wave.actual_go_live,
                hours_since_go_live=hours_since_go_live(wave.actual_go_live, now),
                unit_count=len(org.wave_units[wave.id]),
                administration_ids=administrations[wave.id],
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
