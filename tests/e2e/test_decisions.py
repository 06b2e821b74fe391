"""The decision log end to end: decisions are events, searchable, immutable, correctable; overdue diversions flagged."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from hc_testkit import Pipeline, event

REGION = "SE2321000131-R"
ED = "SE2321000131-ESASBORAKM"
WARD = "SE2321000131-ESASBOR240"
RECEIVING = "SE2321000131-ESUSAHAKM"


def decision(decision_id: str, minutes_ago: float, unit_id: str = REGION, **fields: Any) -> dict[str, Any]:
    return event("decision.recorded", unit_id, minutes_ago, decision_id=decision_id, **fields)


async def test_decisions_are_found_by_text_date_and_unit_and_corrections_leave_the_original(
    pipeline: Pipeline,
) -> None:
    # The database is shared with other tests: ids carry a run suffix and every listing is narrowed to ours.
    run = uuid.uuid4().hex[:8]
    mine = {f"{name}-{run}": name for name in ("B-1", "B-2", "B-3", "D-7")}

    def ours(listing: dict[str, Any]) -> list[str]:
        return [mine[entry["decision_id"]] for entry in listing["items"] if entry["decision_id"] in mine]

    pause = decision(
        f"B-1-{run}",
        90,
        title="Pausa införandet",
        decision="Pausa vågen till fredag",
        rationale="Inloggningsfel över 25 % i två timmar",
        mandate="Särskild sjukvårdsledning",
        owner="Driftchef SÄS",
        affected_unit_ids=[WARD],
        follow_up_at=(datetime.now(UTC) + timedelta(days=1)).isoformat(),
    )
    staffing = decision(
        f"B-2-{run}",
        30,
        unit_id=WARD,
        title="Fler floor walkers på avd 240",
        decision="Två extra floor walkers nattetid",
        owner="FW-samordnare",
    )
    correction = decision(
        f"B-3-{run}",
        10,
        title="Pausa införandet (rättelse)",
        decision="Pausa vågen till måndag",
        corrects=f"B-1-{run}",
        owner="Driftchef SÄS",
    )
    diversion = event(
        "ed.diversion_started",
        ED,
        5,
        diversion_id=f"D-7-{run}",
        to_unit_ids=[RECEIVING],
        scope="ambulance",
        reason="Överbeläggning",
    )
    response = await pipeline.post_events([pause, staffing, correction, diversion], role="chief")
    assert response.json() == {"accepted": 4, "rejected": []}

    everything = await pipeline.wait_for("/api/v1/decisions?limit=1000", lambda body: len(ours(body)) == 4)
    assert ours(everything) == ["D-7", "B-3", "B-2", "B-1"]

    found = (await pipeline.get("/api/v1/decisions?q=floor+WALKERS", role="viewer")).json()
    assert ours(found) == ["B-2"]
    since = (datetime.now(UTC) - timedelta(minutes=60)).isoformat().replace("+00:00", "Z")
    until = (datetime.now(UTC) - timedelta(minutes=8)).isoformat().replace("+00:00", "Z")
    window = (await pipeline.get(f"/api/v1/decisions?from={since}&to={until}")).json()
    assert ours(window) == ["B-3", "B-2"]
    at_ward = (await pipeline.get(f"/api/v1/decisions?unit_id={WARD}")).json()
    assert ours(at_ward) == ["B-2", "B-1"]
    at_receiving = (await pipeline.get(f"/api/v1/decisions?unit_id={RECEIVING}")).json()
    assert ours(at_receiving) == ["D-7"]
    by_owner = (await pipeline.get("/api/v1/decisions?owner=driftchef")).json()
    assert ours(by_owner) == ["B-3", "B-1"]

    original = next(entry for entry in everything["items"] if entry["decision_id"] == f"B-1-{run}")
    assert original["decision"] == "Pausa vågen till fredag"
    assert original["corrected_by"] == [f"B-3-{run}"]
    assert original["mandate"] == "Särskild sjukvårdsledning"
    assert next(e for e in everything["items"] if e["decision_id"] == f"B-3-{run}")["corrects"] == f"B-1-{run}"
    assert next(e for e in everything["items"] if e["decision_id"] == f"D-7-{run}")["title"].startswith(
        "Hänvisning startad"
    )

    # A resent entry does not change the log; the CSV export has every entry.
    await pipeline.post_events([pause], role="chief")
    await pipeline.post_events([event("access.login", WARD, user_ref="marker", outcome="success")])
    await pipeline.wait_for(f"/api/v1/units/{WARD}", lambda unit: unit["access"]["logins_15m"] == 1)
    exported = await pipeline.get("/api/v1/decisions?format=csv")
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert sorted(mine[row["decision_id"]] for row in rows if row["decision_id"] in mine) == [
        "B-1",
        "B-2",
        "B-3",
        "D-7",
    ]


async def test_only_chiefs_and_admins_record_decisions_and_overdue_diversions_are_flagged(pipeline: Pipeline) -> None:
    # Named as the admin who records it (a person records as themself); the others are refused for their role.
    entry = decision("B-9", 1, title="Test", decision="Test", decided_by=pipeline.names["admin"])
    for role in ("source", "agent", "floorwalker"):
        refused = await pipeline.post_events([entry], role=role)
        assert refused.status_code == 403
        assert "chief or admin" in refused.json()["rejected"][0]["reason"]
    assert (await pipeline.post_events([entry], role="viewer")).status_code == 403
    assert (await pipeline.post_events([entry], role="admin")).json()["accepted"] == 1

    expected_end = (datetime.now(UTC) - timedelta(minutes=3)).isoformat()
    overdue = event(
        "ed.diversion_started",
        ED,
        60,
        diversion_id="D-8",
        to_unit_ids=[RECEIVING],
        scope="all",
        reason="Driftstörning",
        expected_end=expected_end,
    )
    assert (await pipeline.post_events([overdue], role="chief")).json()["accepted"] == 1
    unit = await pipeline.wait_for(f"/api/v1/units/{ED}", lambda u: u["ed"]["diversion"] is not None)
    assert unit["ed"]["diversion"]["review_overdue"] is True
    assert unit["ed"]["diversion"]["overdue_minutes"] >= 3
    renewal = {
        **overdue,
        "event_id": overdue["event_id"] + "-r",
        "occurred_at": datetime.now(UTC).isoformat(),
        "expected_end": (datetime.now(UTC) + timedelta(hours=2)).isoformat(),
    }
    assert (await pipeline.post_events([renewal], role="chief")).json()["accepted"] == 1
    unit = await pipeline.wait_for(f"/api/v1/units/{ED}", lambda u: u["ed"]["diversion"]["review_overdue"] is False)
    # A renewal amends the diversion and keeps when it started.
    assert datetime.fromisoformat(unit["ed"]["diversion"]["since"]) == datetime.fromisoformat(overdue["occurred_at"])


async def test_a_circular_diversion_is_refused_with_the_reason_and_goes_through_with_an_override(
    pipeline: Pipeline,
) -> None:
    """The API checks a diversion against the live picture it holds: Kungälv → Skövde while Skövde diverts to
    Kungälv is refused with the path; with an override reason it is accepted and the reason is in the log."""
    run = uuid.uuid4().hex[:8]
    kungalv, skovde = "SE2321000131-ESIVKUNAKM", "SE2321000131-ESKASSKOAKM"

    def diversion(unit_id: str, to: str, name: str, **fields: Any) -> dict[str, Any]:
        return event(
            "ed.diversion_started",
            unit_id,
            1,
            diversion_id=f"{name}-{run}",
            to_unit_ids=[to],
            scope="ambulance",
            reason="Överbeläggning",
            **fields,
        )

    assert (await pipeline.post_events([diversion(skovde, kungalv, "S")], role="chief")).json()["accepted"] == 1
    await pipeline.wait_for(f"/api/v1/units/{skovde}", lambda u: u["ed"]["diversion"] is not None)

    refused = await pipeline.post_events([diversion(kungalv, skovde, "K")], role="chief")
    assert refused.status_code == 422
    assert refused.json()["rejected"][0]["reason"] == (
        f"to_unit_ids: {skovde} (Akutmottagning Skövde) is itself diverting to {kungalv} (Akutmottagning Kungälv); "
        "a diversion there would send patients back and forth (give override_reason to divert anyway)"
    )
    overridden = diversion(kungalv, skovde, "K", override_reason="Skövde tar bara traumalarm, enligt TiB")
    assert (await pipeline.post_events([overridden], role="chief")).json() == {"accepted": 1, "rejected": []}

    log = await pipeline.wait_for(
        "/api/v1/decisions?limit=1000", lambda body: any(e["decision_id"] == f"K-{run}" for e in body["items"])
    )
    entry = next(e for e in log["items"] if e["decision_id"] == f"K-{run}")
    assert entry["override_reason"] == "Skövde tar bara traumalarm, enligt TiB"
    assert entry["rationale"].endswith("Skövde tar bara traumalarm, enligt TiB")
    unit = await pipeline.wait_for(f"/api/v1/units/{kungalv}", lambda u: u["ed"]["diversion"] is not None)
    assert unit["ed"]["diversion"]["to_unit_ids"] == [skovde]
    ends = [
        event("ed.diversion_ended", unit_id, 0, diversion_id=f"{name}-{run}")
        for unit_id, name in ((skovde, "S"), (kungalv, "K"))
    ]
    assert (await pipeline.post_events(ends, role="chief")).json()["accepted"] == 2
