"""Risks and reporting duties end to end: recorded as events by chiefs, read back with flags and deadlines."""

from __future__ import annotations



from hc_testkit import Pipeline, event

REGION = "SE2321000131-R"
ED = "SE2321000131-ESASBORAKM"


async def test_risks_and_duties_round_trip(pipeline: Pipeline) -> None:
    risk = event("risk.recorded", REGION, 20, risk_id="R-1", title="Inloggning via SITHS-kort faller",
                 severity="high", recorded_by="produktionschef-sas")
    update = event("risk.recorded", REGION, 5, risk_id="R-1", title="Inloggning via SITHS-kort faller",
                   severity="high", owner="IT-drift", mitigation="Reservinloggning med engångskod",
                   status="mitigating", recorded_by="produktionschef-sas")
    orphan = event("risk.recorded", REGION, 5, risk_id="R-2", title="Etikettskrivare saknar drivrutin",
                   recorded_by="produktionschef-sas")
    duty = event("duty.opened", ED, 30, duty_id="DU-1", duty="lex_maria", trigger="ticket", trigger_id="T-9",
                 description="Fördröjd läkemedelsordination", opened_by="produktionschef-sas")
    imy = event("duty.opened", ED, 10, duty_id="DU-2", duty="personal_data_breach", trigger="decision",
                trigger_id="B-4", opened_by="produktionschef-sas")
    done = event("duty.fulfilled", ED, 1, duty_id="DU-2", reference="IMY-DI-2024-1", fulfilled_by="dataskyddsombud")

    refused = await pipeline.post_events([risk, duty], role="agent")
    assert refused.status_code == 422 and len(refused.json()["rejected"]) == 2
    assert (await pipeline.post_events([risk, update, orphan, duty, imy, done], role="chief")).json()["accepted"] == 6

    risks = await pipeline.wait_for("/api/v1/risks", lambda body: body["count"] == 2)
    by_id = {r["risk_id"]: r for r in risks["items"]}
    assert by_id["R-1"]["status"] == "mitigating" and by_id["R-1"]["flags"] == [] and by_id["R-1"]["versions"] == 2
    assert by_id["R-2"]["flags"] == ["no_owner", "no_mitigation"]
    assert risks["flagged"] == 1
    assert [r["risk_id"] for r in (await pipeline.get("/api/v1/risks?flagged=true")).json()["items"]] == ["R-2"]
    history = (await pipeline.get("/api/v1/risks/R-1", role="viewer")).json()["history"]
    assert [v["status"] for v in history] == ["open", "mitigating"]
    assert (await pipeline.get("/api/v1/risks/R-404")).status_code == 404

    duties = await pipeline.wait_for("/api/v1/duties", lambda body: body["count"] == 2)
    first, second = duties["items"]
    assert (first["duty_id"], first["status"], first["authority"].split()[0]) == ("DU-1", "open", "IVO")
    assert 60 * 24 * 60 - 31 <= first["minutes_left"] <= 60 * 24 * 60 - 29  # two months from 30 minutes ago
    assert (second["duty_id"], second["status"], second["reference"]) == ("DU-2", "fulfilled", "IMY-DI-2024-1")
    open_only = (await pipeline.get("/api/v1/duties?status=open")).json()
    assert [d["duty_id"] for d in open_only["items"]] == ["DU-1"]
