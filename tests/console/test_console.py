"""The web console in a real browser against the real pipeline (see conftest.py)."""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from hc_testkit import Pipeline, event
from page_poll import until

from hypercare.org.registry import load_org
from hypercare.storage.db import Database
from services.auth.tokens import issue_token

STOCKHOLM = ZoneInfo("Europe/Stockholm")
LIVE_UNIT = "SE2321000131-ESASBOR210"  # Avdelning 210 Kirurgi, Borås
DRILL_UNIT = "SE2321000131-ESASBOR220"  # Avdelning 220 Ortopedi, Borås
TABLET_UNIT = "SE2321000131-ENHSVENLJ"  # Närhälsan Svenljunga vårdcentral
XSS_UNIT = "SE2321000131-ERHUMBOR"  # Ungdomsmottagning Borås
DIVERTING_ED = "SE2321000131-ESKASSKOAKM"  # Akutmottagning Skövde
RECEIVING_EDS = ("SE2321000131-ENUNALAKM", "SE2321000131-ESIVALIAKM")  # NÄL, Alingsås
ALERT_UNIT = "SE2321000131-ESASBORHIA"  # Hjärtintensivavdelning (HIA) Borås


def text_of(value: str) -> str:
    return re.sub(r"\s+", " ", value.replace("\u00a0", " ").replace("\u202f", " ")).strip()


async def metric(page: Any, name: str) -> str:
    return text_of(await page.locator(f'[data-metric="{name}"]').first.inner_text())


async def test_sign_in_with_a_pasted_token_shows_the_views_of_the_role_and_signs_out(
    browser: Any, pipeline: Pipeline
) -> None:
    context = await browser.new_context(viewport={"width": 1366, "height": 768}, base_url=pipeline.base_url)
    try:
        page = await context.new_page()
        await page.goto("/")  # redirects to /console/
        await page.get_by_role("heading", name="Logga in").wait_for()
        await page.get_by_label("Nyckel (token)").fill("hc_not-a-real-token")
        await page.get_by_role("button", name="Logga in").click()
        await page.get_by_text("Nyckeln godtogs inte").wait_for()

        await page.get_by_label("Nyckel (token)").fill(pipeline.tokens["agent"])
        await page.get_by_role("button", name="Logga in").click()
        await page.get_by_role("heading", name="Ärendeflöde").wait_for()
        nav = [text_of(t) for t in await page.locator("#nav a").all_inner_texts()]
        assert nav == ["Servicedesk", "Lägesbild", "Beslutslogg"]
        assert await page.evaluate("sessionStorage.getItem('hc.token')") == pipeline.tokens["agent"]
        await page.goto("/console/#/tablet")  # not an agent's view: sent home
        await page.get_by_role("heading", name="Ärendeflöde").wait_for()
        await page.reload()
        await page.get_by_role("heading", name="Ärendeflöde").wait_for()
        await page.keyboard.press("Tab")  # the first stop is the skip link
        assert await page.evaluate("document.activeElement.className") == "skip-link"
        await page.keyboard.press("Enter")
        assert await page.evaluate("document.activeElement.id") == "main"

        await page.get_by_role("button", name="English").click()
        await page.get_by_role("heading", name="Ticket flow").wait_for()
        await page.reload()
        await page.get_by_role("heading", name="Ticket flow").wait_for()  # the choice is remembered
        await page.get_by_role("button", name="Svenska").click()

        await page.get_by_role("button", name="Logga ut").click()
        await page.get_by_role("heading", name="Logga in").wait_for()
        assert await page.evaluate("sessionStorage.getItem('hc.token')") is None
    finally:
        await context.close()


async def test_an_event_posted_to_the_api_shows_in_an_open_console_within_two_seconds(
    open_page: Any, pipeline: Pipeline
) -> None:
    page = await open_page("viewer", f"#/console/unit/{LIVE_UNIT}")
    await page.get_by_role("heading", name="Avdelning 210 Kirurgi").wait_for()
    assert await metric(page, "tickets.open") == "0"
    await page.evaluate("window.__notReloaded = true")

    posted = event(
        "ticket.opened",
        LIVE_UNIT,
        ticket_id=f"L-{uuid.uuid4().hex[:6]}",
        channel="phone",
        category="printing",
        priority=1,
        summary="Etikettskrivaren skriver inte ut",
    )
    started = time.monotonic()
    response = await pipeline.post_events([posted])
    assert response.json()["accepted"] == 1
    await page.locator('[data-metric="tickets.open"]', has_text=re.compile(r"^1$")).wait_for(timeout=2000)
    elapsed = time.monotonic() - started
    assert elapsed < 2.0, elapsed
    assert await page.evaluate("window.__notReloaded") is True
    # The P1 ticket makes the unit yellow, shown with text, not colour alone.
    await page.locator(".node-status .badge", has_text="Gul").wait_for(timeout=2000)


