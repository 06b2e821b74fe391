"""The daily situation report end to end: a simulated day through ingest, broker and worker into the event
store, then the report's numbers (JSON and the PDF's text) against counts the test makes from what it posted;
approval and publication by chiefs and admins only; a published report unchanged by later events."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

import pytest
from hc_testkit import Pipeline
from report_day import (
    Expected,
    decimal,
    expected_figures,
    fresh_day,
    hours,
    local,
    pdf_text,
    percent,
    resolutions,
    row_after,
    simulate_day,
)
from sqlalchemy import func, select

from hypercare.storage.db import Database
from hypercare.storage.models import StoredEvent

REGION = "SE2321000131-R"
SAS, NH, NU = "SE2321000131-FSAS", "SE2321000131-FNH", "SE2321000131-FNU"
NAMES = {SAS: "Södra Älvsborgs Sjukhus", NH: "Närhälsan", NU: "NU-sjukvården", "region": "Västra Götalandsregionen"}
ADMIN_OF = {
    "SE2321000131-ESASBORAKM": SAS,
    "SE2321000131-ESASBOR240": SAS,
    "SE2321000131-ESASBOR230": SAS,
    "SE2321000131-ESASBORAVA": SAS,
    "SE2321000131-ENHBORCEN": NH,
    "SE2321000131-ENHKINNA": NH,
    "SE2321000131-ENUNALAKM": NU,
}
EDS = ["SE2321000131-ESASBORAKM", "SE2321000131-ENUNALAKM"]
RECEIVING = "SE2321000131-ESUSAHAKM"


async def post_all(pipeline: Pipeline, events: list[dict[str, Any]]) -> None:
    response = await pipeline.post_events(events, role="chief")
    assert response.status_code == 200, response.text
    assert response.json() == {"accepted": len(events), "rejected": []}


async def wait_stored(pipeline: Pipeline, events: list[dict[str, Any]], timeout: float = 90.0) -> None:
    """Until the worker has stored every posted event (the event store is what the report reads)."""
    ids = [event["event_id"] for event in events]
    db = Database.from_url(pipeline.settings.effective_database_url)
    try:
        deadline = time.monotonic() + timeout
        stored = 0
        while time.monotonic() < deadline:
            async with db.sessions() as session:
                query = select(func.count()).select_from(StoredEvent).where(StoredEvent.event_id.in_(ids))
                stored = int((await session.execute(query)).scalar_one())
            if stored == len(ids):
                return
            await asyncio.sleep(0.2)
    finally:
        await db.close()
    raise AssertionError(f"{stored} of {len(ids)} events stored after {timeout:g} s:\n{pipeline.log('worker')}")


def table_row(content: dict[str, Any], key: str, name: str) -> dict[str, Any]:
    tab = next(t for s in content["sections"] for t in s["tables"] if t["key"] == key)
    return next(r for r in [*tab["rows"], tab["total"]] if r["name"] == name)


def assert_json(content: dict[str, Any], expected: dict[str, Expected]) -> None:
    for key, figures in expected.items():
        name = NAMES[key]
        tickets = table_row(content, "tickets", name)
        assert (
            tickets["opened"],
            tickets["resolved"],
            tickets["median"],
            tickets["open"],
            tickets["open_p1"],
            tickets["safety"],
        ) == (
            figures.tickets_opened,
            figures.tickets_resolved,
            figures.median,
            figures.tickets_open,
            figures.tickets_open_p1,
            figures.safety_opened,
        ), name
        access = table_row(content, "access", name)
        assert (access["logins"], access["failures"], access["users"], access["locked"], access["denied"]) == (
            figures.logins,
            figures.failures,
            len(figures.users_failing),
            figures.locked,
            figures.denied,
        ), name
        walkers = table_row(content, "floorwalkers", name)
        assert (walkers["checkins"], walkers["walkers"], walkers["assists"], walkers["escalations"]) == (
            figures.checkins,
            len(figures.walkers),
            figures.assists,
            figures.escalations,
        ), name
        ed = table_row(content, "ed_load", name)
        assert (ed["reports"], ed["max_waiting"], ed["started"], ed["active"]) == (
            figures.ed_reports,
            figures.max_waiting,
            figures.diversions_started,
            figures.diversions_active,
        ), name
        assert ed["hours"] == pytest.approx(figures.diversion_hours, abs=1e-4)


def assert_pdf(text: str, expected: dict[str, Expected]) -> None:
    for key, figures in expected.items():
        name = NAMES[key]
        assert row_after(text, "Ärenden per förvaltning", name)[:6] == [
            str(figures.tickets_opened),
            str(figures.tickets_resolved),
            decimal(figures.median),
            str(figures.tickets_open),
            str(figures.tickets_open_p1),
            str(figures.safety_opened),
        ], name
        assert row_after(text, "Inloggning och behörighet per förvaltning", name)[:6] == [
            str(figures.logins),
            str(figures.failures),
            percent(figures.rate),
            str(len(figures.users_failing)),
            str(figures.locked),
            str(figures.denied),
        ], name
        assert row_after(text, "Floor-walker-täckning per förvaltning", name)[:4] == [
            str(figures.checkins),
            str(len(figures.walkers)),
            str(figures.assists),
            str(figures.escalations),
        ], name
        assert row_after(text, "Akutmottagningar och hänvisningar per förvaltning", name)[:6] == [
            str(figures.ed_reports),
            str(figures.max_waiting) if figures.max_waiting is not None else "–",
            percent(figures.max_occupancy),
            str(figures.diversions_started),
            hours(figures.diversion_hours),
            str(figures.diversions_active),
        ], name


async def test_the_report_of_a_simulated_day_matches_what_was_posted_and_stays_once_published(
    pipeline: Pipeline,
) -> None:
    sim = simulate_day(
        fresh_day(),
        admin_of=ADMIN_OF,
        eds=EDS,
        receiving_ed=RECEIVING,
        region_id=REGION,
        seed=20241112,
        chief=pipeline.names["chief"],
    )
    await post_all(pipeline, sim.events)
    await wait_stored(pipeline, sim.events)
    expected = expected_figures(sim)
    day = sim.day.isoformat()

    preview = await pipeline.get(f"/api/v1/reports/daily?date={day}", role="viewer")
    assert preview.status_code == 200 and preview.headers["x-report-status"] == "preview"
    assert_json(preview.json()["content"], expected)

    async with pipeline.client("viewer") as viewer:
        assert (await viewer.post("/api/v1/reports", json={"date": day})).status_code == 403
    async with pipeline.client("chief") as chief:
        created = await chief.post("/api/v1/reports", json={"date": day, "note": "Inloggningsproblemen minskar."})
        assert created.status_code == 201, created.text
        report_id = created.json()["report"]["id"]
        assert_json(created.json()["content"], expected)
        for role in ("viewer", "agent", "floorwalker"):
            async with pipeline.client(role) as other:
                assert (await other.post(f"/api/v1/reports/{report_id}/approve")).status_code == 403, role
        assert (await chief.post(f"/api/v1/reports/{report_id}/approve")).status_code == 200
    async with pipeline.client("admin") as admin:
        published = await admin.post(f"/api/v1/reports/{report_id}/publish")
        assert published.status_code == 200 and published.json()["report"]["status"] == "published"

    pdf = await pipeline.get(f"/api/v1/reports/daily?date={day}&format=pdf", role="viewer")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = pdf_text(pdf.content)
    assert "PUBLICERAD" in text and "Inloggningsproblemen minskar." in text
    assert_pdf(text, expected)
    before = (await pipeline.get(f"/api/v1/reports/daily?date={day}", role="viewer")).json()

    # New events for the same day arrive after publication: the published report stays as it was.
    late = [
        {
            "event_id": f"late-{report_id}-{n}-{sim.events[0]['event_id']}",
            "type": "ticket.opened",
            "occurred_at": local(sim.day, 15, n).isoformat(),
            "unit_id": "SE2321000131-ESASBOR240",
            "ticket_id": f"LATE-{report_id}-{n}-{sim.events[0]['event_id']}",
            "channel": "phone",
            "category": "login",
            "priority": 1,
            "patient_safety": True,
        }
        for n in range(4)
    ]
    await post_all(pipeline, late)
    await wait_stored(pipeline, late)
    after = await pipeline.get(f"/api/v1/reports/daily?date={day}", role="viewer")
    assert after.headers["x-report-status"] == "published"
    assert after.json() == before
    assert_pdf(pdf_text((await pipeline.get(f"/api/v1/reports/{report_id}?format=pdf")).content), expected)
    async with pipeline.client("chief") as chief:
        refused = await chief.post(f"/api/v1/reports/{report_id}/refresh")
        assert refused.status_code == 409 and "published" in refused.json()["detail"]
    # Tidy up for tests evaluating later moments of the shared database: the late tickets get resolved.
    closing = resolutions(late, sim.end + timedelta(days=1))
    await post_all(pipeline, closing)
    await wait_stored(pipeline, closing)
