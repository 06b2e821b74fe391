"""The ingest API's answers against their response models (the broker replaced by a recording producer),
the quarantine listing, and the OpenAPI document."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from hypercare.storage.quarantine import QuarantineRow, add_quarantined, list_quarantined
from services.ingest.schemas import IngestResponse, QuarantinedItem, QuarantinePage


class RecordingProducer:
    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes | None, bytes]] = []

    async def send_all(self, messages: Sequence[tuple[str, bytes | None, bytes]]) -> None:
        self.sent.extend(messages)


async def post(api: Any, body: Any, role: str = "source") -> Any:
    async with api.client(role) as client:
        return await client.post("/api/v1/events", json=body)


async def test_a_partly_rejected_batch_answers_in_the_documented_shape(api: Any, ev: Any) -> None:
    producer = api.app.state.producer = RecordingProducer()
    good = ev("access.login", api.org.unit("A1W1"), datetime.now(UTC), user_ref="u1", outcome="success")
    response = await post(api, [good, {"type": "access.login"}, {**good, "event_id": "bad-1", "outcome": "maybe"}])
    assert response.status_code == 200
    body = response.json()
    assert IngestResponse.model_validate(body).model_dump(exclude_none=True) == body
    assert body["accepted"] == 1
    assert [item["index"] for item in body["rejected"]] == [1, 2]
    assert "event_id" not in body["rejected"][0]  # absent, not null, when the item had none (as before)
    assert body["rejected"][1]["event_id"] == "bad-1"
    assert len([m for m in producer.sent if m[0].endswith(".events.access")]) == 1


async def test_every_item_refused_for_its_sender_is_403_with_the_reasons(api: Any, ev: Any) -> None:
    api.app.state.producer = RecordingProducer()
    now = datetime.now(UTC)
    ticket = ev(
        "ticket.opened", api.org.unit("A1W1"), now, ticket_id="T1", channel="phone", category="login", priority=2
    )
    risk = ev("risk.recorded", api.org.unit("A1W1"), now, risk_id="R1", title="Risk")
    refused = await post(api, [ticket, risk], role="floorwalker")
    assert refused.status_code == 403
    assert [r["reason"] for r in refused.json()["rejected"]] == [
        "type: role 'floorwalker' may not submit ticket.opened (allowed: floorwalkers)",
        "type: role 'floorwalker' may not submit risk.recorded (needs chief or admin)",
    ]
    # One of them refused for what it says: the batch is unprocessable, not forbidden.
    mixed = await post(api, [ticket, {"event_id": "x"}], role="floorwalker")
    assert mixed.status_code == 422 and len(mixed.json()["rejected"]) == 2


async def test_every_item_rejected_is_422_with_the_same_shape(api: Any) -> None:
    api.app.state.producer = RecordingProducer()
    response = await post(api, [{"event_id": "x"}, {"event_id": "y", "type": "nope"}])
    assert response.status_code == 422
    body = response.json()
    assert IngestResponse.model_validate(body).model_dump(exclude_none=True) == body
    assert body["accepted"] == 0 and [r["event_id"] for r in body["rejected"]] == ["x", "y"]


async def test_auth_of_ingest_is_unchanged(api: Any) -> None:
    api.app.state.producer = RecordingProducer()
    async with api.client(None) as anonymous:
        assert (await anonymous.post("/api/v1/events", json=[])).status_code == 401
    assert (await post(api, [], role="viewer")).status_code == 403
    assert (await api.get("/api/v1/quarantine", role="chief")).status_code == 403


async def test_quarantine_listing_validates_and_matches_the_store(api: Any) -> None:
    await add_quarantined(
        api.db,
        items=[
            QuarantineRow(stage="ingest", reason=f"r-{api.org.tag}", raw="{}", item_index=0, submitted_by="src"),
            QuarantineRow(
                stage="stream", reason=f"s-{api.org.tag}", raw="x", src_topic="t", src_partition=1, src_offset=9
            ),
        ],
    )
    stored = await list_quarantined(api.db, limit=5)
    # Every column the store lists is a field of the model, and back (the response model drops unknown keys).
    assert all(set(item) == set(QuarantinedItem.model_fields) for item in stored)
    response = await api.get("/api/v1/quarantine", role="admin", limit=5)
    assert response.status_code == 200
    body = response.json()
    assert QuarantinePage.model_validate(body).model_dump() == body
    assert body["items"] == stored  # unchanged on the way out, times included
    assert body["total"] >= 2
    streamed = (await api.get("/api/v1/quarantine", role="admin", stage="stream", limit=1)).json()["items"][0]
    assert (streamed["stage"], streamed["src_offset"], streamed["item_index"]) == ("stream", 9, None)


async def test_openapi_shows_the_ingest_models(api: Any) -> None:
    async with api.client(None) as client:
        document = (await client.get("/openapi.json")).json()
    events = document["paths"]["/api/v1/events"]["post"]["responses"]
    for code in ("200", "422"):
        assert events[code]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/IngestResponse"}
    quarantine = document["paths"]["/api/v1/quarantine"]["get"]["responses"]["200"]["content"]["application/json"]
    assert quarantine["schema"] == {"$ref": "#/components/schemas/QuarantinePage"}
    rejected = document["components"]["schemas"]["RejectedItem"]
    assert set(rejected["required"]) == {"index", "reason"} and "event_id" in rejected["properties"]


async def test_control_characters_and_lone_surrogates_are_refused_and_quarantined_escaped(api: Any, ev: Any) -> None:
    producer = api.app.state.producer = RecordingProducer()
    unit = api.org.unit("A1W1")
    nul = ev("ticket.opened", unit, datetime.now(UTC), ticket_id="T1", channel="phone", category="login", priority=2)
    nul["summary"] = f"nul \u0000 here {api.org.tag}"
    surrogate = {**nul, "event_id": f"e-\ud800-{api.org.tag}", "summary": "ok"}
    async with api.client("source") as client:
        # json.dumps escapes both (\u0000, \ud800): httpx's own encoder could not send a lone surrogate as UTF-8.
        response = await client.post(
            "/api/v1/events", content=json.dumps([nul, surrogate]), headers={"Content-Type": "application/json"}
        )
    assert response.status_code == 422
    reasons = [item["reason"] for item in response.json()["rejected"]]
    assert reasons == ["summary: contains a control character (U+0000)", "event_id: contains a lone surrogate (U+D800)"]
    assert response.json()["rejected"][1]["event_id"] == f"e-\\ud800-{api.org.tag}"
    quarantined = [item for item in await list_quarantined(api.db, limit=50) if api.org.tag in item["raw"]]
    assert len(quarantined) == 2
    assert all("\u0000" not in item["raw"] and "\ud800" not in item["raw"] for item in quarantined)
    assert any(f"nul \\u0000 here {api.org.tag}" in item["raw"] for item in quarantined)
    assert all(topic.endswith("quarantine") for topic, _, _ in producer.sent)