async def test_drill_down_from_the_region_to_a_unit_shows_its_exact_figures(open_page: Any, pipeline: Pipeline) -> None:
    tag = uuid.uuid4().hex[:6]
    events = [
        event(
            "access.login",
            DRILL_UNIT,
            3,
            user_ref=f"d{i}",
            outcome="failure" if i < 5 else "success",
            **({"reason": "card_error"} if i < 5 else {}),
        )
        for i in range(20)
    ]
    events += [
        event("ticket.opened", DRILL_UNIT, 30, ticket_id=f"D1-{tag}", channel="phone", category="login", priority=1),
        event("ticket.opened", DRILL_UNIT, 20, ticket_id=f"D2-{tag}", channel="chat", category="orders", priority=3),
        *[
            event("access.permission_denied", DRILL_UNIT, 5, user_ref=f"p{i}", role="lakare", module="orders")
            for i in range(3)
        ],
        event("floorwalker.checkin", DRILL_UNIT, 1, walker_id=f"fw-drill-{tag}", status="on_unit"),
    ]
    assert (await pipeline.post_events(events)).json()["accepted"] == len(events)
    unit = await pipeline.wait_for(
        f"/api/v1/units/{DRILL_UNIT}",
        lambda u: u["floorwalkers"]["on_unit"] == 1 and u["access"]["logins_15m"] == 20 and u["tickets"]["open"] == 2,
    )

    page = await open_page("chief", "#/console")
    await page.get_by_role("heading", name="Västra Götalandsregionen").wait_for()
    children = page.locator(".children")
    await children.get_by_role("link", name="Södra Älvsborgs Sjukhus", exact=True).click()
    await page.get_by_role("heading", name="Södra Älvsborgs Sjukhus").wait_for()
    await children.get_by_role("link", name="Borås", exact=True).click()
    await page.get_by_role("heading", name="Borås", exact=True).wait_for()
    await children.get_by_role("link", name="Avdelning 220 Ortopedi").click()
    await page.get_by_role("heading", name="Avdelning 220 Ortopedi").wait_for()
    assert page.url.endswith(f"#/console/unit/{DRILL_UNIT}")
    crumbs = [text_of(text) for text in await page.locator(".breadcrumb li").all_inner_texts()]
    assert crumbs == ["Västra Götalandsregionen", "Södra Älvsborgs Sjukhus", "Borås", "Avdelning 220 Ortopedi"]

    assert await metric(page, "tickets.open") == str(unit["tickets"]["open"]) == "2"
    open_sub = text_of(await page.locator('[data-tile="tickets.open"] .tile-sub').inner_text())
    assert open_sub == "P1 1 · P2 0 · P3 1 · P4 0"
    assert await metric(page, "access.login_failure_rate_15m") == "25 %"
    assert unit["access"]["login_failure_rate_15m"] == 0.25
    failures_sub = text_of(await page.locator('[data-tile="access.login_failure_rate_15m"] .tile-sub').inner_text())
    assert failures_sub.startswith("5 av 20")
    assert await metric(page, "access.permission_denied_1h") == str(unit["access"]["permission_denied_1h"]) == "3"
    assert await metric(page, "floorwalkers.on_unit") == "1"
    assert await metric(page, "floorwalkers.minutes_since_last_visit") == "0 min"
    # Status as icon + text, reasons as text.
    assert (
        text_of(await page.locator(".node-status .badge").inner_text())
        == {"green": "Grön", "yellow": "Gul", "red": "Röd"}[unit["health"]["status"]]
    )
    for reason in unit["health"]["reasons"]:
        await page.locator(".reason-list li", has_text=reason).wait_for()
    # Keyboard: back up the breadcrumb with Enter on a focused link.
    await page.locator(".breadcrumb a", has_text="Borås").focus()
    await page.keyboard.press("Enter")
    await page.get_by_role("heading", name="Borås", exact=True).wait_for()


async def test_drilling_down_changes_the_subscription_and_the_server_sends_the_new_subtree(
    open_page: Any, pipeline: Pipeline
) -> None:
    org = load_org()
    sas = next(a for a in org.administrations if a.name == "Södra Älvsborgs Sjukhus")
    boras = next(s for s in sas.sites if s.name == "Borås")
    eds = {p.unit_id for p in org.emergency_departments}
    page = await open_page("chief", "#/console")
    sent: list[dict[str, Any]] = []
    received: list[dict[str, Any]] = []

    def watch(socket: Any) -> None:
        socket.on("framesent", lambda payload: sent.append(json.loads(payload)))
        socket.on("framereceived", lambda payload: received.append(json.loads(payload)))

    page.on("websocket", watch)
    await page.reload()  # a new socket, watched from its first frame
    await page.get_by_role("heading", name="Västra Götalandsregionen").wait_for()

    async def answer(scopes: list[str], kind: str) -> dict[str, Any]:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            found = [m for m in received if m["type"] == kind and m.get("scopes") == sorted(scopes)]
            if found:
                return found[-1]
            await asyncio.sleep(0.05)
        raise AssertionError(f"no {kind} for {scopes}: sent {sent}")

    # The overview subscribes in its first message: the region, its administrations and the EDs, nothing else.
    overview = ["emergency_departments", "region"]
    assert sent[0]["type"] == "auth" and sent[0]["scopes"] == overview
    picture = (await answer(overview, "snapshot"))["picture"]
    assert set(picture["administrations"]) == {a.id for a in org.administrations}
    assert picture["sites"] == {} and set(picture["units"]) == eds

    # Drilling into an administration subscribes to it: its sites and units arrive whole.
    await page.locator(".children").get_by_role("link", name=sas.name, exact=True).click()
    await page.get_by_role("heading", name=sas.name).wait_for()
    patch = (await answer([*overview, sas.id], "subscribed"))["patch"]
    assert {"type": "subscribe", "scopes": sorted([*overview, sas.id])} in sent
    assert set(patch["sites"]) == {s.id for s in sas.sites}
    assert set(patch["units"]) - eds == {u.id for s in sas.sites for u in s.units} - eds  # (+ pending ED changes)
    assert all(site is not None and site["name"] for site in patch["sites"].values())

    # On to a site: the administration's other sites and their units go (null), the site stays.
    await page.locator(".children").get_by_role("link", name=boras.name, exact=True).click()
    await page.get_by_role("heading", name=boras.name, exact=True).wait_for()
    patch = (await answer([*overview, boras.id], "subscribed"))["patch"]
    others = [s for s in sas.sites if s.id != boras.id]
    assert {key for key, value in patch["sites"].items() if value is None} == {s.id for s in others}
    assert {key for key, value in patch["units"].items() if value is None} == {
        u.id for s in others for u in s.units if u.id not in eds
    }
    await page.locator(".children").get_by_role("link", name="Avdelning 220 Ortopedi").wait_for()


