"""The report of a simulated day states the numbers the event store holds, in JSON, Markdown, HTML and PDF.

The expected figures are counted by the test from the events it stored (tests/_support/report_day.py),
never through the report's own code.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from report_api import ReportApi
from report_day import (
    Day,
    Expected,
    decimal,
    expected_figures,
    fresh_day,
    hours,
    pdf_text,
    percent,
    row_after,
    simulate_day,
)


def section(content: dict[str, Any], key: str) -> dict[str, Any]:
    return next(s for s in content["sections"] if s["key"] == key)


def table(content: dict[str, Any], key: str) -> dict[str, Any]:
    return next(t for s in content["sections"] for t in s["tables"] if t["key"] == key)


def row(tab: dict[str, Any], name: str) -> dict[str, Any]:
    """The row (or total) named ``name``, without the node ids a scoped reader's cut uses (checked apart)."""
    if tab["total"] and tab["total"].get("name") == name:
        return dict(tab["total"])
    found = next(r for r in tab["rows"] if r.get("name") == name)
    return {column: value for column, value in found.items() if column != "nodes"}


def figure(content: dict[str, Any], key: str) -> Any:
    return next(f["value"] for f in section(content, "overview")["figures"] if f["key"] == key)


async def simulated(api: ReportApi) -> Day:
    sim = simulate_day(
        fresh_day(),
        admin_of=api.org.admin_of,
        eds=api.org.eds,
        receiving_ed=api.org.unit("B1RX"),
        region_id=api.org.region,
    )
    await api.store(sim.events)
    return sim


def names(api: ReportApi) -> dict[str, str]:
    return {api.org.admin_a: "Förvaltning Alfa", api.org.admin_b: "Förvaltning Beta", "region": "Testregionen"}


def check_tables(content: dict[str, Any], expected: dict[str, Expected], label: dict[str, str]) -> None:
    for key, figures in expected.items():
        name = label[key]
        if key != "region":
            tickets_row = next(r for r in table(content, "tickets")["rows"] if r["name"] == name)
            assert tickets_row["nodes"] == [key]
        assert row(table(content, "tickets"), name) == {
            "name": name,
            "opened": figures.tickets_opened,
            "resolved": figures.tickets_resolved,
            "median": figures.median,
            "open": figures.tickets_open,
            "open_p1": figures.tickets_open_p1,
            "safety": figures.safety_opened,
        }, name
        access = row(table(content, "access"), name)
        assert (access["logins"], access["failures"], access["users"], access["locked"], access["denied"]) == (
            figures.logins,
            figures.failures,
            len(figures.users_failing),
            figures.locked,
            figures.denied,
        ), name
        assert access["rate"] == pytest.approx(figures.rate, abs=1e-6)
        walkers = row(table(content, "floorwalkers"), name)
        assert (
            walkers["checkins"],
            walkers["walkers"],
            walkers["assists"],
            walkers["escalations"],
            walkers["visited"],
            walkers["unvisited"],
        ) == (
            figures.checkins,
            len(figures.walkers),
            figures.assists,
            figures.escalations,
            len(figures.visited),
            len(figures.ticket_units - figures.visited),
        ), name
        ed = row(table(content, "ed_load"), name)
        assert (ed["reports"], ed["max_waiting"], ed["started"], ed["active"]) == (
            figures.ed_reports,
            figures.max_waiting,
            figures.diversions_started,
            figures.diversions_active,
        ), name
        assert ed["hours"] == pytest.approx(figures.diversion_hours, abs=1e-4)
        assert ed["max_occupancy"] == pytest.approx(figures.max_occupancy, abs=1e-6)


def printed_rows(expected: Expected) -> dict[str, list[str]]:
    """The cells each per-administration table prints for these figures."""
    return {
        "Ärenden per förvaltning": [
            str(expected.tickets_opened),
            str(expected.tickets_resolved),
            decimal(expected.median),
            str(expected.tickets_open),
            str(expected.tickets_open_p1),
            str(expected.safety_opened),
        ],
        "Inloggning och behörighet per förvaltning": [
            str(expected.logins),
            str(expected.failures),
            percent(expected.rate),
            str(len(expected.users_failing)),
            str(expected.locked),
            str(expected.denied),
        ],
        "Akutmottagningar och hänvisningar per förvaltning": [
            str(expected.ed_reports),
            str(expected.max_waiting),
            percent(expected.max_occupancy),
            str(expected.diversions_started),
            hours(expected.diversion_hours),
            str(expected.diversions_active),
        ],
    }


