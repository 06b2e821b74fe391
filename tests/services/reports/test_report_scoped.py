"""The situation report read by scoped principals through the real API (PostgreSQL and SQLite): the region's
totals as the region-scoped reader sees them, and only the scope's rows in every per-node table, in the preview
and a stored report, in JSON, HTML, Markdown and PDF; making and releasing a report stays the region's.

The oracle is the test's own org (which unit, site and administration is whose) and its simulated day
(``report_day.simulate_day``): the cut rows are named from those facts, and every kept row equals the region
reader's row of the same name.
"""

from __future__ import annotations

from typing import Any

import yaml
from report_api import ReportApi, ReportOrg
from report_day import fresh_day, pdf_text, simulate_day

from hypercare.contract.events import new_id
from hypercare.org.registry import load_org
from services.auth.tokens import issue_token
from services.reports.scope import cut_content

# Tables with a row per administration (the per-administration tables and the stop criteria's breakdown).
ADMIN_TABLES = ("tickets", "access", "floorwalkers", "ed_load")
# Names of administration B's nodes a reader scoped inside A must never meet (B2 receives A's diversion, so
# A's own diversion record names it: it is not among them).
B_NAMES = ("Förvaltning Beta", "Akutmottagning B1", "Avdelning 4")


def tables(content: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["key"]: t for s in content["sections"] for t in s["tables"]}


def region_part(content: dict[str, Any]) -> dict[str, Any]:
    """What stays the region's: every figure, verdict and chart, the totals, and the region-wide tables."""
    per_table = {
        key: (t["total"], t["rows"] if key in ("categories", "roles", "stop_criteria") else None)
        for key, t in tables(content).items()
    }
    sections = [
        {"key": s["key"], "figures": s["figures"], "verdict": s.get("verdict"), "charts": s.get("charts")}
        for s in content["sections"]
    ]
    sources = [source["id"] for source in content["sources"]]  # their text names the snapshot time (a preview's moves)
    return {"sections": sections, "tables": per_table, "sources": sources, "title": content["title"]}


def meta(document: dict[str, Any]) -> dict[str, Any]:
    """A report's metadata but its snapshot time (a preview is taken anew on every request)."""
    return {key: value for key, value in document["report"].items() if key != "snapshot_at"}


def rows_named(table: dict[str, Any], column: str, names: set[str]) -> list[dict[str, Any]]:
    return [row for row in table["rows"] if row[column] in names]