async def test_a_chief_declares_a_diversion_and_acknowledges_an_alert_a_viewer_sees_both_and_can_do_neither(
    open_page: Any, pipeline: Pipeline
) -> None:
    chief = await open_page("chief", "#/console")
    viewer = await open_page("viewer", "#/console")
    assert await viewer.locator('[data-action="declare-diversion"]').count() == 0

    await chief.get_by_role("button", name="Hänvisa", exact=True).click()
    dialog = chief.locator("dialog[open]")
    await dialog.get_by_label("Akutmottagning som hänvisar").select_option(DIVERTING_ED)
    await dialog.get_by_label("Omfattning").select_option("all")
    for ed in RECEIVING_EDS:
        await dialog.locator(f'input[name="to_unit_ids"][value="{ed}"]').check()
    reason = f"Överbeläggning, hänvisning {uuid.uuid4().hex[:6]}"
    await dialog.get_by_label("Orsak").fill(reason)
    await dialog.get_by_role("button", name="Registrera hänvisning").click()
    await chief.locator("dialog[open]").wait_for(state="detached")

    for page in (chief, viewer):
        item = page.locator(f'.diversion[data-unit-id="{DIVERTING_ED}"]')
        await item.wait_for(timeout=10000)
        text = text_of(await item.inner_text())
        assert "Akutmottagning Skövde" in text and reason in text
        assert "Akutmottagning NÄL" in text and "Akutmottagning Alingsås" in text
        assert f"Beslut: {pipeline.names['chief']}" in text
    assert await viewer.locator('[data-action="end-diversion"]').count() == 0
    assert await viewer.locator('[data-action="declare-diversion"]').count() == 0

    # The API refuses the viewer, whatever the page shows.
    refused = await viewer.evaluate("""async () => {
        const response = await fetch('/api/v1/events', {method: 'POST', headers: {
            'Content-Type': 'application/json', Authorization: 'Bearer ' + sessionStorage.getItem('hc.token')},
          body: JSON.stringify([{event_id: 'viewer-try-' + Date.now(), type: 'ed.diversion_started',
            occurred_at: new Date().toISOString(), unit_id: 'SE2321000131-ENUNALAKM', diversion_id: 'V1',
            to_unit_ids: ['SE2321000131-ESIVALIAKM'], scope: 'all', reason: 'x', decided_by: 'viewer'}])});
        return response.status;
    }""")
    assert refused == 403
    assert (await pipeline.get(f"/api/v1/units/{DIVERTING_ED}")).json()["ed"]["diversion"]["scope"] == "all"

    # Ending it clears it in both browsers.
    await chief.locator(f'.diversion[data-unit-id="{DIVERTING_ED}"] [data-action="end-diversion"]').click()
    await chief.locator("dialog[open]").get_by_role("button", name="Avsluta hänvisningen").click()
    for page in (chief, viewer):
        await page.locator(f'.diversion[data-unit-id="{DIVERTING_ED}"]').wait_for(state="detached", timeout=10000)
    unit = (await pipeline.get(f"/api/v1/units/{DIVERTING_ED}")).json()
    assert unit["ed"]["diversion"] is None

    # A real alert in the Larm area: a patient-safety ticket at a unit raises it in both browsers.
    ticket = f"PS-{uuid.uuid4().hex[:6]}"
    posted = event(
        "ticket.opened",
        ALERT_UNIT,
        ticket_id=ticket,
        channel="phone",
        category="medication",
        priority=2,
        summary="Fel dos visas i läkemedelslistan",
        patient_safety=True,
    )
    assert (await pipeline.post_events([posted])).json()["accepted"] == 1
    selector = f'.alerts .alert[data-node-id="{ALERT_UNIT}"][data-rule="patient_safety_ticket"]'
    for page in (chief, viewer):
        item = page.locator(selector)
        await item.wait_for(timeout=15000)
        text = text_of(await item.inner_text())
        assert "Hjärtintensivavdelning (HIA) Borås" in text, text
        assert "Kritisk" in text and "1 öppna ärenden med risk för patientsäkerheten" in text, text
        assert "Teamnivå" in text and "Kvitterat" not in text, text
        assert await item.locator(".badge[data-severity=critical] svg").count() == 1  # icon and text
    assert await viewer.locator('.alerts [data-action="ack-alert"], .alerts [data-action="assign-alert"]').count() == 0

    # The chief acknowledges and assigns it; both browsers see it, and the viewer still gets no buttons.
    await chief.locator(selector).get_by_role("button", name="Kvittera", exact=True).click()
    for page in (chief, viewer):
        await page.locator(f'{selector}[data-status="acknowledged"]').wait_for(timeout=10000)
        assert f"Kvitterat av {pipeline.names['chief']}" in text_of(await page.locator(selector).inner_text())
    assert await chief.locator(selector).get_by_role("button", name="Kvittera", exact=True).count() == 0
    await chief.locator(selector).get_by_role("button", name="Tilldela", exact=True).click()
    dialog = chief.locator("dialog[open]")
    await dialog.get_by_label("Tilldela till").fill("Team HIA <b>natt</b>")
    await dialog.get_by_role("button", name="Tilldela", exact=True).click()
    await chief.locator("dialog[open]").wait_for(state="detached")
    for page in (chief, viewer):
        await page.locator(selector, has_text="Tilldelat: Team HIA <b>natt</b>").wait_for(timeout=10000)
        assert await page.locator(f"{selector} b").count() == 0  # shown as text
    assert await viewer.locator('.alerts [data-action="ack-alert"], .alerts [data-action="assign-alert"]').count() == 0
    listed = (await pipeline.get("/api/v1/alerts?status=acknowledged&limit=1000")).json()["items"]
    mine = [a for a in listed if a["node_id"] == ALERT_UNIT and a["rule"] == "patient_safety_ticket"]
    chief_name = pipeline.names["chief"]
    assert [(a["acknowledged_by"], a["assigned_to"]) for a in mine] == [(chief_name, "Team HIA <b>natt</b>")]
    refused = await viewer.evaluate(
        """async (id) => {
        const response = await fetch(`/api/v1/alerts/${id}/assign`, {method: 'POST', headers: {
            'Content-Type': 'application/json', Authorization: 'Bearer ' + sessionStorage.getItem('hc.token')},
          body: JSON.stringify({assigned_to: 'viewer'})});
        return response.status;
    }""",
        mine[0]["id"],
    )
    assert refused == 403

    # Resolving the ticket resolves the alert: it leaves the Larm area in both browsers.
    assert (await pipeline.post_events([event("ticket.resolved", ALERT_UNIT, ticket_id=ticket)])).json()[
        "accepted"
    ] == 1
    for page in (chief, viewer):
        await page.locator(selector).wait_for(state="detached", timeout=15000)


