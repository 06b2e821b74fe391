"""Three waves at once for a newcomer: one going live now, one in readiness, one finished and handed over.

``hypercare up --simulate`` writes :func:`simulation_registry` of the org registry to the data directory and runs
every process on it (unless ``HYPERCARE_ORG_FILE`` names another registry): the registry's live wave (the one that
went live last, else the first) goes live as the simulation starts; the next wave with units is in readiness, its
go-live planned a week later; the wave after that went live ten days before the start. The simulator then does what
real systems and the coordination group would (:class:`WaveActions`): posts readiness assessments for the
readiness wave (most items ready, some units blocking, and a few updates arriving as the run goes on), posts the
finished wave's first three days of traffic at their real times (so the wave comparison has two waves), and
records the finished wave's handover decision through ``POST /api/v1/waves/{wave_id}/exit/decisions``.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from hypercare.org.registry import OrgRegistry

READINESS_LEAD = timedelta(days=7)
FINISHED_AGO = timedelta(days=10)
FINISHED_HISTORY = timedelta(hours=72)  # the finished wave's traffic posted at start (the 72-hour comparison)
READINESS_ASSESSOR = "utbildningssamordnare"
HANDOVER_RATIONALE = "Simulering: vågen har varit i drift i tio dygn; överlämning till ordinarie support enligt plan."
UPDATE_EVERY = timedelta(minutes=20)  # scenario time between readiness updates

# The shipped checklist's items (rules file ``readiness:``): percent items and checks.
PERCENT_ITEMS = ("permissions_matched", "staff_trained")
CHECK_ITEMS = ("devices_verified", "migration_checked", "super_user_every_shift", "cutover_plan_approved")


@dataclass(frozen=True)
class WaveRoles:
    in_progress: str | None
    readiness: str | None
    finished: str | None


def wave_roles(waves: Sequence[Mapping[str, Any]], units_per_wave: Mapping[str, int]) -> WaveRoles:
    """Which wave plays which part: the live wave that went live last (else the first wave) is in progress; the
    next waves with units, in registry order after it (wrapping round), are in readiness and finished."""
    if not waves:
        return WaveRoles(None, None, None)
    live = [w for w in waves if w.get("status") == "live" and w.get("actual_go_live") is not None]
    current = max(live, key=lambda w: str(w["actual_go_live"]))["id"] if live else waves[0]["id"]
    ids = [str(w["id"]) for w in waves]
    start = ids.index(current)
    others = [ids[(start + i) % len(ids)] for i in range(1, len(ids))]
    others = [wave_id for wave_id in others if units_per_wave.get(wave_id)]
    return WaveRoles(str(current), others[0] if others else None, others[1] if len(others) > 1 else None)


def simulation_registry(data: Mapping[str, Any], org: OrgRegistry, start: datetime) -> dict[str, Any]:
    """The registry document ``data`` (of ``org``) with its waves retimed around ``start`` (aware)."""
    start = start.astimezone(UTC).replace(microsecond=0)
    waves = [dict(wave) for wave in data.get("waves", [])]
    roles = wave_roles(waves, {wave_id: len(units) for wave_id, units in org.wave_units.items()})
    timing = {
        roles.in_progress: {"status": "live", "planned_go_live": start, "actual_go_live": start},
        roles.readiness: {"status": "readiness", "planned_go_live": start + READINESS_LEAD, "actual_go_live": None},
        roles.finished: {
            "status": "live",
            "planned_go_live": start - FINISHED_AGO,
            "actual_go_live": start - FINISHED_AGO,
        },
    }
    for wave in waves:
        changed = timing.get(str(wave["id"]))
        if changed is None:
            if wave.get("status") in ("live", "exited", "paused", "readiness"):
                wave.update(status="planned", actual_go_live=None, planned_go_live=None)
            continue
        wave.update(
            {key: value.isoformat() if isinstance(value, datetime) else value for key, value in changed.items()}
        )
    return {**data, "waves": [{k: v for k, v in wave.items() if v is not None} for wave in waves]}


Stamp = Callable[[datetime], datetime]


class WaveActions:
    """The simulator's part in the waves of a registry laid out by :func:`simulation_registry`."""

    def __init__(self, org: OrgRegistry, *, seed: int) -> None:
        self.org = org
        self.rng = random.Random(seed)
        self.seed = seed
        live = [w for w in org.waves if w.status == "live" and w.actual_go_live is not None]
        live.sort(key=lambda w: w.actual_go_live or datetime.min.replace(tzinfo=UTC))
        self.finished = live[0].id if len(live) > 1 else None
        self.readiness = next((w.id for w in org.waves if w.status == "readiness" and org.wave_units.get(w.id)), None)
        self._count = 0
        self._next_update: datetime | None = None
        units = org.wave_units.get(self.readiness or "", [])
        # Roughly a third of the wave's units (at least one) block its gate on one item.
        blocking = max(1, len(units) // 3) if units else 0
        self.blocking = {unit_id: self.rng.choice(PERCENT_ITEMS + CHECK_ITEMS) for unit_id in units[:blocking]}

    def _event(self, unit_id: str, at: datetime, item: str, value: bool | float) -> dict[str, Any]:
        self._count += 1
        return {
            "event_id": f"sim-{self.seed}-ready-{self._count}-{int(at.timestamp())}",
            "type": "readiness.assessed",
            "occurred_at": at.astimezone(UTC).isoformat(),
            "unit_id": unit_id,
            "source": "simulator",
            "item": item,
            "value": value,
            "assessor": READINESS_ASSESSOR,
            "evidence": "simulerad bedömning",
        }

    def _value(self, unit_id: str, item: str) -> bool | float:
        blocked = self.blocking.get(unit_id) == item
        if item in PERCENT_ITEMS:
            return round(self.rng.uniform(55, 80) if blocked else self.rng.uniform(95, 100), 1)
        return not blocked

    def readiness_at_start(self, now: datetime) -> list[dict[str, Any]]:
        """Every item of every unit of the readiness wave: ready, except one item on each blocking unit."""
        self._next_update = now + UPDATE_EVERY
        return [
            self._event(unit_id, now, item, self._value(unit_id, item))
            for unit_id in self.org.wave_units.get(self.readiness or "", [])
            for item in (*PERCENT_ITEMS, *CHECK_ITEMS)
        ]

    def readiness_updates(self, scenario_now: datetime, stamp: Stamp) -> list[dict[str, Any]]:
        """Assessments arriving as the run goes on: now and then a unit's item is assessed again (a blocking
        percent item creeps up, but stays blocking)."""
        if self.readiness is None or self._next_update is None or scenario_now < self._next_update:
            return []
        self._next_update = scenario_now + UPDATE_EVERY
        units = self.org.wave_units.get(self.readiness, [])
        unit_id = self.rng.choice(units)
        item = self.blocking.get(unit_id) or self.rng.choice(PERCENT_ITEMS)
        return [self._event(unit_id, stamp(scenario_now), item, self._value(unit_id, item))]

    def history_org(self) -> OrgRegistry | None:
        """The registry as it stood in the finished wave's first days (that wave going live, every other wave
        planned), to generate that wave's traffic with the cut-over scenario; None without a finished wave."""
        if self.finished is None:
            return None
        data = self.org.model_dump(mode="json", exclude_none=True)
        data["waves"] = [
            {**wave, "status": "live"}
            if wave["id"] == self.finished
            else {"id": wave["id"], "name": wave["name"], "status": "planned"}
            for wave in data["waves"]
        ]
        return OrgRegistry.model_validate(data)

    @property
    def finished_go_live(self) -> datetime | None:
        wave = self.org.waves_by_id.get(self.finished or "")
        return None if wave is None else wave.actual_go_live


__all__ = ["WaveActions", "WaveRoles", "simulation_registry", "wave_roles"]
