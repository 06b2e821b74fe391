"""Driving the real product through a fault: post like a real source (resend what got no answer), wait until
the store of record and the picture settle, judge with the oracle."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
from fault_oracle import CHIEF_TYPES, UNITS, Verdict, judge, stored_event_ids
from hc_testkit import Pipeline


async def post_all(pipeline: Pipeline, events: list[dict[str, Any]], *, batch: int = 100, pause: float = 0.0) -> None:
    """Post in batches (chiefs' events with a chief token, the rest as a source); every item must be accepted.

    Like a real source, a batch whose answer did not arrive (the API restarting) is sent again: the event ids
    make the resend safe."""
    for start in range(0, len(events), batch):
        chunk = events[start : start + batch]
        for role, items in (
            ("chief", [e for e in chunk if e["type"] in CHIEF_TYPES]),
            ("source", [e for e in chunk if e["type"] not in CHIEF_TYPES]),
        ):
            if items:
                await post_until_accepted(pipeline, items, role)
        if pause:
            await asyncio.sleep(pause)


async def post_until_accepted(pipeline: Pipeline, items: list[dict[str, Any]], role: str) -> None:
    for _ in range(200):
        try:
            response = await pipeline.post_events(items, role=role)
        except httpx.TransportError:
            await asyncio.sleep(0.2)
            continue
        if response.status_code in (502, 503):
            await asyncio.sleep(0.2)
            continue
        assert response.status_code == 200, response.text
        assert response.json()["accepted"] == len(items), response.text
        return
    raise AssertionError("the API did not accept a batch within 40 s")


async def settle_and_judge(pipeline: Pipeline, fault: str, events: list[dict[str, Any]]) -> Verdict:
    """Wait until the store of record holds every event and the picture stops moving; then compare."""
    ids = {e["event_id"] for e in events}
    deadline = asyncio.get_running_loop().time() + 120
    units: dict[str, dict[str, Any]] = {}
    previous: Any = None
    while asyncio.get_running_loop().time() < deadline:
        stored = await stored_event_ids(pipeline.settings.effective_database_url, ids)
        units = {unit: (await pipeline.get(f"/api/v1/units/{unit}")).json() for unit in UNITS}
        snapshot = json.dumps([units[u]["access"] | units[u]["tickets"] for u in UNITS], sort_keys=True, default=str)
        if stored >= ids and snapshot == previous:
            break
        previous = snapshot
        await asyncio.sleep(2.0)
    return judge(fault, events, units, stored)


def assert_exact(verdict: Verdict, report: Callable[[Verdict], None]) -> None:
    report(verdict)
    assert verdict.exact, "\n".join(verdict.mismatches)
    assert verdict.counted == verdict.sent
