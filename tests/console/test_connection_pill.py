"""The connection pill turns amber when the picture's latest update ("Uppdaterad") is more than two minutes old,
though the socket is open, with that time in it, in both languages, and green again once it is recent. The page's
clock is Playwright's (``page.clock``): moved three minutes ahead of the server's, every update it gets is old."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hc_testkit import Pipeline

WARN_TEXT = "rgb(255, 215, 106)"  # --warn-text: #ffd76a in console/css/app.css
LIVE_TEXT = "rgb(184, 245, 200)"  # .conn--live
STOCKHOLM = ZoneInfo("Europe/Stockholm")


def shown_time(text: str, pattern: str) -> datetime:
    """The HH:MM:SS in the pill's text, as today's Stockholm time."""
    found = re.fullmatch(pattern, text)
    assert found, text
    hour, minute, second = (int(part) for part in found.group(1).split(":"))
    now = datetime.now(STOCKHOLM)
    shown = now.replace(hour=hour, minute=minute, second=second, microsecond=0)
    return shown - timedelta(days=1) if shown > now else shown  # shown just before midnight, read just after


async def test_the_pill_is_amber_while_the_latest_update_is_older_than_two_minutes(
    browser: Any, pipeline: Pipeline
) -> None:
    context = await browser.new_context(
        viewport={"width": 1920, "height": 1080}, base_url=pipeline.base_url, locale="sv-SE", timezone_id="UTC"
    )
    token = pipeline.tokens["chief"]
    await context.add_init_script(
        "if (!sessionStorage.getItem('hc.test.init')) {"
        f"  sessionStorage.setItem('hc.token', {token!r}); localStorage.setItem('hc.lang', 'sv');"
        "  sessionStorage.setItem('hc.test.init', '1'); }"
    )
    try:
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        await page.clock.install()  # runs with the real time until moved
        await page.goto("/console/#/console")
        pill = page.locator("#conn")
        await page.locator("#conn[data-state=live]").wait_for(timeout=15000)
        assert await pill.inner_text() == "Anslutning: Live"
        assert await pill.evaluate("el => getComputedStyle(el).color") == LIVE_TEXT

        await page.clock.set_system_time(datetime.now(UTC) + timedelta(minutes=3))
        await page.locator("#conn[data-state=stale]").wait_for(timeout=20000)
        text = await pill.inner_text()
        updated = shown_time(text, r"Anslutning: Inaktuell – uppdaterad (\d\d:\d\d:\d\d)")
        assert timedelta(0) <= datetime.now(STOCKHOLM) - updated < timedelta(seconds=30)  # the server's real time
        assert await pill.evaluate("el => getComputedStyle(el).color") == WARN_TEXT
        assert "conn--stale" in (await pill.get_attribute("class") or "")

        await page.locator("#lang").click()
        await page.locator("#conn[data-state=stale]", has_text="Connection: Stale – updated").wait_for(timeout=5000)
        shown_time(await pill.inner_text(), r"Connection: Stale – updated (\d\d:\d\d:\d\d)")

        await page.clock.set_system_time(datetime.now(UTC))  # the clocks agree again: the next check turns it green
        await page.locator("#conn[data-state=live]").wait_for(timeout=20000)
        assert await pill.inner_text() == "Connection: Live"
        assert await pill.evaluate("el => getComputedStyle(el).color") == LIVE_TEXT
        assert errors == []
    finally:
        await context.close()