async def test_the_tablet_queues_a_check_in_offline_and_it_lands_once_when_back_online(
    open_page: Any, pipeline: Pipeline
) -> None:
    page = await open_page("floorwalker", f"#/tablet/{TABLET_UNIT}", width=1024, height=768)
    await page.get_by_role("heading", name="Närhälsan Svenljunga vårdcentral").wait_for()
    await page.locator('[data-queued="0"]').wait_for()
    # Installable: a manifest, and a service worker over /console/ that has cached the app shell.
    manifest = await page.evaluate("fetch(document.querySelector('link[rel=manifest]').href).then((r) => r.json())")
    assert manifest["scope"] == "./" and manifest["display"] == "standalone"
    scope = await page.evaluate("navigator.serviceWorker.ready.then((r) => r.scope)")
    assert scope == f"{pipeline.base_url}/console/"
    await until(page, "navigator.serviceWorker.controller !== null")
    await until(page, "caches.match('index.html').then((r) => Boolean(r))")

    # Offline from here: the page reloads from the cache and the check-in waits in IndexedDB.
    await page.context.set_offline(True)
    await page.reload()
    await page.get_by_role("heading", name="Närhälsan Svenljunga vårdcentral").wait_for()
    await page.locator("#conn[data-state=offline]").wait_for()
    await page.get_by_role("button", name="Checka in").click()
    await page.locator('[data-queued="1"]').wait_for(timeout=5000)
    assert "1 sparad i surfplattan – skickas när nätet är tillbaka" in text_of(
        await page.locator("#queue-status").inner_text()
    )
    queued = await page.evaluate("""() => new Promise((resolve, reject) => {
        const open = indexedDB.open('hypercare-tablet');
        open.onsuccess = () => {
          const all = open.result.transaction('outbox').objectStore('outbox').getAll();
          all.onsuccess = () => resolve(all.result.map((item) => item.event));
          all.onerror = () => reject(all.error);
        };
    })""")
    assert len(queued) == 1 and queued[0]["type"] == "floorwalker.checkin" and queued[0]["event_id"]
    assert re.fullmatch(r"fw-[a-z]{12}", queued[0]["walker_id"])
    await asyncio.sleep(1.0)
    assert (await pipeline.get(f"/api/v1/units/{TABLET_UNIT}")).json()["floorwalkers"]["on_unit"] == 0

    await page.context.set_offline(False)
    await page.locator('[data-queued="0"]').wait_for(timeout=15000)
    unit = await pipeline.wait_for(f"/api/v1/units/{TABLET_UNIT}", lambda u: u["floorwalkers"]["on_unit"] == 1)
    assert unit["floorwalkers"]["on_unit"] == 1
    await page.locator('[data-metric="floorwalkers.on_unit"]', has_text=re.compile(r"^1$")).wait_for(timeout=5000)
    # A resend of the same event id (the outbox retrying) is acknowledged and still counted once.
    again = await pipeline.post_events(queued, role="floorwalker")
    assert again.json()["accepted"] == 1
    # A second walker (a floor walker's token only reports as itself; a source may name any walker).
    marker = event("floorwalker.checkin", TABLET_UNIT, walker_id="fw-marker", status="on_unit")
    assert (await pipeline.post_events([marker], role="source")).json()["accepted"] == 1
    unit = await pipeline.wait_for(f"/api/v1/units/{TABLET_UNIT}", lambda u: u["floorwalkers"]["on_unit"] == 2)
    history = (await pipeline.get(f"/api/v1/units/{TABLET_UNIT}/events")).json()["items"]
    assert [item["event_id"] for item in history].count(queued[0]["event_id"]) == 1


