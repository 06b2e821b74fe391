"""Draft → approved → published: who may do what, refused transitions, and a published report that never changes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from report_api import ReportApi
from report_day import expected_figures, fresh_day, local, pdf_text, resolutions, row_after, simulate_day
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from services.reports import store as report_store

READERS = ("admin", "chief", "agent", "floorwalker", "viewer")


def tickets_row(content: dict[str, Any], name: str) -> dict[str, Any]:
    tab = next(t for s in content["sections"] for t in s["tables"] if t["key"] == "tickets")
    return next(r for r in [*tab["rows"], tab["total"]] if r["name"] == name)


async def test_only_chiefs_and_admins_create_approve_and_publish(api: ReportApi) -> None:
    day = fresh_day().isoformat()
    for role in ("agent", "floorwalker", "viewer", "source"):
        refused = await api.post("/api/v1/reports", role=role, json={"date": day})
        assert refused.status_code == 403, role
        assert "chief" in refused.json()["detail"] and "admin" in refused.json()["detail"]
    created = await api.post("/api/v1/reports", role="chief", json={"date": day, "note": "Stabilt läge."})
    assert created.status_code == 201, created.text
    report = created.json()["report"]
    assert (report["status"], report["day"], report["created_by"]) == ("draft", day, f"report-chief-{api.org.tag}")
    assert created.json()["content"]["note"] == "Stabilt läge."
    report_id = report["id"]

    again = await api.post("/api/v1/reports", role="admin", json={"date": day})
    assert again.status_code == 409 and f"report {report_id} (draft)" in again.json()["detail"]
    for role in ("agent", "floorwalker", "viewer"):
        for action in ("approve", "publish", "refresh"):
            assert (await api.post(f"/api/v1/reports/{report_id}/{action}", role=role)).status_code == 403
    early = await api.post(f"/api/v1/reports/{report_id}/publish", role="chief")
    assert early.status_code == 409 and "must approve it" in early.json()["detail"]

    approved = await api.post(f"/api/v1/reports/{report_id}/approve", role="chief")
    assert approved.status_code == 200
    assert approved.json()["report"]["status"] == "approved"
    assert approved.json()["report"]["approved_by"] == f"report-chief-{api.org.tag}"
    twice = await api.post(f"/api/v1/reports/{report_id}/approve", role="admin")
    assert twice.status_code == 409 and "already approved" in twice.json()["detail"]

    # New numbers need a new approval: a refresh takes the report back to draft.
    refreshed = await api.post(f"/api/v1/reports/{report_id}/refresh", role="chief", json={"note": "Ny bedömning."})
    assert refreshed.status_code == 200
    assert refreshed.json()["report"]["status"] == "draft" and refreshed.json()["report"]["approved_by"] is None
    assert refreshed.json()["content"]["note"] == "Ny bedömning."
    assert refreshed.json()["report"]["snapshot_at"] > report["snapshot_at"]
    assert (await api.post(f"/api/v1/reports/{report_id}/approve", role="admin")).status_code == 200
    published = await api.post(f"/api/v1/reports/{report_id}/publish", role="chief")
    assert published.status_code == 200
    assert published.json()["report"]["status"] == "published"

    for action in ("approve", "publish", "refresh"):
        final = await api.post(f"/api/v1/reports/{report_id}/{action}", role="admin")
        assert final.status_code == 409 and "published" in final.json()["detail"], action
    duplicate = await api.post("/api/v1/reports", role="chief", json={"date": day})
    assert duplicate.status_code == 409 and "already published" in duplicate.json()["detail"]
    assert (await api.post("/api/v1/reports/999999999/approve", role="chief")).status_code == 404

    for role in READERS:
        daily = await api.get("/api/v1/reports/daily", role=role, date=day)
        assert daily.status_code == 200 and daily.headers["x-report-status"] == "published", role
        assert daily.headers["x-report-id"] == str(report_id)
    listing = (await api.get("/api/v1/reports", status="published", limit=1000)).json()
    assert report_id in [item["id"] for item in listing["items"]]
    one = await api.get(f"/api/v1/reports/{report_id}", format="md")
    assert "PUBLICERAD" in one.text and "Ny bedömning." in one.text


async def test_a_published_report_does_not_change_when_new_events_arrive(api: ReportApi) -> None:
    sim = simulate_day(
        fresh_day(),
        admin_of=api.org.admin_of,
        eds=api.org.eds,
        receiving_ed=api.org.unit("B1RX"),
        region_id=api.org.region,
    )
    await api.store(sim.events)
    expected = expected_figures(sim)["region"]
    report_id = (await api.post("/api/v1/reports", json={"date": sim.day.isoformat()})).json()["report"]["id"]
    await api.post(f"/api/v1/reports/{report_id}/approve")
    await api.post(f"/api/v1/reports/{report_id}/publish", role="admin")
    before = (await api.get("/api/v1/reports/daily", date=sim.day.isoformat())).json()
    pdf_before = (await api.get(f"/api/v1/reports/{report_id}", format="pdf")).content
    assert tickets_row(before["content"], "Testregionen")["opened"] == expected.tickets_opened

    late = [
        {
            "event_id": f"late-{api.org.tag}-{n}",
            "type": "ticket.opened",
            "occurred_at": local(sim.day, 12, n).isoformat(),
            "unit_id": api.org.unit("A1W1"),
            "ticket_id": f"LATE-{api.org.tag}-{n}",
            "channel": "phone",
            "category": "login",
            "priority": 1,
        }
        for n in range(3)
    ]
    await api.store(late)
    after = (await api.get("/api/v1/reports/daily", date=sim.day.isoformat())).json()
    assert after == before
    assert tickets_row(after["content"], "Testregionen")["opened"] == expected.tickets_opened
    printed = pdf_text((await api.get(f"/api/v1/reports/{report_id}", format="pdf")).content)
    assert row_after(printed, "Ärenden per förvaltning", "Testregionen")[0] == str(expected.tickets_opened)
    assert pdf_text(pdf_before) == printed
    # The store of record refuses too: a trigger guards published rows against any UPDATE or DELETE.
    for statement in (
        f"UPDATE reports SET status = 'draft' WHERE id = {report_id}",
        f"DELETE FROM reports WHERE id = {report_id}",
    ):
        with pytest.raises(DBAPIError, match="immutable"):
            async with api.db.engine.begin() as connection:
                await connection.execute(text(statement))
    # And the workflow meets the trigger if a published row is ever reached (a race): a clear conflict, no change.
    with pytest.raises(report_store.ReportConflict, match="can no longer be changed"):
        await report_store.transition(
            api.db, report_id, from_statuses=("published",), values={"status": "draft"}, action="refresh"
        )
    await api.store(resolutions(late, sim.end + timedelta(days=1)))


async def test_since_the_last_meeting_starts_at_the_last_published_snapshot(api: ReportApi) -> None:
    if api.db.dialect == "sqlite":  # a fresh database: no meeting yet
        refused = await api.post("/api/v1/reports", json={"kind": "since_last_meeting"})
        assert refused.status_code == 409 and "no report has been published" in refused.json()["detail"]
    day = fresh_day().isoformat()
    report_id = (await api.post("/api/v1/reports", json={"date": day})).json()["report"]["id"]
    await api.post(f"/api/v1/reports/{report_id}/approve")
    meeting = (await api.post(f"/api/v1/reports/{report_id}/publish")).json()["report"]
    snapshot = datetime.fromisoformat(meeting["snapshot_at"])

    unit = api.org.unit("B1W1")
    before = snapshot - timedelta(milliseconds=5)
    after = snapshot + timedelta(milliseconds=5)
    opened = [
        {
            "event_id": f"slm-{api.org.tag}-{n}",
            "type": "ticket.opened",
            "occurred_at": moment.isoformat(),
            "unit_id": unit,
            "ticket_id": f"SLM-{api.org.tag}-{n}",
            "channel": "chat",
            "category": "printing",
            "priority": 3,
        }
        for n, moment in enumerate((before, after, after))
    ]
    await api.store(opened)
    while datetime.now(UTC) <= after:
        await asyncio.sleep(0.01)
    created = await api.post("/api/v1/reports", json={"kind": "since_last_meeting", "note": "Möte 2"})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["report"]["kind"] == "since_last_meeting"
    assert datetime.fromisoformat(body["report"]["period_start"]) == snapshot
    assert body["content"]["title"].startswith("Lägesbild sedan förra mötet")
    assert tickets_row(body["content"], "Förvaltning Beta")["opened"] == 2  # not the one before the meeting
    await api.store(resolutions(opened, datetime.now(UTC)))
    # Only one open report of a kind per day; then approve and publish it like any other.
    assert (await api.post("/api/v1/reports", json={"kind": "since_last_meeting"})).status_code == 409
    second = body["report"]["id"]
    assert (await api.post(f"/api/v1/reports/{second}/approve")).status_code == 200
    assert (await api.post(f"/api/v1/reports/{second}/publish")).status_code == 200
    md = await api.get(f"/api/v1/reports/{second}", format="md")
    assert "lagesbild-sedan-forra-motet-" in md.headers["content-disposition"]
