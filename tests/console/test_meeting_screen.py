"""The meeting screen: the header strip with the change since the last published report, worst-first tables with a
red/yellow filter, the compact 1366×768 layout with the administrations table above the fold, and trend charts that
mark the running bucket, label their totals, start at go-live and show a unit's own trend.

The module runs on a database of its own (no report published before it) and with ``HYPERCARE_GO_LIVE_AT`` 40
minutes ago: the units of the planned waves (Sahlgrenska's EDs among them) went live then, those of the live wave
(Södra Älvsborg, Närhälsan) in 2024.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hc_testkit import Pipeline, event
from page_text import TEXT_SIZES
from pg_databases import fresh_pg_database

from hypercare.contract.events import new_id

PIPELINE_SETTINGS = {"go_live_at": datetime.now(UTC) - timedelta(minutes=40)}
RED_UNIT = "SE2321000131-ENHBORCEN"  # Närhälsan
GOLIVE_UNIT = "SE2321000131-ESUSAHAKM"  # Sahlgrenska University Hospital, a planned wave: go-live 40 min ago
SIBLING_UNIT = "SE2321000131-ESUOSTAKM"  # the same administration
TICKET_UNIT = "SE2321000131-ESASBOR210"
RANK = {"red": 0, "yellow": 1, "not_assessed": 2, "green": 3}


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    """A database of this module's own: "no report published yet" holds until this module publishes one."""
    with fresh_pg_database("hc_meeting") as url:
        yield url


def logins(unit: str, n: int, *, failed_every: int = 0) -> list[dict[str, Any]]:
    return [
        event(
            "access.login",
            unit,
            user_ref=new_id("u"),
            **(
                {"outcome": "failure", "reason": "card_error"}
                if failed_every and i % failed_every == 0
                else {"outcome": "success"}
            ),
        )
        for i in range(n)
    ]


async def test_header_strip_shows_the_change_since_the_last_published_report(
    open_page: Any, pipeline: Pipeline
) -> None:
    page = await open_page("chief", "#/console")
    strip = page.locator(".change-strip[data-changes=no_published_report]")
    await strip.wait_for(timeout=10000)
    assert "Ingen rapport publicerad ännu" in await strip.inner_text()

    async with pipeline.client("chief") as client:
        made = await client.post("/api/v1/reports", json={"note": "Möte 08:00"})
        assert made.status_code == 201, made.text
        report = made.json()
        report_id = report["report"]["id"]
        assert (await client.post(f"/api/v1/reports/{report_id}/approve")).status_code == 200
        assert (await client.post(f"/api/v1/reports/{report_id}/publish")).status_code == 200
    before = report["content"]["key_figures"]["values"]
    assert set(before) == {
        "tickets_open",
        "login_failure_rate",
        "permission_denied",
        "units_red",
        "units_yellow",
        "diversions_active",
    }

    tickets = [
        event("ticket.opened", TICKET_UNIT, ticket_id=new_id("K"), channel="phone", category="printing", priority=3)
        for _ in range(3)
    ]
    assert (await pipeline.post_events(tickets)).status_code == 200
    await pipeline.wait_for(
        "/api/v1/situation", lambda s: s["region"]["tickets"]["open"] == before["tickets_open"] + 3, timeout=60
    )
    changes = (await pipeline.get("/api/v1/reports/changes", role="viewer")).json()
    assert changes["report"]["id"] == report_id
    opened = next(f for f in changes["figures"] if f["key"] == "tickets_open")
    assert opened == {
        "key": "tickets_open",
        "before": before["tickets_open"],
        "now": before["tickets_open"] + 3,
        "delta": 3,
        "direction": "up",
    }

    await page.reload()
    figure = page.locator(".change-strip[data-changes=compared] li[data-figure=tickets_open][data-direction=up]")
    await figure.wait_for(timeout=10000)
    assert (await figure.locator(".change-delta").inner_text()).replace("\u00a0", " ") == "↑ +3"
    head = await page.locator(".change-strip .change-head").inner_text()
    assert f"Sedan rapport nr {report_id}" in head
    # Every key figure has its label, value and arrow; the same ones in English.
    assert await page.locator(".change-strip li.change").count() == 6
    await page.locator("#lang").click()
    await page.locator(".change-strip li[data-figure=tickets_open] .change-label", has_text="Open tickets").wait_for(
        timeout=5000
    )
    assert f"Since report no. {report_id}" in await page.locator(".change-strip .change-head").inner_text()

    # On the meeting room's wall (1920×1080) the strip, the charts' labels and the tables read from 20 px up.
    wall = await open_page("chief", "?wall=1&cycle=600#/console")
    await wall.locator(".change-strip[data-changes=compared]").wait_for(timeout=10000)
    await wall.locator(".trends .chart .chart-partial").first.wait_for(timeout=15000)
    sizes = await wall.evaluate(TEXT_SIZES)
    measured = {size["cls"] for size in sizes}
    assert {"change-label", "change-delta", "chart-total-label", "chart-partial"} <= measured
    assert [size for size in sizes if size["px"] < 20] == []


