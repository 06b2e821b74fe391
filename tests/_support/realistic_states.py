"""Unit states as a gateway holds them after hours of a simulated go-live (for the read-side shape tests).

The seeded cut-over scenario of ``hypercare.entrypoints.simulator`` runs over the shipped org registry; its
events are folded the way the stream worker folds them, and each (unit, family) view goes through the
situation-record codec the way the worker publishes it and the gateway reads it. A few events on top make
sure every optional shape of the picture appears: an overdue ED diversion, an unmapped unit.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from hypercare.contract.events import parse_event
from hypercare.entrypoints.simulator.scenario import GO_LIVE_START, CutoverScenario
from hypercare.org.registry import OrgRegistry, load_org
from hypercare.situation import record
from hypercare.situation.state import STATEFUL_FAMILIES, apply_event, new_state, state_view

UNMAPPED_UNIT = "ZZ-NOT-IN-THE-REGISTRY"


def _extra_events(org: OrgRegistry, now: datetime) -> list[dict[str, Any]]:
    eds = [placement.unit_id for placement in org.emergency_departments]
    diverting, receiving = eds[-1], eds[0]

    def at(minutes_ago: float) -> str:
        return (now - timedelta(minutes=minutes_ago)).isoformat()

    return [
        {
            "event_id": "shape-diversion",
            "type": "ed.diversion_started",
            "occurred_at": at(90),
            "unit_id": diverting,
            "diversion_id": "shape-D1",
            "to_unit_ids": [receiving],
            "scope": "all",
            "reason": "Överbeläggning",
            "decided_by": "produktionschef",
            "expected_end": at(30),
        },
        {
            "event_id": "shape-ed-status",
            "type": "ed.status",
            "occurred_at": at(4),
            "unit_id": diverting,
            "patients_waiting": 21,
            "patients_in_department": 40,
            "capacity": 30,
        },
        {
            "event_id": "shape-unmapped",
            "type": "access.login",
            "occurred_at": at(2),
            "unit_id": UNMAPPED_UNIT,
            "user_ref": "u-unmapped",
            "outcome": "failure",
            "reason": "account_locked",
        },
    ]


def realistic_unit_states(
    org: OrgRegistry | None = None, *, hours: float = 8, seed: int = 1, now: datetime | None = None
) -> tuple[dict[str, dict[str, dict[str, Any]]], datetime]:
    """(unit states as the gateway holds them, the "now" they were folded at).

    The scenario's first ``hours`` end at ``now`` (default: in the scenario's own time, on go-live day 2024).
    """
    org = org or load_org()
    scenario_end = GO_LIVE_START + timedelta(hours=hours)
    shift = (now - scenario_end) if now is not None else timedelta(0)
    now = scenario_end + shift
    events = CutoverScenario(org, seed=seed).events_between(GO_LIVE_START, scenario_end, stamp=lambda at: at + shift)
    states: dict[str, dict[str, dict[str, Any]]] = {}
    for raw in [*events, *_extra_events(org, now)]:
        event = parse_event(raw)
        if event.family not in STATEFUL_FAMILIES:
            continue
        state = states.setdefault(event.unit_id, {}).setdefault(event.family, new_state(event.family))
        apply_event(event.family, state, event, now=now)
    held: dict[str, dict[str, dict[str, Any]]] = {}
    for unit_id, families in states.items():
        for family, state in families.items():
            _, value = record.encode(unit_id, family, state_view(family, state), as_of=now.isoformat())
            decoded = record.decode(value)
            held.setdefault(decoded.unit_id, {})[decoded.family] = decoded.state
    return held, now