async def test_free_text_shows_as_literal_text_and_runs_nothing(open_page: Any, pipeline: Pipeline) -> None:
    hostile = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'
    ticket_id = f"X-{uuid.uuid4().hex[:6]}"
    posted = event(
        "ticket.opened",
        XSS_UNIT,
        ticket_id=ticket_id,
        channel="portal",
        category="other",
        priority=3,
        summary=f"Fel i mall {hostile}",
    )
    assert (await pipeline.post_events([posted])).json()["accepted"] == 1
    async with pipeline.client("agent") as client:
        created = await client.post(
            "/api/v1/known-issues",
            json={
                "title": f'Mallfel <img src=x onerror="window.__pwned = 3"> {ticket_id}',
                "workaround": "<script>window.__pwned = 4</script>Använd reservmallen",
            },
        )
        assert created.status_code == 201, created.text

    page = await open_page("agent", "#/agent", width=1440, height=900)
    row = page.locator(f'tr[data-ticket-id="{ticket_id}"]')
    await row.wait_for(timeout=15000)
    assert hostile in await row.locator(".summary-text").inner_text()
    assert await row.locator("img, script").count() == 0
    banner = page.locator("#banner")
    await (
        banner.locator(".banner-titles")
        .get_by_text(f'Mallfel <img src=x onerror="window.__pwned = 3"> {ticket_id}')
        .wait_for(timeout=35000)
    )
    assert await banner.locator("img, script").count() == 0
    await page.wait_for_timeout(500)
    assert await page.evaluate("window.__pwned") is None

    # The unit's history shows the same text as text.
    await row.get_by_role("button", name=re.compile("Ungdomsmottagning Borås")).click()
    await page.locator(".history-list li", has_text="<script>").first.wait_for()
    assert await page.locator(".history-list img").count() == 0
    assert await page.evaluate("window.__pwned") is None


async def test_screenshots_of_each_view_at_its_target_size(open_page: Any, pipeline: Pipeline, artifacts: Path) -> None:
    await seed_a_go_live_morning(pipeline)
    shots: dict[str, Path] = {}

    console = await open_page("chief", "#/console")
    await console.locator(".chart").first.wait_for()
    await console.locator(".diversion").first.wait_for(timeout=15000)
    await console.wait_for_timeout(500)
    shots["console"] = artifacts / "console.png"
    await console.screenshot(path=str(shots["console"]))
    # Times in Europe/Stockholm although the browser runs in UTC.
    updated = text_of(await console.locator(".node-status").inner_text())
    stockholm_now = datetime.now(STOCKHOLM)
    assert any((stockholm_now - timedelta(minutes=m)).strftime("%H:%M") in updated for m in (0, 1)), updated
    await console.locator(".children").get_by_role("link", name="Södra Älvsborgs Sjukhus", exact=True).click()
    await console.locator(".children").get_by_role("link", name="Borås", exact=True).click()
    await console.get_by_role("heading", name="Borås", exact=True).wait_for()
    await console.wait_for_timeout(300)
    await console.screenshot(path=str(artifacts / "console-site.png"))

    tablet = await open_page("floorwalker", "#/tablet/SE2321000131-ESASBOR240", width=1024, height=768)
    await tablet.get_by_role("heading", name="Avdelning 240 Medicin").wait_for()
    await tablet.locator(".nearby-list, .nearby-list + p, #nearby-title").first.wait_for()
    await tablet.wait_for_timeout(300)
    shots["tablet"] = artifacts / "tablet.png"
    await tablet.screenshot(path=str(shots["tablet"]))
    await tablet.goto("/console/#/tablet")
    await tablet.get_by_role("heading", name="Välj enhet").wait_for()
    await tablet.screenshot(path=str(artifacts / "tablet-picker.png"))

    agent = await open_page("agent", "#/agent", width=1440, height=900)
    await agent.locator("tr[data-ticket-id]").first.wait_for(timeout=15000)
    await agent.locator(".hot-list li").first.wait_for(timeout=15000)
    await agent.locator(".hot-list button").first.click()
    await agent.locator(".history-list li").first.wait_for()
    await agent.wait_for_timeout(300)
    shots["agent"] = artifacts / "agent.png"
    await agent.screenshot(path=str(shots["agent"]))

    english = await open_page("chief", "#/console", lang="en")
    await english.get_by_role("heading", name="Alerts").wait_for()
    await english.get_by_role("button", name="Svenska").wait_for()
    await english.screenshot(path=str(artifacts / "console-en.png"))

    for name, path in shots.items():
        assert path.stat().st_size > 20_000, name
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


