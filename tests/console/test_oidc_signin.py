"""The console signing in through a real OpenID provider (oidc-provider's login form) in Chromium: a chief lands
on the command console, a floor walker on the tablet view, both live over the WebSocket with the session cookie;
*Logga ut* ends the session on the server and then at the provider (RP-initiated logout); a user in no mapped
group gets a clear page and no session."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from hc_testkit import Pipeline
from oidc_testkit import oidc_api

from hypercare.entrypoints.embedded_broker import EmbeddedBroker

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
async def api(broker: EmbeddedBroker, pg_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Pipeline]:
    async with oidc_api(broker.bootstrap, pg_url, tmp_path_factory.mktemp("oidc-console")) as running:
        yield running


async def _sign_in_through_the_provider(
    browser: Any, api: Pipeline, login: str, *, lands: str = "/console/**"
) -> tuple[Any, Any, list[str]]:
    context = await browser.new_context(
        viewport={"width": 1366, "height": 768}, locale="sv-SE", timezone_id="UTC", base_url=api.base_url
    )
    errors: list[str] = []
    page = await context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.goto("/console/")
    button = page.get_by_role("link", name="Logga in med regionens inloggning")
    await button.wait_for()
    await button.click()
    # oidc-provider's development login form (any password; the login is the account).
    await page.locator("input[name=login]").fill(login)
    await page.locator("input[name=password]").fill("any")
    await page.locator("button[type=submit]").click()
    await page.wait_for_url(f"{api.base_url}{lands}")
    return context, page, errors


async def test_a_chief_signs_in_with_the_provider_and_lands_on_the_command_console(browser: Any, api: Pipeline) -> None:
    context, page, errors = await _sign_in_through_the_provider(browser, api, "chief.sas")
    try:
        await page.locator("body[data-view=console]").wait_for()
        await page.locator("#conn[data-state=live]").wait_for(timeout=15000)  # the WebSocket took the cookie
        assert "chief.sas" in await page.locator("#who").inner_text()
        # Scoped to SÄS by the provider's claim: the report is offered, cut to SÄS by the server, without the buttons
        # that make or release one (the region's).
        nav = page.get_by_role("navigation")
        await nav.get_by_role("link", name="Beslutslogg").wait_for()
        await nav.get_by_role("link", name="Lägesrapport").click()
        await page.locator("body[data-view=report]").wait_for()
        await page.locator(".report-status").wait_for(timeout=30000)  # the cut report arrived
        assert await page.locator("[data-action=create], [data-action=publish], [data-action=since]").count() == 0
        assert await page.evaluate("localStorage.getItem('hc.token')") is None  # nothing to steal from storage
        assert await page.evaluate("document.cookie.includes('hc_session')") is False  # httpOnly

        await page.get_by_role("button", name="Logga ut").click()
        # Ended on the server, then the browser signs out at the provider (it asks) and comes back to the console.
        await page.get_by_role("button", name="Yes, sign me out").click()
        await page.wait_for_url(f"{api.base_url}/console/**")
        await page.get_by_role("link", name="Logga in med regionens inloggning").wait_for()
        me = await page.request.get("/api/v1/me")
        assert me.status == 401  # ended on the server
        # Ended at the provider too: signing in again shows its login form.
        await page.get_by_role("link", name="Logga in med regionens inloggning").click()
        await page.locator("input[name=login]").wait_for()
    finally:
        await context.close()
    assert errors == []


async def test_a_floor_walker_signs_in_with_the_provider_and_lands_on_the_tablet(browser: Any, api: Pipeline) -> None:
    context, page, errors = await _sign_in_through_the_provider(browser, api, "walker.one")
    try:
        await page.locator("body[data-view=tablet]").wait_for()
        me = await page.request.get("/api/v1/me")
        assert me.status == 200 and (await me.json())["role"] == "floorwalker"
    finally:
        await context.close()
    assert errors == []


async def test_a_user_in_no_mapped_group_is_refused_with_a_clear_page(browser: Any, api: Pipeline) -> None:
    context, page, errors = await _sign_in_through_the_provider(browser, api, "outsider", lands="/auth/callback**")
    try:
        await page.get_by_role("heading", name="Ingen behörighet till Hypercare").wait_for()
        assert await page.get_by_role("heading", name="No access to Hypercare").is_visible()
        assert (await page.request.get("/api/v1/me")).status == 401  # no session
        await page.get_by_role("link", name="Till startsidan").click()
        await page.get_by_role("link", name="Logga in med regionens inloggning").wait_for()
    finally:
        await context.close()
    assert errors == []
