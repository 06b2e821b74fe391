"""Wall mode (``/console/?wall=1``) at 1920×1080: no text smaller than 20 CSS px, no controls, and the console
cycles by itself: the region, then the administrations red first. One unit of Närhälsan gets 20 logins, half of
them failed (50 %, above the red line): Närhälsan is red and the first administration shown after the region."""

from __future__ import annotations

from typing import Any

from hc_testkit import Pipeline, event
from page_text import TEXT_SIZES

from hypercare.contract.events import new_id

ADMIN = "SE2321000131-FNH"
UNIT = "SE2321000131-ENHBORCEN"
RANK = {"red": 0, "yellow": 1, "not_assessed": 2, "green": 3}

VISIBLE_CONTROLS = """() => [...document.querySelectorAll('button, .button, input, select, textarea')]
  .filter((el) => el.getClientRects().length).map((el) => el.outerHTML.slice(0, 80))"""


async def test_wall_mode_has_large_type_no_controls_and_cycles_the_administrations_red_first(
    browser: Any, pipeline: Pipeline
) -> None:
    logins = [
        event(
            "access.login",
            UNIT,
            user_ref=new_id("u"),
            outcome="failure" if i % 2 else "success",
            **({"reason": "card_error"} if i % 2 else {}),
        )
        for i in range(20)
    ]
    response = await pipeline.post_events(logins)
    assert response.status_code == 200, response.text
    situation = await pipeline.wait_for(
        "/api/v1/situation",
        lambda body: any(
            a["administration_id"] == ADMIN and a["health"]["status"] == "red" for a in body["administrations"]
        ),
        timeout=60,
    )
    admins = situation["administrations"]
    worst_first = sorted(range(len(admins)), key=lambda i: (RANK.get(admins[i]["health"]["status"], 2), i))
    expected_first = admins[worst_first[0]]["administration_id"]
    assert expected_first == ADMIN

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
        routes: list[str] = []
        page.on("framenavigated", lambda frame: routes.append(frame.url.partition("#")[2]))
        await page.goto("/console/?wall=1&cycle=3#/console")
        await page.locator("#conn[data-state=live]").wait_for(timeout=15000)
        await page.get_by_role("heading", name="Västra Götalandsregionen").wait_for(timeout=10000)
        await page.locator(f'tr[data-node-id="{ADMIN}"][data-status="red"]').wait_for(timeout=10000)

        sizes = await page.evaluate(TEXT_SIZES)
        assert len(sizes) > 50  # the overview's tables, tiles and alarms were measured
        assert [s for s in sizes if s["px"] < 20] == []
        assert await page.evaluate(VISIBLE_CONTROLS) == []

        await page.wait_for_url(f"**/console/?wall=1&cycle=3#/console/administration/{ADMIN}", timeout=10000)
        stops = [route for i, route in enumerate(routes) if i == 0 or route != routes[i - 1]]
        assert stops[:2] == ["/console", f"/console/administration/{ADMIN}"]  # the red administration first
        await page.get_by_role("heading", name="Närhälsan").first.wait_for(timeout=10000)
        sizes = await page.evaluate(TEXT_SIZES)
        assert [s for s in sizes if s["px"] < 20] == []
        assert await page.evaluate(VISIBLE_CONTROLS) == []
        assert errors == []
    finally:
        await context.close()
