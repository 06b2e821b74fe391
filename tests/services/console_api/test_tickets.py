"""``GET /api/v1/tickets`` (the live flow with filters) and ``GET /api/v1/tickets/hotspots``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any


def ago(minutes: float) -> datetime:
    return datetime.now(UTC) - timedelta(minutes=minutes)


async def seed(api: Any, ev: Any) -> dict[str, str]:
    org, tag = api.org, api.org.tag
    ids = {name: f"{name}-{tag}" for name in ("T1", "T2", "T3", "T4")}
    await api.store(
        ev(
            "ticket.opened",
            org.unit("A1ED"),
            ago(50),
            ticket_id=ids["T1"],
            channel="phone",
            category="login",
            priority=1,
            summary="Kan inte logga in, patient 19121212-1212",
            patient_safety=True,
        ),
        ev(
            "ticket.opened",
            org.unit("A1W1"),
            ago(40),
            ticket_id=ids["T2"],
            channel="chat",
            category="printing",
            priority=3,
            summary="Etikettskrivaren",
        ),
        ev("ticket.updated", org.unit("A1W1"), ago(30), ticket_id=ids["T2"], status="escalated", priority=2),
        ev(
            "ticket.opened",
            org.unit("A2W1"),
            ago(20),
            ticket_id=ids["T3"],
            channel="portal",
            category="orders",
            priority=4,
            summary="Remiss saknas",
        ),
        ev("ticket.resolved", org.unit("A1ED"), ago(10), ticket_id=ids["T1"], resolution_code="kortlasare"),
        ev(
            "ticket.opened",
            org.unit("B1W1"),
            ago(5),
            ticket_id=ids["T4"],
            channel="phone",
            category="login",
            priority=2,
        ),
        ev("access.login", org.unit("A1ED"), ago(1), user_ref="u1", outcome="success"),  # not a ticket event
    )
    return ids


async def test_ticket_flow_newest_first_with_the_ticket_as_known_now(api: Any, ev: Any) -> None:
    ids = await seed(api, ev)
    body = (await api.get("/api/v1/tickets", administration_id=api.org.admin_a)).json()
    items = body["items"]
    assert [(i["type"], i["ticket_id"]) for i in items] == [
        ("ticket.resolved", ids["T1"]),
        ("ticket.opened", ids["T3"]),
        ("ticket.updated", ids["T2"]),
        ("ticket.opened", ids["T2"]),
        ("ticket.opened", ids["T1"]),
    ]
    resolved = items[0]
    assert resolved["unit_id"] == api.org.unit("A1ED")
    assert resolved["unit_name"] == "Akutmottagning A1"
    assert resolved["site_id"] == api.org.site_a1
    assert resolved["ticket"]["status"] == "resolved"
    assert resolved["ticket"]["category"] == "login"
    assert resolved["ticket"]["patient_safety"] is True
    # Redacted at ingest; shown redacted.
    assert "19121212-1212" not in resolved["ticket"]["summary"]
    assert "[personnummer borttaget]" in items[-1]["payload"]["summary"]
    updated = next(i for i in items if i["ticket_id"] == ids["T2"])
    assert updated["ticket"]["status"] == "escalated" and updated["ticket"]["priority"] == 2
    assert resolved["known_issue_ids"] == []


async def test_ticket_flow_filters(api: Any, ev: Any) -> None:
    ids = await seed(api, ev)
    org = api.org

    async def tickets(**params: Any) -> list[tuple[str, str]]:
        response = await api.get("/api/v1/tickets", **params)
        assert response.status_code == 200, response.text
        return [(i["type"], i["ticket_id"]) for i in response.json()["items"]]

    assert await tickets(site_id=org.site_a2) == [("ticket.opened", ids["T3"])]
    assert await tickets(unit_id=org.unit("B1W1")) == [("ticket.opened", ids["T4"])]
    # A category selects every event of the tickets in it (the resolution carries no category).
    assert await tickets(administration_id=org.admin_a, category="login") == [
        ("ticket.resolved", ids["T1"]),
        ("ticket.opened", ids["T1"]),
    ]
    # Priority 2: T2 after its update, and T4.
    assert set(await tickets(category="printing", priority=2, administration_id=org.admin_a)) == {
        ("ticket.updated", ids["T2"]),
        ("ticket.opened", ids["T2"]),
    }
    assert await tickets(priority=2, unit_id=org.unit("B1W1")) == [("ticket.opened", ids["T4"])]
    assert len(await tickets(administration_id=org.admin_a, limit=2)) == 2
    assert await tickets(site_id="no-such-site") == []
    assert (await api.get("/api/v1/tickets", category="fax")).status_code == 422
    assert (await api.get("/api/v1/tickets", priority=5)).status_code == 422


async def test_hotspots_rank_units_by_growth_of_open_tickets(api: Any, ev: Any) -> None:
    org, tag = api.org, api.org.tag
    hot, warm, calm = org.unit("A1W1"), org.unit("B1ED"), org.unit("A2W1")
    events = [
        ev("ticket.opened", hot, ago(10 + i), ticket_id=f"H{i}-{tag}", channel="phone", category="login", priority=2)
        for i in range(4)
    ]
    events += [
        ev("ticket.opened", warm, ago(5), ticket_id=f"W1-{tag}", channel="phone", category="lab", priority=3),
        ev("ticket.opened", warm, ago(6), ticket_id=f"W2-{tag}", channel="phone", category="lab", priority=3),
        ev("ticket.resolved", warm, ago(2), ticket_id=f"W2-{tag}"),
        # opened twice under two event ids: still one ticket
        ev("ticket.opened", warm, ago(4), ticket_id=f"W1-{tag}", channel="phone", category="lab", priority=3),
        ev("ticket.opened", calm, ago(7), ticket_id=f"C1-{tag}", channel="chat", category="other", priority=4),
        ev("ticket.resolved", calm, ago(3), ticket_id=f"C1-{tag}"),
        # older than the hour: not counted
        ev("ticket.opened", calm, ago(90), ticket_id=f"C0-{tag}", channel="chat", category="other", priority=4),
    ]
    await api.store(*events)
    body = (await api.get("/api/v1/tickets/hotspots", minutes=60, limit=100)).json()
    mine = [item for item in body["items"] if item["unit_id"] in (hot, warm, calm)]
    assert [(i["unit_id"], i["opened"], i["resolved"], i["growth"]) for i in mine] == [(hot, 4, 0, 4), (warm, 2, 1, 1)]
    assert mine[0]["unit_name"] == "Avdelning 1" and mine[0]["administration_id"] == org.admin_a