async def seed_a_go_live_morning(pipeline: Pipeline) -> None:
    """Six hours of the built-in cut-over scenario, replayed so that it ends now, plus a known issue."""
    from hypercare.entrypoints.simulator.scenario import GO_LIVE_START, CutoverScenario
    from hypercare.org.registry import load_org

    scenario = CutoverScenario(load_org(), seed=7)
    end = GO_LIVE_START + timedelta(hours=6)
    now = datetime.now(UTC)
    events = scenario.events_between(GO_LIVE_START, end, stamp=lambda at: at - end + now)
    tag = uuid.uuid4().hex[:6]
    for index, item in enumerate(events):
        item["event_id"] = f"shot-{tag}-{index}"
        item.pop("decided_by", None)  # posted as the admin, who decides as themself (the server fills it in)
    for start in range(0, len(events), 2500):
        response = await pipeline.post_events(events[start : start + 2500])
        assert response.json()["rejected"] == [], response.text[:2000]
    async with pipeline.client("agent") as client:
        for issue in (
            {
                "title": "SITHS-kortet låses efter byte av dator",
                "status": "workaround",
                "workaround": "Ta ut kortet, vänta 10 s, logga in på nytt. Byt inte PIN.",
            },
            {
                "title": "Etikettskrivare på avd 240 skriver ut tomma etiketter",
                "status": "open",
                "workaround": "Skriv ut från AVA:s skrivare tills vidare.",
            },
        ):
            assert (await client.post("/api/v1/known-issues", json=issue)).status_code == 201
    await pipeline.wait_for(
        f"/api/v1/units/{scenario.diversion_unit_id}", lambda unit: unit["ed"]["diversion"] is not None, timeout=60
    )
    # Every event stored (the trends are counted from the events table), before anything is shown.
    logins = sum(1 for item in events if item["type"] == "access.login")
    opened = sum(1 for item in events if item["type"] == "ticket.opened")
    await pipeline.wait_for(
        "/api/v1/trends?hours=7&bucket_minutes=15",
        lambda trends: sum(trends["region"]["logins"]) >= logins and sum(trends["region"]["tickets_opened"]) >= opened,
        timeout=120,
    )


async def test_the_console_runs_under_its_content_security_policy_and_a_violation_would_fail_the_test(
    browser: Any, open_page: Any, pipeline: Pipeline
) -> None:
    page = await open_page("chief", "#/console")
    await page.locator(".chart").first.wait_for()
    assert browser.violations == []
    # The watch works: an inline script (what the policy forbids) is reported and not run.
    await page.evaluate("""() => {
        const script = document.createElement('script');
        script.textContent = 'window.__inline = 1';
        document.body.append(script);
    }""")
    await page.wait_for_function("() => true")
    deadline = time.monotonic() + 5
    while not browser.violations and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    assert await page.evaluate("window.__inline") is None
    assert browser.violations and all("Content Security Policy" in v for v in browser.violations)
    browser.violations.clear()
    # The token is in this tab's sessionStorage only, and the WebSocket URL carries none.
    assert await page.evaluate("localStorage.getItem('hc.token')") is None
    assert await page.evaluate("sessionStorage.getItem('hc.token')") == pipeline.tokens["chief"]


async def test_a_token_left_in_local_storage_by_an_older_console_is_removed_on_load(
    browser: Any, pipeline: Pipeline
) -> None:
    context = await browser.new_context(base_url=pipeline.base_url)
    try:
        await context.add_init_script(
            "if (!sessionStorage.getItem('hc.test.init')) {"
            f" localStorage.setItem('hc.token', {pipeline.tokens['viewer']!r});"
            " localStorage.setItem('hc.me', '{}'); sessionStorage.setItem('hc.test.init', '1'); }"
        )
        page = await context.new_page()
        sockets: list[str] = []
        page.on("websocket", lambda socket: sockets.append(socket.url))
        await page.goto("/console/")
        await page.get_by_role("heading", name="Logga in").wait_for()  # not signed in from localStorage
        assert await page.evaluate("[localStorage.getItem('hc.token'), localStorage.getItem('hc.me')]") == [None, None]
        await page.get_by_label("Nyckel (token)").fill(pipeline.tokens["viewer"])
        await page.get_by_role("button", name="Logga in").click()
        await page.locator("#conn[data-state=live]").wait_for(timeout=15000)
        assert sockets and all("token" not in url for url in sockets), sockets
        assert await page.evaluate("localStorage.getItem('hc.token')") is None
    finally:
        await context.close()


OUTBOX_UNIT = "SE2321000131-ENHMARK"  # Närhälsan Mark (Fritsla) vårdcentral


