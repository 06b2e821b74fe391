"""The readiness page in the browser: a wave's gate with exactly its blocking units and their reasons.

Only this test assesses units of the shipped registry's ``vastra`` wave (six units), so its figures are exact on
the shared database: Sahlgrenska's ED is made ready, Östra's ED is short of training (yellow), the other four
are not assessed (red, blocking).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hc_testkit import Pipeline, event

SAH, OST = "SE2321000131-ESUSAHAKM", "SE2321000131-ESUOSTAKM"
BLOCKING = ["SE2321000131-ESUMOLAKM", "SE2321000131-ESUDSBAKM", "SE2321000131-ESIVALIAKM", "SE2321000131-ESIVKUNAKM"]
CHECKS = ("devices_verified", "migration_checked", "super_user_every_shift", "cutover_plan_approved")


def ready(unit: str, staff: float) -> list[dict[str, Any]]:
    return [
        *[event("readiness.assessed", unit, 10, item=check, value=True) for check in CHECKS],
        event("readiness.assessed", unit, 10, item="permissions_matched", value=97),
        event("readiness.assessed", unit, 10, item="staff_trained", value=staff, evidence="Utbildningsexport"),
    ]


async def test_a_waves_gate_shows_exactly_its_blocking_units(
    open_page: Any, pipeline: Pipeline, artifacts: Path
) -> None:
    response = await pipeline.post_events([*ready(SAH, 96), *ready(OST, 80)], role="chief")
    assert response.json() == {"accepted": 12, "rejected": []}
    await pipeline.wait_for(
        "/api/v1/readiness?wave=vastra",
        lambda body: [u["status"] for u in body["units"][:2]] == ["green", "yellow"],
    )

    viewer = await open_page("viewer", "#/readiness")
    await viewer.get_by_role("heading", name="Beredskap före driftstart").wait_for()
    await viewer.get_by_label("Våg").select_option("vastra")
    gate = viewer.locator(".readiness-gate")
    await viewer.locator('.readiness-gate[data-status="red"]').wait_for(timeout=10000)
    assert "1 gröna, 1 gula, 4 röda enheter" in await gate.inner_text()
    await viewer.get_by_role("heading", name="Blockerande enheter (4)").wait_for()
    blocking = viewer.locator(".readiness-blocking > .readiness-unit")
    assert [await blocking.nth(i).get_attribute("data-unit-id") for i in range(await blocking.count())] == BLOCKING
    first = await blocking.first.inner_text()
    assert "Akutmottagning Mölndal" in first and "Lokal omställningsplan godkänd: ej bedömd" in first
    yellow = viewer.locator(".readiness-yellow > .readiness-unit")
    assert await yellow.count() == 1 and await yellow.first.get_attribute("data-unit-id") == OST
    text = await yellow.first.inner_text()
    assert "Personal som genomgått utbildningen: 80 % (grönt från 90 %)" in text and pipeline.names["chief"] in text
    assert await viewer.locator(f'.readiness-unit[data-unit-id="{SAH}"]').count() == 0  # green: not listed
    await viewer.screenshot(path=str(artifacts / "readiness.png"), full_page=True)
