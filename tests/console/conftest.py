"""Browser tests of the web console: Playwright (async API) driving Debian's Chromium against the
real product (API and stream worker as processes on the session's broker and PostgreSQL).

One pipeline and one browser per module; tests isolate themselves by unit ids and use a fresh
browser context (own storage, own IndexedDB) each.

The API sends its Content-Security-Policy on every response and the console must live under it: every
context made from the ``browser`` fixture collects Content Security Policy violations (Chromium's console
message and the page's ``securitypolicyviolation`` events), and a test with any fails at its end.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from hc_testkit import Pipeline, event

# Playwright comes with the test extra; Chromium is Debian's (the README names it). Missing either fails the
# tests loudly: a skipped browser test would hide a console nobody checked.
from playwright import async_api as playwright_api

from hypercare.entrypoints.embedded_broker import EmbeddedBroker
from hypercare.settings import Settings

CHROMIUM = os.environ.get("HYPERCARE_TEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
WARM_UP_UNIT = "SE2321000131-ERHTANDBOR"


def _unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="module")
async def pipeline(
    broker: EmbeddedBroker, pg_url: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> AsyncIterator[Pipeline]:
    """The module's pipeline; a module's ``PIPELINE_SETTINGS`` (a dict) adds settings (e.g. ``go_live_at``)."""
    log_dir = tmp_path_factory.mktemp("console-pipeline")
    settings = Settings(
        kafka_bootstrap=broker.bootstrap,
        database_url=pg_url,
        data_dir=log_dir,
        topic_prefix=_unique("t"),
        worker_id=_unique("worker"),
        worker_web_port=0,
        **getattr(request.module, "PIPELINE_SETTINGS", {}),
    )
    running = Pipeline(settings, log_dir)
    try:
        await running.start()
        # The first event waits for the worker to join its group; take that wait here, not in a test.
        response = await running.post_events([event("access.login", WARM_UP_UNIT, user_ref="warm", outcome="success")])
        assert response.status_code == 200, response.text
        await running.wait_for(
            f"/api/v1/units/{WARM_UP_UNIT}", lambda unit: unit["access"]["logins_15m"] >= 1, timeout=60
        )
        yield running
    finally:
        running.stop()


# Reports each violation of the page's CSP as a console error the context's listener recognises.
REPORT_CSP_VIOLATIONS = """
document.addEventListener('securitypolicyviolation', (e) => {
  console.error('Content Security Policy violation: ' + e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline')
    + ' at ' + e.sourceFile + ':' + e.lineNumber);
});
"""


class CspWatchingBrowser:
    """The launched browser; every context it makes reports CSP violations into ``violations``."""

    def __init__(self, browser: Any) -> None:
        self._browser = browser
        self.violations: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._browser, name)

    async def new_context(self, **kwargs: Any) -> Any:
        context = await self._browser.new_context(**kwargs)
        await context.add_init_script(REPORT_CSP_VIOLATIONS)

        def on_console(message: Any) -> None:
            if "Content Security Policy" in message.text:
                self.violations.append(message.text)

        context.on("console", on_console)
        context.on("weberror", lambda error: self._page_error(str(error.error)))
        return context

    def _page_error(self, text: str) -> None:
        if "Content Security Policy" in text:
            self.violations.append(text)


@pytest.fixture(scope="module")
async def launched_browser() -> AsyncIterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium)")
    async with playwright_api.async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def browser(launched_browser: Any) -> AsyncIterator[CspWatchingBrowser]:
    """The module's browser; the test fails at its end on any Content Security Policy violation."""
    watching = CspWatchingBrowser(launched_browser)
    yield watching
    assert watching.violations == [], f"Content Security Policy violations: {watching.violations}"


OpenPage = Callable[..., Awaitable[Any]]


@pytest.fixture
async def open_page(browser: Any, pipeline: Pipeline) -> AsyncIterator[OpenPage]:
    """``await open_page(role, hash, width=, height=, token=)``: a signed-in page in a context of its own (with the
    role's token of the pipeline, or ``token``)."""
    contexts: list[Any] = []
    errors: list[str] = []

    async def open_(
        role: str, route: str = "", *, width: int = 1920, height: int = 1080, lang: str = "sv", token: str | None = None
    ) -> Any:
        context = await browser.new_context(
            viewport={"width": width, "height": height}, locale="sv-SE", timezone_id="UTC", base_url=pipeline.base_url
        )
        contexts.append(context)
        token = token or pipeline.tokens[role]
        await context.add_init_script(
            "if (!sessionStorage.getItem('hc.test.init')) {"
            f"  sessionStorage.setItem('hc.token', {token!r}); localStorage.setItem('hc.lang', {lang!r});"
            "  sessionStorage.setItem('hc.test.init', '1'); }"
        )
        page = await context.new_page()
        page.on("pageerror", lambda error: errors.append(f"{role}: {error}"))
        response = await page.goto(f"/console/{route}")
        assert response is not None and "default-src 'self'" in response.headers["content-security-policy"]
        await page.locator("#conn[data-state=live]").wait_for(timeout=15000)
        return page

    yield open_
    for context in contexts:
        await context.close()
    assert errors == [], f"JavaScript errors in the page: {errors}"


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
