"""The waves of the org registry as the API shows them: a pure function of the registry and a moment."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from hypercare.org.registry import OrgRegistry, hours_since_go_live
from services.readiness.schemas import WaveGate
from services.wave_exit.schemas import WaveExit
from services.waves.schemas import AreaView, Waves, WaveView


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
