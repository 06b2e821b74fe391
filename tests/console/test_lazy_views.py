"""Each view's module is fetched when the view is first shown, not at start-up (a same-origin ``import()`` under the
console's CSP), and once: the page's own network log (the service worker, which precaches them all for offline
use, is blocked here so that only the page's requests are counted)."""

from __future__ import annotations

from typing import Any

from hc_testkit import Pipeline

VIEW_MODULES = {"agent", "audit", "console", "coordination", "decisions", "readiness", "report", "tablet"}


def fetched_views(requests: list[str]) -> list[str]:
    """The view modules among the requested URLs, in request order."""
    names = [url.rsplit("/", 1)[-1].removesuffix(".js") for url in requests if "/console/js/views/" in url]
    return [name for name in names if name in VIEW_MODULES]


async def test_a_view_module_is_fetched_when_the_view_is_first_shown_and_only_once(
    browser: Any, pipeline: Pipeline
) -> None:
    context = await browser.new_context(
        viewport={"width": 1920, "height": 1080}, base_url=pipeline.base_url, service_workers="block"
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
        requests: list[str] = []
        page.on("request", lambda request: requests.append(request.url))

        await page.goto("/console/#/console")
        await page.locator("body[data-view=console]").wait_for(timeout=15000)
        await page.locator("#conn[data-state=live]").wait_for(timeout=15000)
        assert fetched_views(requests) == ["console"]

        await page.locator("#nav a[href='#/decisions']").click()
        await page.locator("body[data-view=decisions]").wait_for(timeout=10000)
        await page.get_by_role("button", name="Nytt beslut").wait_for(timeout=10000)
        assert fetched_views(requests) == ["console", "decisions"]

        await page.locator("#nav a[href='#/console']").click()
        await page.locator("body[data-view=console]").wait_for(timeout=10000)
        await page.locator("#nav a[href='#/report']").click()
        await page.locator("body[data-view=report]").wait_for(timeout=10000)
        await page.locator("#nav a[href='#/decisions']").click()
        await page.locator("body[data-view=decisions]").wait_for(timeout=10000)
        assert fetched_views(requests) == ["console", "decisions", "report"]
        assert errors == []
    finally:
        await context.close()
