"""Body limits for every route through the real app: 413 before auth, 422 for deep JSON, never a 500."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.middleware.limits import nesting_exceeds

LIMIT = 5 * 1024 * 1024
ROUTES = [
    ("POST", "/api/v1/events"),
    ("POST", "/api/v1/known-issues"),
    ("POST", "/api/v1/reports"),
    ("POST", "/api/v1/stop-criteria/decisions"),
    ("GET", "/api/v1/situation"),
]


class RecordingProducer:
    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes | None, bytes]] = []

    async def send_all(self, messages: Any) -> None:
        self.sent.extend(messages)


def nested(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


@pytest.mark.parametrize(("method", "path"), ROUTES)
async def test_an_oversized_body_is_413_on_every_route_without_a_token(api: Any, method: str, path: str) -> None:
    async with api.client(None) as anonymous:
        response = await anonymous.request(
            method, path, content=b"[" + b" " * LIMIT + b"]", headers={"content-type": "application/json"}
        )
    assert response.status_code == 413
    assert response.json() == {"detail": f"body larger than {LIMIT} bytes"}  # ingest's reason, for every route


async def test_a_chunked_oversized_body_is_counted_and_refused(api: Any) -> None:
    async def chunks() -> Any:
        for _ in range(6):
            yield b" " * (1024 * 1024)

    async with api.client(None) as anonymous:
        response = await anonymous.post("/api/v1/events", content=chunks())
    assert response.status_code == 413
    assert "body larger than" in response.json()["detail"]


async def test_a_body_within_the_limit_reaches_the_route_and_its_auth(api: Any) -> None:
    async with api.client(None) as anonymous:
        assert (await anonymous.post("/api/v1/events", json=[])).status_code == 401


@pytest.mark.parametrize("path", ["/api/v1/events", "/api/v1/known-issues", "/api/v1/reports"])
async def test_deeply_nested_json_is_422_with_a_reason(api: Any, path: str) -> None:
    api.app.state.producer = RecordingProducer()
    for depth in (65, 5000, 200_000):
        for body in (nested(depth), "[" * depth + "]" * depth, "[" * depth):
            async with api.client("admin") as client:
                response = await client.post(path, content=body, headers={"content-type": "application/json"})
            assert response.status_code == 422, (path, depth, response.text[:200])
            assert "nested deeper than 64 levels" in response.json()["detail"]


async def test_ndjson_and_strings_with_brackets_are_not_too_deep(api: Any, ev: Any) -> None:
    producer = api.app.state.producer = RecordingProducer()
    now = datetime.now(UTC)
    event = ev("access.login", api.org.unit("A1W1"), now, user_ref="u1", outcome="success")
    deep_text = ev(
        "ticket.opened",
        api.org.unit("A1W1"),
        now,
        ticket_id="T1",
        channel="phone",
        category="orders",
        priority=2,
        summary='[[[[{{{{"\\' * 40,  # brackets, quotes and backslashes inside a string do not nest
    )
    lines = "\n".join(json.dumps(item) for item in [event, deep_text] * 50)
    async with api.client("source") as client:
        response = await client.post("/api/v1/events", content=lines, headers={"content-type": "application/x-ndjson"})
    assert response.status_code == 200, response.text
    assert response.json()["accepted"] == 100
    assert len(producer.sent) == 100
    # Nesting within the limit reaches the contract (an unknown field: rejected item); beyond it, 422 first.
    async with api.client("source") as client:
        response = await client.post("/api/v1/events", json={**event, "extra": json.loads(nested(63))})
    assert response.status_code == 422 and response.json()["rejected"][0]["index"] == 0
    async with api.client("source") as client:
        response = await client.post("/api/v1/events", json={**event, "extra": json.loads(nested(64))})
    assert response.status_code == 422 and "nested deeper" in response.json()["detail"]


def depth_of(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max((depth_of(item) for item in value), default=0)
    if isinstance(value, dict):
        return 1 + max((depth_of(item) for item in value.values()), default=0)
    return 0


TRICKY = '[]{}"\\ ab'  # brackets, quotes and backslashes inside strings must not count
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet=TRICKY),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(alphabet=TRICKY), children, max_size=3),
    max_leaves=40,
)


@given(value=json_values, limit=st.integers(min_value=1, max_value=12))
def test_nesting_check_agrees_with_the_parsed_depth(value: Any, limit: int) -> None:
    text = json.dumps(value).encode()
    assert nesting_exceeds(text, limit) == (depth_of(value) > limit)
    ndjson = b"\n".join([text, json.dumps([1, {"a": "]]]"}]).encode(), text])
    assert nesting_exceeds(ndjson, limit) == (max(depth_of(value), 2) > limit)