async def test_the_report_of_a_simulated_day_matches_the_event_store(api: ReportApi) -> None:
    sim = await simulated(api)
    expected = expected_figures(sim)
    label = names(api)
    response = await api.get("/api/v1/reports/daily", date=sim.day.isoformat())
    assert response.status_code == 200, response.text
    assert response.headers["x-report-status"] == "preview"
    body = response.json()
    content = body["content"]
    assert body["report"]["status"] == "preview" and body["report"]["id"] is None
    assert datetime.fromisoformat(content["period"]["start"]) == sim.start
    assert datetime.fromisoformat(content["period"]["counted_until"]) == sim.end
    check_tables(content, expected, label)

    region = expected["region"]
    assert figure(content, "tickets_opened") == region.tickets_opened
    assert figure(content, "tickets_open") == region.tickets_open
    assert figure(content, "patient_safety") == region.safety_opened
    decision_types = ("decision.recorded", "ed.diversion_started", "ed.diversion_ended")
    assert figure(content, "decisions") == sum(
        1
        for e in sim.events
        if e["type"] in decision_types and sim.start <= datetime.fromisoformat(e["occurred_at"]) < sim.end
    )
    assert figure(content, "diversions_active") == 1
    assert figure(content, "duties_open") == 1
    assert figure(content, "risks_open") == 1

    # Patient safety: every flagged ticket opened in the day, with its (escaped) summary and the duty it opened.
    safety = table(content, "patient_safety_tickets")
    flagged = sorted(t.ticket_id for t in sim.tickets if t.patient_safety and sim.start <= t.opened_at < sim.end)
    assert sorted(r["ticket_id"] for r in safety["rows"]) == flagged
    safety_figures = {f["key"]: f["value"] for f in section(content, "patient_safety")["figures"]}
    assert safety_figures["safety_duties"] == 1
    # Trends: the hourly buckets sum to the day's events, the same counting as GET /api/v1/trends.
    charts = {c["key"]: c for c in section(content, "trends")["charts"]}
    assert len(charts["tickets"]["buckets"]) == 24
    assert sum(charts["tickets"]["series"][0]["values"]) == region.tickets_opened
    assert sum(charts["tickets"]["series"][1]["values"]) == region.tickets_resolved
    assert sum(charts["logins"]["series"][1]["values"]) == region.failures

    # The stop criteria are those the console shows for the end of that day (GET /api/v1/stop-criteria?at=).
    at = (sim.end - timedelta(microseconds=1)).isoformat()
    console = (await api.get("/api/v1/stop-criteria", at=at)).json()
    stop_rows = table(content, "stop_criteria")["rows"]
    assert [r["value"]["value"] for r in stop_rows] == [c["value"] for c in console["criteria"]]
    assert [r["met"] != "Överskriden – stopp" for r in stop_rows] == [c["met"] for c in console["criteria"]]
    assert content["stop_criteria_overall"] == console["overall"]
    diversion = next(r for r in stop_rows if r["title"].startswith("Hänvisningstimmar"))
    assert diversion["value"]["value"] == pytest.approx(region.diversion_hours)

    # Every number cites a defined source, and every source states the snapshot time.
    sources = {s["id"]: s["text"] for s in content["sources"]}
    for part in content["sections"]:
        for item in part["figures"]:
            assert item["src"] in sources
        for tab in part["tables"]:
            for column in tab["columns"]:
                assert column["fmt"] == "text" or (column["src"] or tab["src"]) in sources, (tab["key"], column)
    assert all("Ögonblicksbild" in text for text in sources.values())

    # The same numbers in the PDF's text (pdftotext) and in the Markdown.
    pdf = await api.get("/api/v1/reports/daily", date=sim.day.isoformat(), format="pdf")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert f"lagesbild-{sim.day.isoformat()}.pdf" in pdf.headers["content-disposition"]
    text = pdf_text(pdf.content)
    markdown = (await api.get("/api/v1/reports/daily", date=sim.day.isoformat(), format="md")).text
    for key, figures in expected.items():
        for heading, cells in printed_rows(figures).items():
            assert row_after(text, heading, label[key])[: len(cells)] == cells, (key, heading)
            md_row = f"| {label[key]} | " if key != "region" else f"| **{label[key]}** | "
            md_line = next(
                line
                for line in markdown.splitlines()
                if line.startswith(md_row) and markdown.index(line) > markdown.index(f"### {heading}")
            )
            md_cells = [cell.strip().strip("*") for cell in md_line.strip("|").split("|")][1:]
            assert md_cells[: len(cells)] == cells, (key, heading, md_line)
    assert "Ögonblicksbild" in text and "FÖRHANDSVISNING" in text
    assert "[personnummer" not in text  # nothing to redact here, and nothing invented


async def test_the_report_of_today_counts_up_to_the_snapshot(api: ReportApi) -> None:
    response = await api.get("/api/v1/reports/daily")
    assert response.status_code == 200
    content = response.json()["content"]
    assert content["period"]["complete"] is False
    assert content["period"]["counted_until"] == content["as_of"]


async def test_report_of_a_day_not_begun_is_refused_and_formats_are_checked(api: ReportApi) -> None:
    day = (await api.get("/api/v1/reports/daily")).json()["report"]["day"]
    tomorrow = date.fromisoformat(day) + timedelta(days=2)
    refused = await api.get("/api/v1/reports/daily", date=tomorrow.isoformat())
    assert refused.status_code == 422 and "has not begun" in refused.json()["detail"]
    assert (await api.get("/api/v1/reports/daily", format="docx")).status_code == 422
    assert (await api.get("/api/v1/reports/daily", role="source")).status_code == 403
    async with api.client(None) as anonymous:
        assert (await anonymous.get("/api/v1/reports/daily")).status_code == 401


async def test_free_text_is_escaped_in_html_and_markdown(api: ReportApi) -> None:
    sim = await simulated(api)
    html = await api.get("/api/v1/reports/daily", date=sim.day.isoformat(), format="html")
    assert html.headers["content-type"].startswith("text/html")
    assert "<script>x</script>" not in html.text and "&lt;script&gt;x&lt;/script&gt;" in html.text
    assert "<b>kan inte</b>" not in html.text and "&lt;b&gt;kan inte&lt;/b&gt;" in html.text
    assert "<svg" in html.text  # the trend charts, drawn on the server
    markdown = await api.get("/api/v1/reports/daily", date=sim.day.isoformat(), format="md")
    assert markdown.headers["content-type"].startswith("text/markdown")
    assert "<script>" not in markdown.text and "\\<script\\>" in markdown.text
    assert "Fler floor walkers \\| nattetid" in markdown.text  # a pipe never splits a table cell
