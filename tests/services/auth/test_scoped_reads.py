"""Scoped reads through the real API (PostgreSQL and SQLite): a principal scoped to an administration or a site
reads its subtree's records (and the region's own) in the decision log, risks, duties, tickets, hot spots, trends
and alerts, never another administration's; one alert or risk outside it is 404, a unit's history 403; the
situation report is read cut to the scope (its rows: tests/services/reports/test_report_scoped.py).

The org registry is the test's own (``tests/services/conftest.py``), so the scoped lists are exact even in the
shared database: nothing outside this test's ids can fall in its subtree.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from hypercare.contract.events import new_id
from services.alerts import store as alerts_store
from services.alerts.engine import Raise
from services.auth.tokens import issue_token


def quiet_quarter() -> datetime:
    """A quarter hour in the past no other test writes to (the trends' region totals stay still)."""
    return datetime(2018, 1, 1, tzinfo=UTC) + timedelta(minutes=15 * random.randrange(0, 30_000))


def alert_at(node_kind: str, node_id: str) -> Raise:
    return Raise(
        rule="patient_safety_ticket",
        kind="patient_safety_ticket",
        severity="critical",
        node_kind=node_kind,
        node_id=node_id,
        node_name=node_id,
        message="1 öppna ärenden med risk för patientsäkerheten",
        value=1,
        threshold=1,
        at=datetime.now(UTC),
    )


async def scoped_tokens(api: Any) -> dict[str, str]:
    org = api.org
    return {
        "admin_a": await issue_token(api.db, role="viewer", name=new_id("scoped-a"), scope=org.admin_a),
        "site_a1": await issue_token(api.db, role="chief", name=new_id("scoped-a1"), scope=org.site_a1),
        "region": await issue_token(api.db, role="viewer", name=new_id("scoped-r"), scope=org.id("R", "")),
    }


async def get(api: Any, token: str, path: str, **params: Any) -> Any:
    async with api.client(None) as client:
        response = await client.get(path, params=params, headers={"Authorization": f"Bearer {token}"})
    return response


async def test_scoped_principals_read_their_subtree_and_the_regions_records_only(api: Any, ev: Any) -> None:
    org = api.org
    region = org.id("R", "")
    a1ed, a1w1, a2w1, b1ed, b1w1 = (org.unit(n) for n in ("A1ED", "A1W1", "A2W1", "B1ED", "B1W1"))
    now = datetime.now(UTC)

    def at(minutes: int) -> datetime:
        return now - timedelta(minutes=minutes)

    def decision(unit_id: str, decision_id: str, minutes: int, affected: list[str]) -> dict[str, Any]:
        return ev(
            "decision.recorded",
            unit_id,
            at(minutes),
            decision_id=decision_id,
            title=decision_id,
            decision="Beslut",
            decided_by="Chef",
            affected_unit_ids=affected,
        )

    def risk(unit_id: str, risk_id: str, minutes: int) -> dict[str, Any]:
        return ev("risk.recorded", unit_id, at(minutes), risk_id=risk_id, title=risk_id, recorded_by="Chef")

    def duty(unit_id: str, duty_id: str, minutes: int) -> dict[str, Any]:
        return ev(
            "duty.opened",
            unit_id,
            at(minutes),
            duty_id=duty_id,
            duty="lex_maria",
            trigger="ticket",
            trigger_id="T-1",
            opened_by="Chef",
        )

    def ticket(unit_id: str, ticket_id: str, minutes: int) -> dict[str, Any]:
        return ev(
            "ticket.opened", unit_id, at(minutes), ticket_id=ticket_id, channel="phone", category="login", priority=2
        )

    tag = org.tag
    await api.store(
        decision(region, f"B-R-{tag}", 10, []),  # region-wide: everyone's
        decision(a1ed, f"B-A1-{tag}", 9, [a1ed]),
        decision(a2w1, f"B-A2-{tag}", 8, [a2w1]),
        decision(b1w1, f"B-B-{tag}", 7, [b1w1]),
        ev(  # a diversion from B's ED to A1's: it concerns the receiving ED too
            "ed.diversion_started",
            b1ed,
            at(6),
            diversion_id=f"D-B-{tag}",
            to_unit_ids=[a1ed],
            scope="ambulance",
            reason="Överbelastad",
            decided_by="Chef",
        ),
        risk(region, f"R-R-{tag}", 10),
        risk(a1w1, f"R-A1-{tag}", 9),
        risk(a2w1, f"R-A2-{tag}", 8),
        risk(b1w1, f"R-B-{tag}", 7),
        duty(org.admin_a, f"P-A-{tag}", 10),
        duty(a1w1, f"P-A1-{tag}", 9),
        duty(b1ed, f"P-B-{tag}", 8),
        ticket(a1w1, f"K-A1-{tag}", 5),
        ticket(a2w1, f"K-A2-{tag}", 4),
        ticket(b1w1, f"K-B-{tag}", 3),
    )
    alerts = {
        node: (await alerts_store.apply(api.db, [alert_at(kind, node)]))[0].alert.id
        for kind, node in (("region", region), ("unit", a1ed), ("unit", a2w1), ("unit", b1ed))
    }
    tokens = await scoped_tokens(api)

    async def items(key: str, path: str, field: str, **params: Any) -> list[str]:
        response = await get(api, tokens[key], path, **params)
        assert response.status_code == 200, response.text
        return [item[field] for item in response.json()["items"]]

    # The decision log: the region's, the subtree's, and the diversion into A1's ED; newest first.
    assert await items("admin_a", "/api/v1/decisions", "decision_id") == [
        f"D-B-{tag}",
        f"B-A2-{tag}",
        f"B-A1-{tag}",
        f"B-R-{tag}",
    ]
    assert await items("site_a1", "/api/v1/decisions", "decision_id") == [f"D-B-{tag}", f"B-A1-{tag}", f"B-R-{tag}"]
    csv = (await get(api, tokens["site_a1"], "/api/v1/decisions", format="csv")).text
    assert f"B-A1-{tag}" in csv and f"B-A2-{tag}" not in csv and f"B-B-{tag}" not in csv
    mine = {f"B-R-{tag}", f"B-A1-{tag}", f"B-A2-{tag}", f"B-B-{tag}", f"D-B-{tag}"}
    assert mine <= set(await items("region", "/api/v1/decisions", "decision_id", limit=5000))

    # Risks (with their counts) and one risk: outside the scope it does not exist.
    response = await get(api, tokens["site_a1"], "/api/v1/risks")
    assert [r["risk_id"] for r in response.json()["items"]] == [f"R-A1-{tag}", f"R-R-{tag}"]
    assert response.json()["count"] == 2
    assert sorted(await items("admin_a", "/api/v1/risks", "risk_id")) == sorted(
        [f"R-R-{tag}", f"R-A1-{tag}", f"R-A2-{tag}"]
    )
    assert (await get(api, tokens["site_a1"], f"/api/v1/risks/R-A1-{tag}")).status_code == 200
    outside = await get(api, tokens["site_a1"], f"/api/v1/risks/R-B-{tag}")
    assert outside.status_code == 404 and outside.json()["detail"] == f"no risk 'R-B-{tag}' has been recorded"
    assert (await get(api, tokens["region"], f"/api/v1/risks/R-B-{tag}")).status_code == 200

    # Reporting duties: the administration's own and its units'.
    assert await items("admin_a", "/api/v1/duties", "duty_id") == [f"P-A-{tag}", f"P-A1-{tag}"]
    assert await items("site_a1", "/api/v1/duties", "duty_id") == [f"P-A1-{tag}"]

    # Tickets, hot spots, a unit's history.
    assert await items("admin_a", "/api/v1/tickets", "ticket_id") == [f"K-A2-{tag}", f"K-A1-{tag}"]
    assert await items("site_a1", "/api/v1/tickets", "ticket_id") == [f"K-A1-{tag}"]
    assert await items("site_a1", "/api/v1/tickets", "ticket_id", administration_id=org.admin_b) == []
    assert await items("admin_a", "/api/v1/tickets/hotspots", "unit_id", limit=100) == [a1w1, a2w1]
    assert await items("site_a1", "/api/v1/tickets/hotspots", "unit_id", limit=100) == [a1w1]
    history = await get(api, tokens["site_a1"], f"/api/v1/units/{a2w1}/events")
    assert history.status_code == 403
    assert history.json()["detail"] == (
        f"this token is scoped to {org.site_a1!r} and may not read the unit for {a2w1!r} (outside its scope)"
    )
    assert (await get(api, tokens["admin_a"], f"/api/v1/units/{a2w1}/events")).status_code == 200

    # Alerts: the list and one alert (404 outside, as if it did not exist).
    assert await items("admin_a", "/api/v1/alerts", "id") == [alerts[a2w1], alerts[a1ed], alerts[region]]
    assert await items("site_a1", "/api/v1/alerts", "id") == [alerts[a1ed], alerts[region]]
    assert (await get(api, tokens["site_a1"], f"/api/v1/alerts/{alerts[a1ed]}")).status_code == 200
    assert (await get(api, tokens["site_a1"], f"/api/v1/alerts/{alerts[region]}")).status_code == 200
    hidden = await get(api, tokens["site_a1"], f"/api/v1/alerts/{alerts[b1ed]}")
    assert hidden.status_code == 404 and hidden.json()["detail"] == f"no alert {alerts[b1ed]}"
    assert (await get(api, tokens["region"], f"/api/v1/alerts/{alerts[b1ed]}")).status_code == 200

    # The situation report is read cut to the scope (the region's totals, the subtree's rows); none of B's rows.
    assert (await get(api, tokens["admin_a"], "/api/v1/reports")).status_code == 200
    report = await get(api, tokens["admin_a"], "/api/v1/reports/daily")
    assert report.status_code == 200
    ed_rows = next(t for s in report.json()["content"]["sections"] for t in s["tables"] if t["key"] == "ed_units")
    assert [row["nodes"] for row in ed_rows["rows"]] == [[a1ed]]
    assert (await get(api, tokens["region"], "/api/v1/reports")).status_code == 200

    # Administering (tokens, the audit log, the quarantine) is the region's: a scoped admin could otherwise issue
    # itself a region-wide token.
    scoped_admin = await issue_token(api.db, role="admin", name=new_id("scoped-admin"), scope=org.admin_a)
    for path in ("/api/v1/tokens", "/api/v1/audit", "/api/v1/quarantine"):
        refused = await get(api, scoped_admin, path)
        assert refused.status_code == 403, path
        assert refused.json()["detail"] == (
            f"this token is scoped to {org.admin_a!r} and may not administer Hypercare: that needs the whole region"
        )
    async with api.client(None) as client:
        issued = await client.post(
            "/api/v1/tokens",
            json={"name": new_id("escalate"), "role": "admin"},
            headers={"Authorization": f"Bearer {scoped_admin}"},
        )
    assert issued.status_code == 403
    assert (await get(api, api.tokens["admin"], "/api/v1/tokens")).status_code == 200


async def test_scoped_trends_keep_the_region_totals_and_their_own_administration(api: Any, ev: Any) -> None:
    org = api.org
    t0 = quiet_quarter()
    until = t0 + timedelta(minutes=29)  # two buckets
    a1w1, a2w1, b1w1 = org.unit("A1W1"), org.unit("A2W1"), org.unit("B1W1")
    await api.store(
        ev(
            "ticket.opened",
            a1w1,
            t0 + timedelta(minutes=1),
            ticket_id="K1",
            channel="phone",
            category="login",
            priority=3,
        ),
        ev(
            "ticket.opened",
            a2w1,
            t0 + timedelta(minutes=16),
            ticket_id="K2",
            channel="phone",
            category="login",
            priority=3,
        ),
        ev(
            "ticket.opened",
            b1w1,
            t0 + timedelta(minutes=2),
            ticket_id="K3",
            channel="phone",
            category="login",
            priority=3,
        ),
        ev("access.login", b1w1, t0 + timedelta(minutes=3), user_ref="u1", outcome="failure", reason="expired"),
    )
    tokens = await scoped_tokens(api)
    params = {"hours": 0.5, "bucket_minutes": 15, "until": until.isoformat()}
    whole = (await get(api, tokens["region"], "/api/v1/trends", **params)).json()
    for key in ("admin_a", "site_a1"):
        body = (await get(api, tokens[key], "/api/v1/trends", **params)).json()
        assert body["region"] == whole["region"]
        assert body["region"]["tickets_opened"] == [2, 1] and body["region"]["login_failures"] == [1, 0]
        assert [a["administration_id"] for a in body["administrations"]] == [org.admin_a]
        assert body["administrations"][0]["tickets_opened"] == [1, 1]
        assert body["administrations"][0]["login_failures"] == [0, 0]
    assert {a["administration_id"] for a in whole["administrations"]} == {org.admin_a, org.admin_b}
