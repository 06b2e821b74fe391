"""Risks and reporting duties end to end: recorded as events by chiefs, read back with flags and deadlines."""

from __future__ import annotations

import uuid
from typing import Any

from hc_testkit import Pipeline, event

REGION = "SE2321000131-R"
ED = "SE2321000131-ESASBORAKM"


async def test_risks_and_duties_round_trip(pipeline: Pipeline) -> None:
    # The database is shared with other tests: ids carry a run tag and every listing is narrowed to ours.
    tag = uuid.uuid4().hex[:8]
    r1, r2, du1, du2 = (f"{name}-{tag}" for name in ("R-1", "R-2", "DU-1", "DU-2"))

    def ours(body: dict[str, Any], key: str) -> list[dict[str, Any]]:
        return [item for item in body["items"] if item[key].endswith(tag)]

    risk = event(
        "risk.recorded",
        REGION,
        20,
        risk_id=r1,
        title="Inloggning via SITHS-kort faller",
        severity="high",
    )
    update = event(
        "risk.recorded",
        REGION,
        5,
        risk_id=r1,
        title="Inloggning via SITHS-kort faller",
        severity="high",
        owner="IT-drift",
        mitigation="Reservinloggning med engångskod",
        status="mitigating",
    )
    orphan = event(
        "risk.recorded",
        REGION,
        5,
        risk_id=r2,
        title="Etikettskrivare saknar drivrutin",
    )
    duty = event(
        "duty.opened",
        ED,
        30,
        duty_id=du1,
        duty="lex_maria",
        trigger="ticket",
        trigger_id="T-9",
        description="Fördröjd läkemedelsordination",
    )
    imy = event(
        "duty.opened",
        ED,
        10,
        duty_id=du2,
        duty="personal_data_breach",
        trigger="decision",
        trigger_id="B-4",
    )
    done = event("duty.fulfilled", ED, 1, duty_id=du2, reference="IMY-DI-2024-1")

    refused = await pipeline.post_events([risk, duty], role="agent")
    assert refused.status_code == 403 and len(refused.json()["rejected"]) == 2
    assert (await pipeline.post_events([risk, update, orphan, duty, imy, done], role="chief")).json()["accepted"] == 6

    risks = await pipeline.wait_for("/api/v1/risks", lambda body: len(ours(body, "risk_id")) == 2)
    by_id = {r["risk_id"]: r for r in ours(risks, "risk_id")}
    assert by_id[r1]["status"] == "mitigating" and by_id[r1]["flags"] == [] and by_id[r1]["versions"] == 2
    assert by_id[r2]["flags"] == ["no_owner", "no_mitigation"]
    flagged = (await pipeline.get("/api/v1/risks?flagged=true")).json()
    assert [r["risk_id"] for r in ours(flagged, "risk_id")] == [r2]
    assert flagged["flagged"] == flagged["count"]
    history = (await pipeline.get(f"/api/v1/risks/{r1}", role="viewer")).json()["history"]
    assert [v["status"] for v in history] == ["open", "mitigating"]
    assert (await pipeline.get("/api/v1/risks/R-404")).status_code == 404

    duties = await pipeline.wait_for("/api/v1/duties", lambda body: len(ours(body, "duty_id")) == 2)
    first, second = ours(duties, "duty_id")
    assert (first["duty_id"], first["status"], first["authority"].split()[0]) == (du1, "open", "IVO")
    assert 60 * 24 * 60 - 31 <= first["minutes_left"] <= 60 * 24 * 60 - 29  # two months from 30 minutes ago
    assert (second["duty_id"], second["status"], second["reference"]) == (du2, "fulfilled", "IMY-DI-2024-1")
    open_only = (await pipeline.get("/api/v1/duties?status=open")).json()
    assert [d["duty_id"] for d in ours(open_only, "duty_id")] == [du1]
