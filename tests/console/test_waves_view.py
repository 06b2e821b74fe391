"""The waves on the chiefs' overview in the browser: the wave filter narrows the table (and survives a reload through
the URL), the timeline shows planned against actual go-live, and the comparison chart shows two waves.

This module runs its own pipeline on the shipped registry with its waves retimed as ``hypercare up --simulate``
retimes them: södra goes live as the module starts, västra is in readiness, norra went live ten days earlier.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
import yaml
from hc_testkit import Pipeline, event

from hypercare.entrypoints.embedded_broker import EmbeddedBroker
from hypercare.entrypoints.simulator.waves import simulation_registry
from hypercare.org.registry import load_org
from hypercare.settings import Settings

NAL_ED = "SE2321000131-ENUNALAKM"  # the norra wave's one unit (30 users: no staff given)
# Set as the module's pipeline starts (not at collection): a region-wide pause another module's test recorded
# earlier concerns the wave in progress then (norra here), not the södra wave this module sees go live.
CLOCK: dict[str, datetime] = {}
CONSOLE_JS = Path(__file__).resolve().parents[2] / "console" / "js"
WARM_UP_UNIT = "SE2321000131-ERHTANDBOR"


def _unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="module")
async def pipeline(
    broker: EmbeddedBroker, pg_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Pipeline]:
    log_dir = tmp_path_factory.mktemp("waves-pipeline")
    CLOCK["start"] = datetime.now(UTC).replace(microsecond=0)
    CLOCK["norra"] = CLOCK["start"] - timedelta(days=10)
    text = files("hypercare.org").joinpath("default_org.yaml").read_text(encoding="utf-8")
    org_file = log_dir / "org.yaml"
    document = simulation_registry(yaml.safe_load(text), load_org(None), CLOCK["start"])
    org_file.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    settings = Settings(
        kafka_bootstrap=broker.bootstrap,
        database_url=pg_url,
        data_dir=log_dir,
        topic_prefix=_unique("t"),
        worker_id=_unique("worker"),
        worker_web_port=0,
        org_file=org_file,
    )
    running = Pipeline(settings, log_dir)
    try:
        await running.start()
        response = await running.post_events([event("access.login", WARM_UP_UNIT, user_ref="warm", outcome="success")])
        assert response.status_code == 200, response.text
        await running.wait_for(
            f"/api/v1/units/{WARM_UP_UNIT}", lambda unit: unit["access"]["logins_15m"] >= 1, timeout=60
        )
        yield running
    finally:
        running.stop()


def at(moment: datetime, **fields: Any) -> dict[str, Any]:
    return {**fields, "occurred_at": moment.isoformat()}


async def test_the_wave_filter_narrows_the_overview_and_survives_a_reload(open_page: Any, artifacts: Path) -> None:
    chief = await open_page("chief", "#/console")
    rows = chief.locator(".children tbody tr")
    await chief.locator('.wave-filter select[name="wave"] option[value="norra"]').wait_for(state="attached")
    assert await rows.count() == 7
    await chief.get_by_label("Våg", exact=True).select_option("norra")
    await chief.locator('.wave-filter-note[data-shown="1"]').wait_for()
    assert await rows.count() == 1
    assert await rows.first.get_attribute("data-node-id") == "SE2321000131-FNU"
    assert "Visar 1 av 7" in await chief.locator(".wave-filter-note").inner_text()
    assert re.search(r"[?&]wave=norra\b", chief.url)
    # Area västra: the two administrations of the västra wave.
    await chief.get_by_label("Våg", exact=True).select_option("")
    await chief.get_by_label("Område", exact=True).select_option("vastra")
    await chief.locator('.wave-filter-note[data-shown="2"]').wait_for()
    ids = {await rows.nth(i).get_attribute("data-node-id") for i in range(await rows.count())}
    assert ids == {"SE2321000131-FSU", "SE2321000131-FSIV"}

    await chief.reload()
    await chief.locator('.wave-filter-note[data-shown="2"]').wait_for(timeout=15000)
    assert await chief.get_by_label("Område", exact=True).input_value() == "vastra"

    # The timeline: planned and actual go-live per wave, with the status the waves API gives.
    timeline = chief.locator(".wave-timeline")
    assert await timeline.locator('.wave-row[data-wave-id="sodra"][data-status="live"]').count() == 1
    assert await timeline.locator('.wave-row[data-wave-id="vastra"][data-status="readiness"]').count() == 1
    ready = await timeline.locator('.wave-row[data-wave-id="vastra"]').inner_text()
    assert "Planerad" in ready and "ej live" in ready
    assert await timeline.locator('.wave-row[data-wave-id="norra"] [data-mark="actual"]').count() == 1
    await chief.screenshot(path=str(artifacts / "waves-filter.png"), full_page=True)


async def test_the_comparison_chart_shows_two_waves_per_100_users(
    open_page: Any, pipeline: Pipeline, artifacts: Path
) -> None:
    # Norra, hour 1 after its go-live: 6 tickets on a unit of 30 users = 20 per 100 users.
    tickets = [
        {
            **event(
                "ticket.opened",
                NAL_ED,
                ticket_id=f"waves-{i}-{CLOCK['start'].timestamp():.0f}",
                channel="phone",
                category="login",
                priority=3,
            ),
            **at(CLOCK["norra"] + timedelta(hours=1, minutes=5 * i)),
        }
        for i in range(6)
    ]
    response = await pipeline.post_events(tickets)
    assert response.json()["accepted"] == 6, response.text
    await pipeline.wait_for(
        "/api/v1/waves/compare?waves=norra",
        lambda body: body["waves"][0]["buckets"][1]["figures"]["tickets"] == 6,
        timeout=30,
    )

    chief = await open_page("chief", "#/console")
    charts = chief.locator(".wave-compare .wave-chart")
    await charts.nth(1).wait_for(timeout=15000)
    assert [await charts.nth(i).get_attribute("data-wave-id") for i in range(await charts.count())] == [
        "sodra",
        "norra",
    ]
    norra = charts.nth(1)
    assert "30 användare" in await norra.inner_text()
    titles = await norra.locator("svg rect title").evaluate_all("(els) => els.map((e) => e.textContent)")
    assert len(titles) == 72 and titles[1] == "timme 1: 20"
    # The caption names the bucket it shows (the latest begun one), not a bare number that reads as a total.
    assert re.fullmatch(r"timme \d+: [\d,]+", await norra.locator(".chart-value").inner_text())
    await chief.screenshot(path=str(artifacts / "waves-compare.png"), full_page=True)

    # In English, from the same strings table.
    english = await open_page("chief", "#/console", lang="en")
    await english.get_by_role("heading", name="Waves: planned and actual go-live").wait_for()
    english_charts = english.locator(".wave-compare .wave-chart")
    await english_charts.nth(1).wait_for(timeout=15000)
    english_titles = (
        await english_charts.nth(1).locator("svg rect title").evaluate_all("(els) => els.map((e) => e.textContent)")
    )
    assert english_titles[1] == "hour 1: 20"
    assert await english.get_by_label("Wave", exact=True).count() == 1


async def test_both_languages_have_every_waves_string(open_page: Any) -> None:
    source = (CONSOLE_JS / "views" / "waves.js").read_text(encoding="utf-8")
    used = set(re.findall(r't\("(waves\.[a-z0-9_.]+)"', source))
    used |= {f"waves.compare.m.{m}" for m in re.findall(r'"([a-z_]+_per_100_users|login_failure_rate)"', source)}
    used |= {f"waves.compare.span.{s}" for s in ("72h", "14d")}
    used |= {f"waves.rollout.{s}" for s in ("paused", "rolled_back", "resumed")}
    used |= {f"waves.handover.{d}" for d in ("handover", "extend")}
    used |= {"waves.compare.hour", "waves.compare.day"}
    page = await open_page("viewer", "#/console")
    tables = await page.evaluate(
        """async () => {
          const sv = (await import('/console/js/i18n/sv.js')).sv;
          const en = (await import('/console/js/i18n/en.js')).en;
          const keys = (table) => Object.keys(table).filter((k) => k.startsWith('waves.') || k.startsWith('wave.'));
          return { sv: keys(sv), en: keys(en) };
        }"""
    )
    assert sorted(tables["sv"]) == sorted(tables["en"])
    assert used <= set(tables["sv"]), sorted(used - set(tables["sv"]))
