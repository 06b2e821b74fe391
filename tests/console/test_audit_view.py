"""The audit log in the browser: an admin sees the sign-in and a viewer's refused write, filters, and the CSV link;
nobody else is offered the view."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hc_testkit import Pipeline, event
from playwright import async_api as playwright_api


async def test_an_admin_reads_and_filters_the_audit_log(open_page: Any, pipeline: Pipeline, artifacts: Path) -> None:
    refused = await pipeline.post_events([event("access.login", "X", user_ref="u", outcome="success")], role="viewer")
    assert refused.status_code == 403
    # The sign-in form's request (open_page puts the token in the tab itself; loading the console is no sign-in).
    async with pipeline.client("admin") as client:
        assert (await client.post("/api/v1/sign-in")).status_code == 200
    admin = await open_page("admin", "#/audit")
    await admin.get_by_role("link", name="Granskningslogg").wait_for()
    table = admin.locator(".audit-table")
    await table.wait_for(timeout=10000)
    this_sign_in = table.locator("tr", has_text="sign_in").filter(has_text=pipeline.names["admin"])
    assert await this_sign_in.count() >= 1

    await admin.get_by_label("Vem", exact=True).fill(pipeline.names["viewer"])
    await admin.get_by_label("Vem", exact=True).press("Enter")
    await admin.get_by_label("Utfall").select_option("forbidden")
    await admin.locator(".audit-table tbody tr", has_text=pipeline.names["viewer"]).first.wait_for(timeout=10000)
    # Polled through a locator: a string predicate that has to be polled runs through eval, which the CSP refuses.
    others = admin.locator(".audit-table tbody tr:not([data-outcome='forbidden'])")
    await playwright_api.expect(others).to_have_count(0, timeout=10000)
    text = await admin.locator(".audit-table tbody tr", has_text=pipeline.names["viewer"]).first.inner_text()
    assert "POST /api/v1/events" in text and "ej behörig" in text and "403" in text
    assert await admin.get_by_role("button", name="Exportera CSV").count() == 1
    await admin.screenshot(path=str(artifacts / "audit.png"))

    chief = await open_page("chief", "#/audit")
    assert await chief.get_by_role("link", name="Granskningslogg").count() == 0