async def test_a_scoped_reader_gets_the_region_totals_and_its_scopes_rows_only(api: ReportApi) -> None:
    org = api.org
    sim = simulate_day(
        fresh_day(), admin_of=org.admin_of, eds=org.eds, receiving_ed=org.unit("B1RX"), region_id=org.region
    )
    await api.store(sim.events)
    day = sim.day.isoformat()
    tokens = {
        "admin_a": await issue_token(api.db, role="viewer", name=new_id("rep-a"), scope=org.admin_a),
        "site_a1": await issue_token(api.db, role="viewer", name=new_id("rep-a1"), scope=org.id("S", "A1")),
        "chief_a": await issue_token(api.db, role="chief", name=new_id("rep-ca"), scope=org.admin_a),
    }
    units_a = {unit for unit, admin in org.admin_of.items() if admin == org.admin_a}
    units_a1 = {org.unit("A1ED"), org.unit("A1W1"), org.unit("A1W2")}
    unit_names = {
        org.unit("A1ED"): "Akutmottagning A1",
        org.unit("A1W1"): "Avdelning 1",
        org.unit("A1W2"): "Avdelning 2",
        org.unit("A2W1"): "Avdelning 3",
    }
    tag = sim.decisions[0][0].split("-", 1)[1]
    safety = [t for t in sim.tickets if t.patient_safety and sim.start <= t.opened_at < sim.end]
    duty_unit = next(e["unit_id"] for e in sim.events if e["type"] == "duty.opened")

    async def read(token: str, path: str, **params: Any) -> Any:
        async with api.client(None) as client:
            return await client.get(path, params=params, headers={"Authorization": f"Bearer {token}"})

    async def check(path: str, **params: Any) -> None:
        region = (await api.get(path, **params)).json()
        whole = tables(region["content"])
        # The region reader sees both administrations (so the cut below is not trivially empty).
        assert [row["name"] for row in whole["tickets"]["rows"]] == ["Förvaltning Alfa", "Förvaltning Beta"]
        assert {row["decision_id"] for row in whole["decisions"]["rows"]} == {
            f"B1-{tag}",
            f"B2-{tag}",
            f"D1-{tag}",
            f"D2-{tag}",
        }
        for scope, units in (("admin_a", units_a), ("site_a1", units_a1)):
            response = await read(tokens[scope], path, **params)
            assert response.status_code == 200, response.text
            scoped = response.json()
            assert meta(scoped) == meta(region)
            content = scoped["content"]
            scope_id = org.admin_a if scope == "admin_a" else org.id("S", "A1")
            scope_text = "Förvaltning Alfa" if scope == "admin_a" else "Plats A1"
            assert content["scope"] == {"id": scope_id, "name": scope_text}
            assert region_part(content) == region_part(region["content"])
            cut = tables(content)
            # Per administration: its own administration's line (the site's administration above a site scope).
            for key in ADMIN_TABLES:
                assert cut[key]["rows"] == rows_named(whole[key], "name", {"Förvaltning Alfa"}), key
            assert cut["stop_breakdown"]["rows"] == rows_named(whole["stop_breakdown"], "name", {"Förvaltning Alfa"})
            names = {unit_names[unit] for unit in units}
            assert [row["name"] for row in cut["ed_units"]["rows"]] == ["Akutmottagning A1"]
            assert cut["ed_units"]["rows"] == rows_named(whole["ed_units"], "name", names)
            assert sorted(row["ticket_id"] for row in cut["patient_safety_tickets"]["rows"]) == sorted(
                t.ticket_id for t in safety if t.unit in units
            )
            # Region-wide decisions and risks stay; A1ED's diversion is A's, B1ED's is not.
            assert [row["decision_id"] for row in cut["decisions"]["rows"]] == [
                row["decision_id"]
                for row in whole["decisions"]["rows"]
                if row["decision_id"] in {f"B1-{tag}", f"B2-{tag}", f"D1-{tag}"}
            ]
            assert [row["risk_id"] for row in cut["risks"]["rows"]] == [f"R-{tag}"]
            assert [row["unit"] for row in cut["duties"]["rows"]] == (
                [unit_names[duty_unit]] if duty_unit in units else []
            )
            assert cut["alerts"]["rows"] == []  # no alert of this org's nodes is open

            html = (await read(tokens[scope], path, format="html", **params)).text
            markdown = (await read(tokens[scope], path, format="md", **params)).text
            pdf = await read(tokens[scope], path, format="pdf", **params)
            assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
            for text in (html, markdown, pdf_text(pdf.content)):
                assert "Förvaltning Alfa" in text and "Akutmottagning A1" in text
                assert f"{scope_text}: regionens totaler och urvalets rader" in text
                assert [name for name in B_NAMES if name in text] == []
            if scope == "site_a1":
                assert "Avdelning 3" not in markdown and "Avdelning 3" not in html
        whole_md = (await api.get(path, format="md", **params)).text
        assert [name for name in B_NAMES if name in whole_md] == list(B_NAMES)
        assert "Urval" not in whole_md and "scope" not in region["content"]

    # The preview (nothing stored yet), then a stored report.
    await check("/api/v1/reports/daily", date=day)
    # A chief scoped to an administration reads the report but may not make or release the region's report.
    assert (await read(tokens["chief_a"], "/api/v1/reports/daily", date=day)).status_code == 200
    async with api.client(None) as client:
        made = await client.post(
            "/api/v1/reports", json={"date": day}, headers={"Authorization": f"Bearer {tokens['chief_a']}"}
        )
    assert made.status_code == 403
    assert made.json()["detail"] == (
        f"this token is scoped to {org.admin_a!r} and may not create, approve or publish situation reports:"
        " that needs the whole region"
    )
    report_id = (await api.post("/api/v1/reports", json={"date": day})).json()["report"]["id"]
    await api.post(f"/api/v1/reports/{report_id}/approve")
    for action in ("refresh", "approve", "publish"):
        async with api.client(None) as client:
            response = await client.post(
                f"/api/v1/reports/{report_id}/{action}", headers={"Authorization": f"Bearer {tokens['chief_a']}"}
            )
        assert response.status_code == 403, action
    await api.post(f"/api/v1/reports/{report_id}/publish", role="admin")
    await check(f"/api/v1/reports/{report_id}")
    await check("/api/v1/reports/daily", date=day)
    listed = (await read(tokens["admin_a"], "/api/v1/reports", kind="daily", limit=1000)).json()
    assert [item["status"] for item in listed["items"] if item["id"] == report_id] == ["published"]


def test_a_snapshot_without_row_nodes_shows_a_scoped_reader_none_of_its_per_node_rows(tmp_path: Any) -> None:
    """A report stored before rows named their nodes: its per-node rows cannot be told apart, so a scoped reader
    gets none of them (never another administration's), and the region's tables and totals as they are."""
    made = ReportOrg()
    path = tmp_path / "org.yaml"
    path.write_text(yaml.safe_dump(made.document(), allow_unicode=True), encoding="utf-8")
    org = load_org(path)
    total = {"name": "Testregionen", "opened": 7}
    content = {
        "sections": [
            {
                "key": "administrations",
                "figures": [{"key": "tickets_opened", "value": 7}],
                "tables": [
                    {"key": "tickets", "rows": [{"name": "Förvaltning Alfa", "opened": 3}], "total": total},
                    {"key": "categories", "rows": [{"category": "Inloggning", "opened": 7}], "total": None},
                ],
            }
        ]
    }
    assert cut_content(org, None, content) is content
    assert cut_content(org, made.region, content) is content
    assert cut_content(org, made.admin_a, content) == {
        "scope": {"id": made.admin_a, "name": "Förvaltning Alfa"},
        "sections": [
            {
                "key": "administrations",
                "figures": [{"key": "tickets_opened", "value": 7}],
                "tables": [
                    {"key": "tickets", "rows": [], "total": total},
                    {"key": "categories", "rows": [{"category": "Inloggning", "opened": 7}], "total": None},
                ],
            }
        ],
    }
