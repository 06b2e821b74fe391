"""Stop criteria through the real pipeline: stored events move them; a go/no-go decision is stamped with them."""

from __future__ import annotations

import uuid
from typing import Any

from hc_testkit import Pipeline, event

WARD = "SE2321000131-ESASBOR230"


def p1_open(document: dict[str, Any]) -> int:
    return int(next(item for item in document["criteria"] if item["id"] == "open_p1_tickets")["value"])


async def test_a_rollout_decision_is_recorded_with_the_criteria_as_they_stood(pipeline: Pipeline) -> None:
    before = p1_open((await pipeline.get("/api/v1/stop-criteria", role="viewer")).json())
    ticket = event(
        "ticket.opened",
        WARD,
        1,
        ticket_id=f"GO-{uuid.uuid4().hex[:8]}",
        channel="phone",
        category="login",
        priority=1,
        summary="Kan inte logga in på avdelningen",
    )
    assert (await pipeline.post_events([ticket], role="source")).json()["accepted"] == 1
    now = await pipeline.wait_for("/api/v1/stop-criteria", lambda doc: p1_open(doc) == before + 1)
    assert now["overall"] in ("met", "not_met")

    decision = {
        "rollout_decision": "pause",
        "rationale": "Prio 1-ärenden ökar",
        "mandate": "Regional ledning",
        "owner": "Programledare",
    }
    async with pipeline.client("agent") as agent:
        assert (await agent.post("/api/v1/stop-criteria/decisions", json=decision)).status_code == 403
    async with pipeline.client("chief") as chief:
        refused = await chief.post("/api/v1/stop-criteria/decisions", json={**decision, "rollout_decision": "maybe"})
        assert refused.status_code == 422
        response = await chief.post("/api/v1/stop-criteria/decisions", json=decision)
    assert response.status_code == 200, response.text
    recorded = response.json()
    assert recorded["accepted"] == 1 and p1_open(recorded["stop_criteria"]) == before + 1

    log = await pipeline.wait_for(
        "/api/v1/decisions?limit=1000",
        lambda body: any(e["decision_id"] == recorded["decision_id"] for e in body["items"]),
    )
    entry = next(e for e in log["items"] if e["decision_id"] == recorded["decision_id"])
    assert (entry["rollout_decision"], entry["title"], entry["decided_by"]) == (
        "pause",
        "Införandet pausas",
        pipeline.names["chief"],
    )
    assert entry["stop_criteria"] == recorded["stop_criteria"]
    exported = await pipeline.get("/api/v1/decisions?format=csv")
    assert f"open_p1_tickets: {before + 1} / 5" in exported.text
