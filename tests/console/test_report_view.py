"""The situation report in the browser: a chief previews, drafts, approves and publishes a day's report and
downloads it as PDF; a viewer reads it and gets no workflow buttons."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from hc_testkit import Pipeline
from report_day import fresh_day, local, pdf_text, resolutions


def opened_on(day: Any, n: int) -> dict[str, Any]:
    return {
        "event_id": f"view-{day:%Y%m%d}-{n}",
        "type": "ticket.opened",
        "occurred_at": local(day, 9, n).isoformat(),
        "unit_id": "SE2321000131-ESASBOR240",
        "ticket_id": f"VIEW-{day:%Y%m%d}-{n}",
        "channel": "phone",
        "category": "printing",
        "priority": 3,
    }


async def test_a_chief_publishes_the_days_report_and_a_viewer_reads_it(
    open_page: Any, pipeline: Pipeline, artifacts: Path
) -> None:
    day = fresh_day()
    events = [opened_on(day, n) for n in range(3)]
    assert (await pipeline.post_events(events, role="chief")).json()["accepted"] == 3

    def opened(body: dict[str, Any]) -> int:
        overview = body["content"]["sections"][0]
        return next(item["value"] for item in overview["figures"] if item["key"] == "tickets_opened")

    await pipeline.wait_for(f"/api/v1/reports/daily?date={day.isoformat()}", lambda body: opened(body) == 3)

    chief = await open_page("chief", "#/report")
    await chief.get_by_role("heading", name="Lägesrapport").wait_for()
    await chief.get_by_label("Dag").fill(day.isoformat())
    await chief.get_by_role("button", name="Visa", exact=True).first.click()
    status = chief.locator(".report-status")
    # The page opens on today's report (a preview too): wait for the chosen day's.
    await chief.locator(f'.report-status[data-status="preview"][data-day="{day.isoformat()}"]').wait_for()
    assert await chief.locator('[data-figure="tickets_opened"] dd').inner_text() == "3"

    await chief.get_by_role("button", name="Skapa utkast").click()
    dialog = chief.locator("dialog[open]")
    await dialog.get_by_label("Bedömning").fill("<img src=x onerror=window.__pwned=1> Läget är stabilt.")
    await dialog.get_by_role("button", name="Skapa utkast").click()
    await chief.locator('.report-status[data-status="draft"]').wait_for()
    assert "<img src=x onerror=window.__pwned=1> Läget är stabilt." in await chief.locator(".report-note").inner_text()
    assert await chief.evaluate("window.__pwned") is None

    await chief.get_by_role("button", name="Godkänn").click()
    await chief.locator('.report-status[data-status="approved"]').wait_for()
    await chief.get_by_role("button", name="Publicera").click()
    await chief.locator("dialog[open]").get_by_role("button", name="Publicera").click()
    await chief.locator('.report-status[data-status="published"]').wait_for()
    assert f"godkänd av {pipeline.names['chief']}" in await status.inner_text()
    async with chief.expect_download() as downloading:
        await chief.get_by_role("button", name="Ladda ner PDF").click()
    download = await downloading.value
    assert download.suggested_filename == f"lagesbild-{day.isoformat()}.pdf"
    text = pdf_text(Path(await download.path()).read_bytes())
    assert "PUBLICERAD" in text and "Läget är stabilt." in text
    await chief.screenshot(path=str(artifacts / "report.png"))

    viewer = await open_page("viewer", "#/report")
    await viewer.get_by_label("Dag").fill(day.isoformat())
    await viewer.get_by_role("button", name="Visa", exact=True).first.click()
    await viewer.locator(f'.report-status[data-status="published"][data-day="{day.isoformat()}"]').wait_for()
    for name in ("Skapa utkast", "Godkänn", "Publicera", "Uppdatera siffrorna"):
        assert await viewer.get_by_role("button", name=name).count() == 0, name
    assert await viewer.get_by_role("button", name="Ladda ner Markdown").count() == 1
    # Tidy up: a later moment of the shared database inherits no open tickets from this day.
    assert (
        await pipeline.post_events(resolutions(events, local(day + timedelta(days=2), 0)), role="chief")
    ).status_code == 200