# The administrations table's rows with their status and bounding box, and the header's rows.
LAYOUT = """() => {
  const rows = [...document.querySelectorAll('.children tbody tr[data-node-id]')].map((tr) => {
    const box = tr.getBoundingClientRect();
    return { id: tr.dataset.nodeId, status: tr.dataset.status, top: box.top, bottom: box.bottom };
  });
  const bar = document.querySelector('.topbar');
  const parts = [...bar.children].filter((el) => el.getClientRects().length)
    .map((el) => { const b = el.getBoundingClientRect(); return { top: b.top, bottom: b.bottom, right: b.right }; });
  const navLinks = [...document.querySelectorAll('#nav a')].map((a) => a.getBoundingClientRect().top);
  const navRight = Math.max(...[...document.querySelectorAll('#nav a')].map((a) => a.getBoundingClientRect().right));
  const rightLeft = document.querySelector('.topbar-right').getBoundingClientRect().left;
  return { rows, parts, navLinks, navRight, rightLeft, scrollY: window.scrollY,
    barWidth: bar.clientWidth, barScroll: bar.scrollWidth,
    pageScroll: document.documentElement.scrollWidth, pageWidth: document.documentElement.clientWidth };
}"""


async def test_compact_layout_worst_first_and_the_red_yellow_filter(open_page: Any, pipeline: Pipeline) -> None:
    assert (await pipeline.post_events(logins(RED_UNIT, 20, failed_every=2))).status_code == 200
    await pipeline.wait_for(
        "/api/v1/situation",
        lambda s: any(a["health"]["status"] == "red" for a in s["administrations"]),
        timeout=60,
    )
    page = await open_page("chief", "#/console", width=1366, height=768)
    await page.locator(".children tbody tr[data-status=red]").first.wait_for(timeout=10000)
    layout = await page.evaluate(LAYOUT)

    # One header line: every part of the bar and every view link side by side, nothing spilling out.
    tops = [part["top"] for part in layout["parts"]]
    assert max(tops) - min(tops) < 12, layout["parts"]
    assert max(layout["navLinks"]) - min(layout["navLinks"]) < 4
    assert layout["barScroll"] <= layout["barWidth"]
    assert layout["navRight"] <= layout["rightLeft"]  # the view links end before the connection pill begins
    assert layout["pageScroll"] <= layout["pageWidth"]
    # The administrations table above the fold: its first three rows end within the 768 px viewport.
    rows = layout["rows"]
    assert layout["scrollY"] == 0 and len(rows) >= 3
    assert rows[2]["bottom"] < 768, rows[:3]
    # Worst first: red, yellow, not assessed, green.
    ranks = [RANK[row["status"]] for row in rows]
    assert ranks == sorted(ranks) and ranks[0] == 0

    toggle = page.locator("button[data-action=filter-red-yellow]")
    assert await toggle.get_attribute("aria-pressed") == "false"
    await toggle.click()
    await page.locator("button[data-action=filter-red-yellow][aria-pressed=true]").wait_for(timeout=5000)
    shown = [row["status"] for row in (await page.evaluate(LAYOUT))["rows"]]
    assert shown and set(shown) <= {"red", "yellow"}
    assert await page.locator("[data-hidden-rows]").get_attribute("data-hidden-rows") == str(len(rows) - len(shown))
    await page.locator("button[data-action=filter-red-yellow]").click()
    await page.locator("button[data-action=filter-red-yellow][aria-pressed=false]").wait_for(timeout=5000)
    assert len((await page.evaluate(LAYOUT))["rows"]) == len(rows)

    # The header is one line without overlap at every width the console is built for (the admin has most views).
    for width, height in ((1920, 1080), (1600, 900), (1440, 900), (1366, 768)):
        wide = await open_page("admin", "#/console", width=width, height=height)
        await wide.locator(".children tbody tr").first.wait_for(timeout=10000)
        bar = await wide.evaluate(LAYOUT)
        tops = [part["top"] for part in bar["parts"]]
        assert max(tops) - min(tops) < 12 and bar["navRight"] <= bar["rightLeft"], (width, bar["parts"])


