"""The hub on the incremental picture: what it publishes equals the full build at the same moment, and its
deltas carry exactly the objects that changed (the full builds' diff), with a store that names what arrived."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from hypercare.contract.events import parse_event
from hypercare.org.registry import load_org
from hypercare.settings import Settings
from hypercare.situation import record
from hypercare.situation.health import load_rules
from hypercare.situation.rollup import build_situation
from hypercare.situation.state import apply_event, new_state, state_view
from services.gateway.hub import SituationHub, diff, flatten

ORG = load_org()
RULES = load_rules()
WARDS = [placement.unit_id for placement in list(ORG.placements.values())[:6]]


class TouchingStore:
    """Like SituationStore: each arriving record replaces a (unit, family) state and names its unit."""

    def __init__(self) -> None:
        self.unit_states: dict[str, dict[str, dict[str, Any]]] = {}
        self.changed = asyncio.Event()
        self._touched: set[str] = set()
        self._worker: dict[str, dict[str, dict[str, Any]]] = {}

    def take_touched(self) -> set[str] | None:
        touched, self._touched = self._touched, set()
        return touched

    def arrive(self, raw: dict[str, Any]) -> None:
        now = datetime.now(UTC)
        event = parse_event(raw)
        state = self._worker.setdefault(event.unit_id, {}).setdefault(event.family, new_state(event.family))
        apply_event(event.family, state, event, now=now)
        value = record.encode(event.unit_id, event.family, state_view(event.family, state), as_of=now.isoformat())[1]
        decoded = record.decode(value)
        self.unit_states.setdefault(decoded.unit_id, {})[decoded.family] = decoded.state
        self._touched.add(decoded.unit_id)


def without_as_of(flat: dict[str, dict[str, dict[str, Any]]]) -> dict[str, dict[str, dict[str, Any]]]:
    return {
        kind: {k: {f: v for f, v in o.items() if f != "as_of"} for k, o in objs.items()} for kind, objs in flat.items()
    }


async def test_published_pictures_and_deltas_equal_the_full_builds() -> None:
    store = TouchingStore()
    settings = Settings(kafka_bootstrap="unused:9092", gateway_tick_seconds=3600)
    hub = SituationHub(store=store, org=ORG, rules=RULES, settings=settings)  # type: ignore[arg-type]
    await hub.start()
    received: list[dict[str, Any]] = []

    async def send(message: str) -> None:
        received.append(json.loads(message))

    client = hub.connect(send)
    task = asyncio.create_task(client.run())
    assert hub.latest is not None
    previous = hub.latest[1]
    try:
        await asyncio.sleep(0.02)
        for n in range(12):
            ward = WARDS[n % len(WARDS)]
            at = (datetime.now(UTC) - timedelta(minutes=n)).isoformat()
            store.arrive(
                {
                    "event_id": f"l{n}",
                    "type": "access.login",
                    "occurred_at": at,
                    "unit_id": ward,
                    "user_ref": f"u{n % 4}",
                    "outcome": "failure",
                    "reason": "card_error",
                }
            )
            if n % 3 == 0:
                store.arrive(
                    {
                        "event_id": f"t{n}",
                        "type": "ticket.opened",
                        "occurred_at": at,
                        "unit_id": ward,
                        "ticket_id": f"T{n}",
                        "channel": "phone",
                        "category": "login",
                        "priority": 1,
                    }
                )
            hub.publish()
            assert hub.latest is not None
            now, flat = hub.latest
            full = flatten(build_situation(store.unit_states, org=ORG, rules=RULES, now=now))
            assert without_as_of(flat) == without_as_of(full)
            await asyncio.sleep(0.02)  # the client sends this delta before the next publish
            delta = received[-1]
            expected = diff(previous, full)
            assert delta["type"] == "delta"
            assert {u["unit_id"] for u in delta["units"]} == set(expected["units"])
            assert {s["site_id"] for s in delta["sites"]} == set(expected["sites"])
            assert {a["administration_id"] for a in delta["administrations"]} == set(expected["administrations"])
            assert (delta["region"] is not None) == bool(expected["region"])
            assert all(unit == full["units"][unit["unit_id"]] for unit in delta["units"])
            previous = full
        snapshot = hub.situation()
        assert (
            snapshot["administrations"]
            == build_situation(store.unit_states, org=ORG, rules=RULES, now=datetime.fromisoformat(snapshot["as_of"]))[
                "administrations"
            ]
        )
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await hub.stop()