async def test_a_queued_action_waits_for_the_walker_who_made_it_and_is_never_sent_under_another_token(
    browser: Any, pipeline: Pipeline
) -> None:
    db = Database.from_url(pipeline.settings.effective_database_url)
    try:
        token_b = await issue_token(db, role="floorwalker", name=f"test-walker-b-{uuid.uuid4().hex[:6]}")
    finally:
        await db.close()
    token_a, walker_a = pipeline.tokens["floorwalker"], pipeline.names["floorwalker"]
    # Service workers blocked: every request of the page goes through page.route, which records it.
    context = await browser.new_context(
        viewport={"width": 1024, "height": 768}, base_url=pipeline.base_url, service_workers="block"
    )
    posts: list[tuple[str, list[dict[str, Any]]]] = []

    async def record(route: Any) -> None:
        request = route.request
        if request.method == "POST":
            body = json.loads(request.post_data or "[]")
            posts.append((request.headers.get("authorization", ""), body if isinstance(body, list) else [body]))
        await route.continue_()

    async def me(token: str) -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=pipeline.base_url) as client:
            return dict((await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})).json())

    async def sign_in(page: Any, token: str) -> None:
        await page.get_by_label("Nyckel (token)").fill(token)
        await page.get_by_role("button", name="Logga in").click()
        await page.locator("#signout").wait_for()

    try:
        page = await context.new_page()
        await page.route("**/api/v1/events", record)
        await page.goto("/console/")
        await sign_in(page, token_a)
        await page.goto(f"/console/#/tablet/{OUTBOX_UNIT}")
        await page.get_by_role("heading", name="Närhälsan Mark (Fritsla) vårdcentral").wait_for()

        await context.set_offline(True)
        await page.get_by_role("button", name="Checka in").click()
        await page.locator('[data-queued="1"]').wait_for(timeout=5000)
        await page.get_by_role("button", name="Logga ut").click()
        await page.get_by_role("heading", name="Logga in").wait_for()
        await context.set_offline(False)

        # Walker B signs in on the same tablet, online: A's check-in waits for A, and B's own goes out.
        await sign_in(page, token_b)
        await page.goto(f"/console/#/tablet/{OUTBOX_UNIT}")
        await page.locator(f'[data-waiting-for="{walker_a}"]').wait_for()
        assert f"väntar på {walker_a}" in text_of(await page.locator("#queue-status").inner_text())
        await page.locator('[data-queued="0"]').wait_for()
        await page.get_by_role("button", name="Checka in").click()
        await pipeline.wait_for(f"/api/v1/units/{OUTBOX_UNIT}", lambda u: u["floorwalkers"]["on_unit"] == 1)
        await page.wait_for_timeout(1000)
        queued_by_a = {item["event_id"] for auth, body in posts if auth == f"Bearer {token_a}" for item in body}
        assert len(queued_by_a) == 1  # A's outbox tried once while offline, with A's token
        sent_by_b = [item for auth, body in posts if auth == f"Bearer {token_b}" for item in body]
        assert sent_by_b and {item["walker_id"] for item in sent_by_b} == {(await me(token_b))["walker_id"]}
        assert not queued_by_a & {item["event_id"] for item in sent_by_b}, "A's check-in went out under B's token"
        assert (await page.locator(f'[data-waiting-for="{walker_a}"]').count()) == 1

        # A signs in again: the check-in goes out, with A's token.
        await page.get_by_role("button", name="Logga ut").click()
        await sign_in(page, token_a)
        await page.goto(f"/console/#/tablet/{OUTBOX_UNIT}")
        await page.locator('[data-queued="0"]').wait_for(timeout=15000)
        await pipeline.wait_for(f"/api/v1/units/{OUTBOX_UNIT}", lambda u: u["floorwalkers"]["on_unit"] == 2)
        sent_by_a = [item for auth, body in posts if auth == f"Bearer {token_a}" for item in body]
        # Tried once or more while offline, then sent: always with A's token, never with another.
        assert {item["event_id"] for item in sent_by_a} == queued_by_a and len(sent_by_a) >= 2
        sent_by_others = {item["event_id"] for auth, body in posts if auth != f"Bearer {token_a}" for item in body}
        assert not queued_by_a & sent_by_others
        history = (await pipeline.get(f"/api/v1/units/{OUTBOX_UNIT}/events")).json()["items"]
        assert queued_by_a <= {item["event_id"] for item in history}
        assert await page.locator("[data-waiting-for]").count() == 0
    finally:
        await context.close()


