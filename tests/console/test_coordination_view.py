"""The coordination page in the browser: stop criteria with their numbers, duties with time left, flagged
risks; a chief records a pause decision stamped with the criteria, a viewer can only read."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from hc_testkit import Pipeline, event

REGION = "SE2321000131-R"
ED = "SE2321000131-ESASSKEAKM"


async def test_a_chief_sees_criteria_duties_and_risks_and_records_a_pause(
    open_page: Any, pipeline: Pipeline, artifacts: Path
) -> None:
    tag = uuid.uuid4().hex[:6]
    duty = event(
        "duty.opened",
        ED,
        30,
        duty_id=f"DU-{tag}",
        duty="nis_incident",
        trigger="decision",
        trigger_id=f"B-{tag}",
        description="Driftstörning i journalsystemet",
    )
    risk = event(
        "risk.recorded",
        REGION,
        5,
        risk_id=f"R-{tag}",
        title=f"Etikettskrivare {tag}",
        severity="high",
    )
    assert (await pipeline.post_events([duty, risk], role="chief")).json()["accepted"] == 2
    await pipeline.wait_for("/api/v1/risks", lambda body: any(r["risk_id"] == f"R-{tag}" for r in body["items"]))
    await pipeline.wait_for("/api/v1/duties", lambda body: any(d["duty_id"] == f"DU-{tag}" for d in body["items"]))

    chief = await open_page("chief", "#/coordination")
    await chief.get_by_role("heading", name="Stoppkriterier").wait_for()
    rows = chief.locator(".stop-table tbody tr")
    await rows.nth(3).wait_for()
    assert await rows.count() == 4
    p1 = chief.locator('tr[data-criterion="open_p1_tickets"]')
    assert "Öppna ärenden med prioritet 1" in await p1.inner_text()
    # Status in words that cannot be read backwards (never "Uppfyllt", which reads as "stop"), as the API says.
    criteria = (await pipeline.get("/api/v1/stop-criteria", role="chief")).json()["criteria"]
    state = next(c["state"] for c in criteria if c["id"] == "open_p1_tickets")
    words = {"within": "Inom gräns", "exceeded": "Överskriden – stopp", "not_assessed": "Ej bedömt"}[state]
    assert words in await p1.inner_text() and "ppfyllt" not in await p1.inner_text()

    duty_item = chief.locator(f'.duty[data-duty-id="DU-{tag}"]')
    await duty_item.wait_for(timeout=15000)
    text = await duty_item.inner_text()
    assert "MSB" in text and "kvar" in text
    left = int(await duty_item.locator(".duty-left").get_attribute("data-minutes-left") or "0")
    assert 320 <= left <= 330  # six hours from 30 minutes ago
    risk_item = chief.locator(f'.risk[data-risk-id="R-{tag}"]')
    await risk_item.wait_for(timeout=15000)
    assert "Saknar ägare" in await risk_item.inner_text() and "Saknar åtgärdsplan" in await risk_item.inner_text()
    await chief.screenshot(path=str(artifacts / "coordination.png"))

    await chief.get_by_role("button", name="Pausa").click()
    dialog = chief.locator("dialog[open]")
    await dialog.get_by_label("Motivering").fill(f"Prio 1-ärenden ökar {tag}")
    await dialog.get_by_label("Mandat").fill("Regional särskild sjukvårdsledning")
    await dialog.get_by_role("button", name="Spara i beslutsloggen").click()
    await chief.locator("dialog[open]").wait_for(state="detached")
    await chief.locator("#toast", has_text="är sparat i beslutsloggen").wait_for()

    log = await pipeline.wait_for(
        "/api/v1/decisions?limit=1000",
        lambda body: any(tag in e["rationale"] for e in body["items"]),
    )
    entry = next(e for e in log["items"] if tag in e["rationale"])
    assert (entry["rollout_decision"], entry["title"], entry["decided_by"]) == (
        "pause",
        "Införandet pausas",
        pipeline.names["chief"],
    )
    assert [c["id"] for c in entry["stop_criteria"]["criteria"]] == [
        "login_failure_rate",
        "open_p1_tickets",
        "diversion_hours",
        "patient_safety_tickets",
    ]

    # The flagged risk gets an owner and a plan: a new version, and the flags go.
    await risk_item.get_by_role("button", name="Uppdatera").click()
    dialog = chief.locator("dialog[open]")
    await dialog.get_by_label("Ägare").fill("IT-drift SÄS")
    await dialog.get_by_label("Åtgärdsplan").fill("Ny drivrutin rullas ut i kväll")
    await dialog.get_by_label("Status").select_option("mitigating")
    await dialog.get_by_role("button", name="Spara risken").click()
    await chief.locator("dialog[open]").wait_for(state="detached")
    await chief.locator(f'.risk[data-risk-id="R-{tag}"]', has_text="åtgärdas").wait_for(timeout=15000)
    assert await chief.locator(f'.risk[data-risk-id="R-{tag}"] [data-flag]').count() == 0

    # A new duty from the console; the test's first duty is reported and leaves the open list.
    await chief.get_by_role("button", name="Ny rapporteringsplikt").click()
    dialog = chief.locator("dialog[open]")
    await dialog.get_by_label("Plikt och myndighet").select_option("personal_data_breach")
    await dialog.get_by_label("Ärende- eller besluts-id").fill(f"T-{tag}")
    await dialog.get_by_label("Beskrivning").fill(f"Journalkopia till fel mottagare {tag}")
    await dialog.get_by_role("button", name="Öppna plikten").click()
    await chief.locator("dialog[open]").wait_for(state="detached")
    imy = chief.locator(".duty", has_text=f"Journalkopia till fel mottagare {tag}")
    await imy.wait_for(timeout=15000)
    assert "IMY" in await imy.inner_text() and "71 h" in await imy.inner_text()
    await duty_item.get_by_role("button", name="Rapporterad").click()
    dialog = chief.locator("dialog[open]")
    await dialog.get_by_label("Myndighetens diarienummer").fill(f"MSB-{tag}")
    await dialog.get_by_role("button", name="Rapporterad").click()
    await chief.locator(f'.duty[data-duty-id="DU-{tag}"]').wait_for(state="detached", timeout=15000)
    fulfilled = (await pipeline.get("/api/v1/duties?status=fulfilled")).json()["items"]
    assert [d["reference"] for d in fulfilled if d["duty_id"] == f"DU-{tag}"] == [f"MSB-{tag}"]

    viewer = await open_page("viewer", "#/coordination")
    await viewer.locator(".stop-table tbody tr").nth(3).wait_for()
    assert await viewer.locator("[data-rollout]").count() == 0
    assert await viewer.get_by_role("button", name="Ny risk").count() == 0
    assert await viewer.locator('[data-action="fulfil-duty"], [data-action="update-risk"]').count() == 0
    await viewer.locator(".duty", has_text=f"Journalkopia till fel mottagare {tag}").wait_for()
