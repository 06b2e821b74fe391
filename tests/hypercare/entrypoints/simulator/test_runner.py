"""The runner paces the scenario, splits tokens by role, and resends a slice that failed."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from hypercare.contract.events import parse_event
from hypercare.entrypoints.simulator.command import api_base_url
from hypercare.entrypoints.simulator.runner import SimulatorRejected, run_simulation, wait_for_api
from hypercare.settings import Settings


class FakeApi:
    """Records every POST; optionally fails the first ``fail_first`` requests with 503."""

    def __init__(self, fail_first: int = 0, status: int = 200) -> None:
        self.fail_first = fail_first
        self.status = status
        self.requests: list[tuple[str, list[dict[str, Any]]]] = []
        self.attempts: list[list[str]] = []
        self.calls = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/healthz":
            return httpx.Response(200, json={"status": "ok"})
        assert request.url.path == "/api/v1/events"
        self.calls += 1
        self.attempts.append([e["event_id"] for e in json.loads(request.content)])
        if self.calls <= self.fail_first:
            return httpx.Response(503, json={"detail": "broker down"})
        if self.status != 200:
            return httpx.Response(self.status, json={"detail": "no"})
        batch = json.loads(request.content)
        self.requests.append((request.headers["authorization"], batch))
        return httpx.Response(200, json={"accepted": len(batch), "rejected": []})


async def test_run_posts_the_scenario_with_real_timestamps_and_the_chief_token_for_decisions() -> None:
    api = FakeApi()
    began = datetime.now(UTC)
    await run_simulation(
        base_url="http://api",
        token_source="hc_source",
        token_chief="hc_chief",
        speed=1200,
        seed=5,
        duration=1.0,
        batch_seconds=0.2,
        transport=httpx.MockTransport(api),
    )
    ended = datetime.now(UTC)
    events = [e for _, batch in api.requests for e in batch]
    assert len(events) > 100  # 20 scenario minutes of the morning login storm
    assert len({e["event_id"] for e in events}) == len(events)
    for auth, batch in api.requests:
        decisions = {e["type"].startswith("ed.diversion") for e in batch}
        assert decisions == {auth == "Bearer hc_chief"}
    assert any(e["type"] == "ed.diversion_started" for e in events)
    # The server fills in the chief token's own name (another run may have taken "produktionschef-sas").
    assert not [e for auth, batch in api.requests if auth == "Bearer hc_chief" for e in batch if "decided_by" in e]
    for event in events:
        stamped = {**event, "decided_by": "hc-chief"} if event["type"].startswith("ed.diversion") else event
        parsed = parse_event(stamped)  # as the server has it, the actor filled in
        assert began - timedelta(seconds=1) <= parsed.occurred_at <= ended + timedelta(seconds=1)


async def test_a_failed_slice_is_resent_with_the_same_event_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("hypercare.entrypoints.simulator.runner.RETRY_DELAYS", (0.05,))
    api = FakeApi(fail_first=2)
    await run_simulation(
        base_url="http://api",
        token_source="hc_source",
        token_chief="hc_chief",
        speed=600,
        seed=5,
        duration=0.6,
        batch_seconds=0.2,
        transport=httpx.MockTransport(api),
    )
    assert api.attempts[0] and api.attempts[0] == api.attempts[1] == api.attempts[2]
    ids = [e["event_id"] for _, batch in api.requests for e in batch]
    assert ids[: len(api.attempts[0])] == api.attempts[0]
    assert len(ids) == len(set(ids))  # nothing after the resent slice is sent twice


async def test_a_refused_token_stops_the_run() -> None:
    with pytest.raises(SimulatorRejected):
        await run_simulation(
            base_url="http://api",
            token_source="bad",
            token_chief="bad",
            speed=600,
            seed=5,
            duration=2.0,
            batch_seconds=0.2,
            transport=httpx.MockTransport(FakeApi(status=401)),
        )


async def test_wait_for_api() -> None:
    await wait_for_api("http://api", 1.0, transport=httpx.MockTransport(FakeApi()))
    down = httpx.MockTransport(lambda request: httpx.Response(503))
    with pytest.raises(TimeoutError):
        await wait_for_api("http://api", 0.6, transport=down)


def test_api_base_url_turns_wildcard_binds_into_loopback() -> None:
    assert api_base_url(Settings(host="0.0.0.0", port=8123)) == "http://127.0.0.1:8123"
    assert api_base_url(Settings(host="::", port=8000)) == "http://[::1]:8000"
    assert api_base_url(Settings(host="hypercare.example", port=80)) == "http://hypercare.example:80"