async def test_the_diversion_form_shows_the_receiving_eds_refuses_a_circle_with_the_reason_and_takes_an_override(
    open_page: Any, pipeline: Pipeline
) -> None:
    """Mölndal diverts to Östra (for 3 h 20 min, its review overdue); a chief diverting Östra to Mölndal sees
    Mölndal marked as itself diverting with its load, is refused with the server's reason, then gives an override
    reason: the diversion goes through and the reason is in the decision log."""
    molndal, ostra = "SE2321000131-ESUMOLAKM", "SE2321000131-ESUOSTAKM"
    run = uuid.uuid4().hex[:6]
    first = event(
        "ed.diversion_started",
        molndal,
        200,
        diversion_id=f"M-{run}",
        to_unit_ids=[ostra],
        scope="ambulance",
        reason="Överbeläggning Mölndal",
        expected_end=(datetime.now(UTC) - timedelta(minutes=10)).isoformat(),
    )
    status = event(
        "ed.status", molndal, 25, patients_waiting=17, patients_in_department=33, capacity=28, longest_wait_minutes=90
    )
    assert (await pipeline.post_events([first, status], role="chief")).json()["accepted"] == 2
    await pipeline.wait_for(
        f"/api/v1/units/{molndal}",
        lambda u: u["ed"]["diversion"] is not None and u["ed"]["status"] is not None,
        timeout=30,
    )

    chief = await open_page("chief", "#/console")
    card = chief.locator(f'.diversion[data-unit-id="{molndal}"]')
    await card.wait_for(timeout=10000)
    assert text_of(await card.locator("[data-running]").inner_text()) == "Pågår sedan 3 h 20 min"
    assert text_of(await card.locator("[data-overdue]").inner_text()).startswith("Omprövning försenad")
    # Read the colour on the element as rendered; the console re-renders on every live change (alerts too), so a
    # node read once may already be replaced (getComputedStyle of a detached node is ""): poll for a settled one.
    color = ""
    for _ in range(20):
        color = await card.locator("[data-overdue]").evaluate("node => getComputedStyle(node).color")
        if color:
            break
        await asyncio.sleep(0.1)
    assert color == "rgb(255, 158, 158)"  # --alert-text

    await chief.get_by_role("button", name="Hänvisa", exact=True).click()
    dialog = chief.locator("dialog[open]")
    await dialog.get_by_label("Akutmottagning som hänvisar").select_option(ostra)
    choice = dialog.locator(f'label.choice[data-unit-id="{molndal}"]')
    assert await choice.get_attribute("data-diverting") == "true"
    text = text_of(await choice.inner_text())
    assert "Hänvisar själv till Akutmottagning Östra" in text
    # The module's other tests report for Mölndal too: the form shows the latest report, whichever it is.
    latest = (await pipeline.get(f"/api/v1/units/{molndal}")).json()["ed"]["status"]
    waiting, inside, capacity = (latest[k] for k in ("patients_waiting", "patients_in_department", "capacity"))
    load = f"{waiting} väntar · {inside} inne / {capacity} platser"
    assert re.search(re.escape(load) + r" · rapport för (\d+ min|\d+ h \d+ min) sedan", text), text
    quiet = dialog.locator('label.choice[data-unit-id="SE2321000131-ESUDSBAKM"]')
    assert await quiet.get_attribute("data-diverting") == "false"
    quiet_status = (await pipeline.get("/api/v1/units/SE2321000131-ESUDSBAKM")).json()["ed"]["status"]
    if quiet_status is None:  # unless another test of the module reported for it
        assert "Ingen lägesrapport" in text_of(await quiet.inner_text())
    else:
        assert f"{quiet_status['patients_waiting']} väntar" in text_of(await quiet.inner_text())
    assert not await dialog.locator(".override-field").is_visible()

    await choice.locator("input").check()
    await dialog.get_by_label("Orsak").fill(f"Östra full {run}")
    await dialog.get_by_role("button", name="Registrera hänvisning").click()
    error = dialog.locator(".form-error")
    await error.get_by_text("is itself diverting to").wait_for(timeout=10000)
    assert (
        f"{molndal} (Akutmottagning Mölndal) is itself diverting to {ostra} (Akutmottagning Östra); "
        "a diversion there would send patients back and forth" in text_of(await error.inner_text())
    )
    await dialog.locator(".override-field").wait_for()
    await dialog.get_by_role("button", name="Registrera hänvisning").click()  # the override reason is required
    await error.get_by_text("Skäl att hänvisa ändå").wait_for()
    await dialog.get_by_label("Skäl att hänvisa ändå").fill(f"Mölndal tar traumalarm ändå {run}")
    await dialog.get_by_role("button", name="Registrera hänvisning").click()
    await chief.locator("dialog[open]").wait_for(state="detached")
    ostra_card = chief.locator(f'.diversion[data-unit-id="{ostra}"]')
    await ostra_card.wait_for(timeout=10000)
    assert text_of(await ostra_card.locator("[data-running]").inner_text()) == "Pågår sedan 0 min"
    assert await ostra_card.locator("[data-overdue]").count() == 0

    log = await pipeline.wait_for(
        f"/api/v1/decisions?q={run}", lambda body: any(e["unit_id"] == ostra for e in body["items"]), timeout=30
    )
    entry = next(e for e in log["items"] if e["unit_id"] == ostra)
    assert entry["override_reason"] == f"Mölndal tar traumalarm ändå {run}"
    decisions = await open_page("chief", "#/decisions")
    await (
        decisions.locator(f'.decision[data-decision-id="{entry["decision_id"]}"]')
        .get_by_text(f"Mölndal tar traumalarm ändå {run}")
        .wait_for(timeout=10000)
    )

    ends = [
        event("ed.diversion_ended", unit_id, 0, diversion_id=diversion_id)
        for unit_id, diversion_id in ((molndal, f"M-{run}"), (ostra, entry["decision_id"]))
    ]
    assert (await pipeline.post_events(ends, role="chief")).json()["accepted"] == 2
