"""The decision log in the browser: a chief records and corrects a decision, a viewer reads and searches it."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from pathlib import Path
from typing import Any

from hc_testkit import Pipeline, event


async def test_a_chief_records_and_corrects_a_decision_and_a_viewer_finds_it(
    open_page: Any, pipeline: Pipeline, artifacts: Path
) -> None:
    chief = await open_page("chief", "#/decisions")
    tag = uuid.uuid4().hex[:6]  # the database is shared with earlier runs: search for this run's entry only
    title = f"Pausa våg 2 {tag}"
    await chief.get_by_role("button", name="Nytt beslut").click()
    dialog = chief.locator("dialog[open]")
    await dialog.get_by_label("Rubrik").fill(title)
    await dialog.get_by_label("Beslut", exact=True).fill("Pausa införandet av våg 2 till måndag")
    await dialog.get_by_label("Motivering").fill("<img src=x onerror=window.__pwned=1> inloggningsfel över 25 %")
    await dialog.get_by_label("Mandat").fill("Regional särskild sjukvårdsledning")
    await dialog.get_by_label("Ansvarig").fill("Driftchef")
    await dialog.get_by_role("button", name="Spara i beslutsloggen").click()
    await chief.locator("dialog[open]").wait_for(state="detached")

    entry = chief.locator(".decision", has_text=title)
    await entry.wait_for(timeout=10000)
    text = await entry.inner_text()
    assert "Regional särskild sjukvårdsledning" in text and pipeline.names["chief"] in text
    assert "<img src=x onerror=window.__pwned=1>" in text
    assert await chief.evaluate("window.__pwned") is None

    # A correction is a new entry; the original stays and says who corrected it.
    original_id = await entry.get_attribute("data-decision-id")
    await entry.get_by_role("button", name="Rätta").click()
    dialog = chief.locator("dialog[open]")
    await dialog.get_by_label("Beslut", exact=True).fill(f"Pausa införandet av våg 2 till tisdag {tag}")
    await dialog.get_by_role("button", name="Spara i beslutsloggen").click()
    await chief.locator(".decision", has_text=f"Rättar {original_id}").wait_for(timeout=10000)
    await chief.locator(f'.decision[data-decision-id="{original_id}"]', has_text="Rättat av").wait_for(timeout=10000)
    assert "till måndag" in await chief.locator(f'.decision[data-decision-id="{original_id}"]').inner_text()
    await chief.screenshot(path=str(artifacts / "decisions.png"))

    viewer = await open_page("viewer", "#/decisions")
    assert await viewer.get_by_role("button", name="Nytt beslut").count() == 0
    assert await viewer.get_by_role("button", name="Rätta").count() == 0
    await viewer.locator(".decision").nth(1).wait_for()  # the unfiltered log has loaded (original and correction)
    await viewer.get_by_label("Sök").fill(f"tisdag {tag}")
    await viewer.get_by_label("Sök").press("Enter")
    await viewer.locator(".decision").nth(1).wait_for(state="detached", timeout=10000)  # the filtered list
    assert await viewer.locator(".decision").count() == 1
    assert "till tisdag" in await viewer.locator(".decision").inner_text()


async def test_a_late_answer_to_an_earlier_search_never_replaces_the_newer_one(
    open_page: Any, pipeline: Pipeline
) -> None:
    tag = uuid.uuid4().hex[:6]
    decision = event(
        "decision.recorded",
        "SE2321000131-ESASBOR210",
        decision_id=f"B-late-{tag}",
        title=f"Sen sökning {tag}",
        decision="Visa det nyaste svaret",
    )
    assert (await pipeline.post_events([decision], role="chief")).json()["accepted"] == 1
    await pipeline.wait_for(f"/api/v1/decisions?q={tag}", lambda body: len(body["items"]) == 1, timeout=30)

    viewer = await open_page("viewer", "#/decisions")
    await viewer.locator(".decision").first.wait_for()
    held = asyncio.Event()

    async def hold_the_first_search(route: Any) -> None:
        if f"q=ingenting-{tag}" in route.request.url:
            held.set()
            await asyncio.sleep(2)  # this answer (an empty list) comes in long after the next search's
        with contextlib.suppress(Exception):  # the console may have aborted it meanwhile: nothing to continue
            await route.continue_()

    await viewer.route("**/api/v1/decisions?*", hold_the_first_search)
    search = viewer.get_by_label("Sök")
    await search.fill(f"ingenting-{tag}")
    await search.press("Enter")
    await asyncio.wait_for(held.wait(), timeout=10)
    await search.fill(tag)
    await search.press("Enter")
    entry = viewer.locator(f'.decision[data-decision-id="B-late-{tag}"]')
    await entry.wait_for(timeout=10000)
    await asyncio.sleep(3)  # past the held answer
    assert await entry.count() == 1
    assert await viewer.locator(".decision").count() == 1
