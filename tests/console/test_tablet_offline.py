"""The floor walker's tablet offline-first, in a real browser against the real pipeline (see conftest.py): the last
picture kept on the device and shown with its age after a reload without network, a unit changed and a check-in
queued offline and delivered once when the network is back, "Ingen data offline" instead of false reassurance when
nothing was kept; at the tablet and phone sizes, with no sideways scroll and touch targets of at least 44 px."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from hc_testkit import Pipeline, event
from page_poll import until

from hypercare.org.registry import load_org
from hypercare.storage.db import Database
from services.auth.tokens import issue_token

ORG = load_org()
# (width, height, the walker's unit, a unit of the same site the walker moves to offline)
SIZES = [
    pytest.param(1024, 768, "SE2321000131-ESASSKE010", "SE2321000131-ESASSKE011", id="1024x768"),
    pytest.param(768, 1024, "SE2321000131-ENHBORCEN", "SE2321000131-ENHBORNOR", id="768x1024"),
    pytest.param(390, 844, "SE2321000131-ENHKINNA", "SE2321000131-ENHSKENE", id="390x844"),
    pytest.param(360, 800, "SE2321000131-ERHBUPBOR", "SE2321000131-ERHUMBOR", id="360x800"),
]
NO_CACHE_UNIT = "SE2321000131-ESASSKEMOT"  # Mottagningar Skene
AGE_MINUTES = 12

OUTBOX_EVENTS = """() => new Promise((resolve, reject) => {
    const open = indexedDB.open('hypercare-tablet');
    open.onsuccess = () => {
      const all = open.result.transaction('outbox').objectStore('outbox').getAll();
      all.onsuccess = () => resolve(all.result.map((item) => item.event));
      all.onerror = () => reject(all.error);
    };
})"""

# The controls of the tablet and its header smaller than 44 × 44 CSS px (visible ones only).
SMALL_TARGETS = """() => [...document.querySelectorAll(
    '.topbar a, .topbar button, .tablet a, .tablet button, .tablet input, .tablet textarea, .tablet select')]
  .map((el) => [el, el.getBoundingClientRect()])
  .filter(([el, r]) => r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== 'hidden')
  .filter(([, r]) => r.width < 44 || r.height < 44)
  .map(([el, r]) => `${el.tagName} "${(el.textContent || el.id).trim().slice(0, 30)}" ${r.width}x${r.height}`)"""

OVERFLOW = """() => ({
  scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth,
  wide: [...document.querySelectorAll('body *')].filter((el) => el.getBoundingClientRect().right
    > document.documentElement.clientWidth + 0.5).map((el) => el.tagName + '.' + el.className).slice(0, 5),
})"""


def name_of(unit_id: str) -> str:
    return ORG.place(unit_id).name


def text_of(value: str) -> str:
    return re.sub(r"\s+", " ", value.replace("\u00a0", " ").replace("\u202f", " ")).strip()


async def walker_token(pipeline: Pipeline) -> str:
    """A floor walker of its own (a walker is on one unit at a time: each test moves its own)."""
    db = Database.from_url(pipeline.settings.effective_database_url)
    try:
        return await issue_token(db, role="floorwalker", name=f"test-walker-{uuid.uuid4().hex[:8]}")
    finally:
        await db.close()


async def assert_fits(page: Any, width: int) -> None:
    """No sideways scroll (at phone widths), no control under 44 px."""
    if width <= 390:
        overflow = await page.evaluate(OVERFLOW)
        assert overflow["scroll"] <= overflow["client"], overflow
    assert await page.evaluate(SMALL_TARGETS) == []


async def assert_order(page: Any, width: int) -> None:
    """Check in, then assists, escalation and the nearby units: in the document, and on screen in one column."""
    ids = ["unit-title", "assists", "escalation", "nearby"]
    order = await page.evaluate(
        "(ids) => ids.map((id) => document.getElementById(id)).every((el, i, all) => i === 0"
        " || Boolean(all[i - 1].compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING))",
        ids,
    )
    assert order is True
    tops = await page.evaluate("(ids) => ids.map((id) => document.getElementById(id).getBoundingClientRect().top)", ids)
    if width < 900:
        assert tops == sorted(tops), tops
    else:  # two columns: the card over the assists, the escalation over the nearby units
        assert tops[0] < tops[1] and tops[2] < tops[3], tops


@pytest.mark.parametrize(("width", "height", "home", "other"), SIZES)
async def test_reloaded_offline_the_tablet_shows_the_last_picture_with_its_age_changes_unit_and_checks_in_once(
    open_page: Any, pipeline: Pipeline, artifacts: Path, width: int, height: int, home: str, other: str
) -> None:
    ticket = f"TAB-{uuid.uuid4().hex[:8]}"
    opened = event("ticket.opened", other, 5, ticket_id=ticket, channel="phone", category="login", priority=1)
    assert (await pipeline.post_events([opened])).json()["accepted"] == 1
    await pipeline.wait_for(f"/api/v1/units/{other}", lambda u: u["health"]["status"] != "green")
    page = await open_page(
        "floorwalker", f"#/tablet/{home}", width=width, height=height, token=await walker_token(pipeline)
    )
    await page.get_by_role("heading", name=name_of(home)).wait_for()
    await page.locator(f'[data-key="near-{other}"]').wait_for(timeout=10000)
    await page.locator(".data-age").wait_for()
    assert await page.locator("#freshness").is_hidden()  # live and current: no age banner
    await until(page, "() => navigator.serviceWorker.controller !== null")
    await until(page, "() => caches.match('js/lastpicture.js').then(Boolean)")
    # The picture kept on the device (within a second of the live one, and as the network goes).
    owner = await page.evaluate("JSON.parse(sessionStorage.getItem('hc.me')).me.name")
    key = f"hc.tablet.picture.{owner}"
    await until(
        page,
        "([key, other]) => JSON.parse(localStorage.getItem(key) || '{}').units?.[other]?.health?.status === 'yellow'",
        [key, other],
        timeout=5,
    )

    await page.context.set_offline(True)
    await page.reload()
    await page.get_by_role("heading", name=name_of(home)).wait_for()
    await page.locator("#conn[data-state=offline]").wait_for()
    freshness = page.locator("#freshness[data-state=offline]")
    await freshness.wait_for()
    assert text_of(await freshness.inner_text()) == "Senast uppdaterad nyss — offline"
    # The walker walks the corridors for 12 minutes (the kept picture's time moved back as much), and reloads.
    await page.evaluate(
        """([key, minutes]) => {
          const picture = JSON.parse(localStorage.getItem(key));
          for (const unit of Object.values(picture.units)) {
            unit.at = new Date(new Date(unit.at).getTime() - minutes * 60000).toISOString();
          }
          localStorage.setItem(key, JSON.stringify(picture));
        }""",
        [key, AGE_MINUTES],
    )
    await page.reload()
    await page.get_by_role("heading", name=name_of(home)).wait_for()
    await freshness.wait_for()
    assert text_of(await freshness.inner_text()) == f"Senast uppdaterad {AGE_MINUTES} min sedan — offline"
    assert f"({AGE_MINUTES} min sedan)" in text_of(await page.locator(".data-age").inner_text())
    await page.locator(f'[data-key="near-{other}"]').wait_for()
    await assert_order(page, width)
    await assert_fits(page, width)
    await page.screenshot(path=str(artifacts / f"tablet-offline-{width}x{height}.png"))

    # Byt enhet offline: the saved recent and nearby units, never "Laddar…".
    await page.get_by_role("link", name="Byt enhet").click()
    await page.get_by_role("heading", name="Välj enhet").wait_for()
    await page.get_by_role("heading", name="Sparade enheter").wait_for()
    assert await page.get_by_text("Laddar…").count() == 0
    await page.locator(f'[data-key="recent-{home}"]').wait_for()
    assert text_of(await freshness.inner_text()) == f"Senast uppdaterad {AGE_MINUTES} min sedan — offline"
    await assert_fits(page, width)
    await page.screenshot(path=str(artifacts / f"tablet-offline-picker-{width}x{height}.png"))
    await page.locator(f'[data-key="all-{other}"]').click()
    await page.get_by_role("heading", name=name_of(other)).wait_for()
    # Its card from the kept picture: status, the reason, the data's age.
    card = page.locator(".unit-card")
    await card.locator(".badge[data-status=yellow]").wait_for()
    assert "1 öppna ärenden med prioritet 1" in text_of(await card.locator(".reasons").inner_text())
    assert f"({AGE_MINUTES} min sedan)" in text_of(await card.locator(".data-age").inner_text())

    await page.get_by_role("button", name="Checka in").click()
    await page.locator('[data-queued="1"]').wait_for(timeout=5000)
    bar = page.locator("#queue-status")
    assert "1 sparad i surfplattan – skickas när nätet är tillbaka" in text_of(await bar.inner_text())
    assert "inte skickad än" in text_of(await page.locator("#toast").inner_text())
    await page.screenshot(path=str(artifacts / f"tablet-offline-queued-{width}x{height}.png"))
    queued = await page.evaluate(OUTBOX_EVENTS)
    assert len(queued) == 1 and queued[0]["type"] == "floorwalker.checkin" and queued[0]["unit_id"] == other
    # The queue bar stays in view at the bottom of the page.
    await page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    await page.wait_for_timeout(100)
    box = await page.locator("#tablet-status").bounding_box()
    assert box is not None and -1 <= box["y"] <= 1 and box["y"] + box["height"] < height / 2, box
    await asyncio.sleep(1.0)
    assert (await pipeline.get(f"/api/v1/units/{other}")).json()["floorwalkers"]["on_unit"] == 0

    # The network is back: the check-in goes once, the bar counts it as sent, the live picture replaces the kept one.
    await page.context.set_offline(False)
    await page.locator('[data-queued="0"]').wait_for(timeout=15000)
    await page.locator('[data-sent="1"]').wait_for(timeout=5000)
    await pipeline.wait_for(f"/api/v1/units/{other}", lambda u: u["floorwalkers"]["on_unit"] == 1)
    await page.locator('[data-metric="floorwalkers.on_unit"]', has_text=re.compile(r"^1$")).wait_for(timeout=15000)
    await page.locator("#conn[data-state=live]").wait_for(timeout=15000)
    await page.locator("#freshness").wait_for(state="hidden", timeout=5000)
    deadline = time.monotonic() + 10
    while True:
        history = (await pipeline.get(f"/api/v1/units/{other}/events")).json()["items"]
        if queued[0]["event_id"] in {item["event_id"] for item in history} or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    assert [item["event_id"] for item in history].count(queued[0]["event_id"]) == 1


@pytest.mark.parametrize("width", [390, 360])
async def test_with_nothing_kept_the_tablet_offline_says_no_data_instead_of_reassuring(
    open_page: Any, pipeline: Pipeline, width: int
) -> None:
    page = await open_page("floorwalker", "#/tablet", width=width, height=844, token=await walker_token(pipeline))
    await page.get_by_role("heading", name="Välj enhet").wait_for()
    await until(page, "() => navigator.serviceWorker.controller !== null")
    await until(page, "() => caches.match('js/lastpicture.js').then(Boolean)")

    await page.context.set_offline(True)
    await page.reload()
    await page.get_by_role("heading", name="Välj enhet").wait_for()
    await page.locator("#unit-lists [data-nodata=offline]").wait_for(timeout=5000)
    assert "Ingen data offline" in text_of(await page.locator("#unit-lists").inner_text())
    assert await page.get_by_text("Laddar…").count() == 0
    await assert_fits(page, width)

    await page.goto(f"/console/#/tablet/{NO_CACHE_UNIT}")
    await page.get_by_role("heading", name=NO_CACHE_UNIT).wait_for()
    await page.locator(".unit-card [data-nodata=offline]").wait_for()
    nearby = text_of(await page.locator("#nearby").inner_text())
    assert "Ingen data offline" in nearby and "besökts nyligen" not in nearby
    await assert_fits(page, width)
    # Checking in still works: it waits on the tablet.
    await page.get_by_role("button", name="Checka in").click()
    await page.locator('[data-queued="1"]').wait_for(timeout=5000)
    await page.locator("#lang").click()
    await page.locator(".unit-card [data-nodata=offline]", has_text="No data offline").wait_for()
    assert "1 saved on this tablet – sent when the network is back" in text_of(
        await page.locator("#queue-status").inner_text()
    )
    await assert_fits(page, width)