CHARTS = """() => [...document.querySelectorAll('.trends .chart')].map((fig) => ({
  label: fig.querySelector('.chart-label').textContent,
  total: fig.querySelector('.chart-value').textContent,
  totalLabel: fig.querySelector('.chart-total-label').textContent,
  bars: fig.querySelectorAll('rect.bar').length,
  partialBars: fig.querySelectorAll('rect.bar--partial').length,
  partial: fig.dataset.partial,
  axisEnd: fig.querySelector('.chart-axis span:last-child').textContent,
}))"""


async def test_charts_start_at_go_live_mark_the_running_bucket_and_a_unit_shows_its_own_trend(
    open_page: Any, pipeline: Pipeline
) -> None:
    response = await pipeline.post_events([*logins(GOLIVE_UNIT, 5), *logins(SIBLING_UNIT, 7)])
    assert response.status_code == 200, response.text
    trend = await pipeline.wait_for(
        f"/api/v1/trends?unit_id={GOLIVE_UNIT}", lambda body: sum(body["unit"]["logins"]) == 5, timeout=60
    )
    assert trend["unit"]["go_live_at"] == PIPELINE_SETTINGS["go_live_at"].isoformat()
    admin = next(a for a in trend["administrations"] if a["administration_id"] == "SE2321000131-FSU")
    assert sum(admin["logins"]) == 12

    page = await open_page("chief", f"#/console/unit/{GOLIVE_UNIT}")
    await page.locator(".trends .chart").first.wait_for(timeout=15000)
    title = await page.locator("#trends-title").inner_text()
    assert title.startswith("Trender sedan driftstart"), title
    charts = {chart["label"]: chart for chart in await page.evaluate(CHARTS)}
    logins_chart = charts["Inloggningar"]
    assert logins_chart["total"] == "5"  # the unit's own logins, not its administration's 12
    assert logins_chart["totalLabel"].startswith("totalt sedan")
    assert 2 <= logins_chart["bars"] <= 4  # 40 minutes of 15-minute buckets, not six hours
    assert logins_chart["partial"] == "true" and logins_chart["partialBars"] == 1
    assert logins_chart["axisEnd"].endswith("pågående")
    assert "Trend för" not in await page.locator(".trends").inner_text()

    # The region went live in 2024: its six hours are shown whole, the last bucket marked as running.
    await page.goto("/console/#/console")
    await page.locator(".trends .chart").first.wait_for(timeout=15000)
    region = {chart["label"]: chart for chart in await page.evaluate(CHARTS)}["Inloggningar"]
    assert region["bars"] == 24 and region["partialBars"] == 1
    assert (await page.locator("#trends-title").inner_text()) == "Trender senaste 6 timmarna"
