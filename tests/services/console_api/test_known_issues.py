"""Known issues: everyone reads them, agents/chiefs/admins write them and link tickets."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


async def test_known_issue_lifecycle_roles_redaction_and_ticket_links(api: Any, ev: Any) -> None:
    tag = api.org.tag
    new = {"title": f"SITHS-kort låses {tag}", "workaround": "Ring 19121212-1212? Nej: starta om kortläsaren."}
    for role in ("viewer", "floorwalker", "source"):
        async with api.client(role) as client:
            assert (await client.post("/api/v1/known-issues", json=new)).status_code == 403, role
    async with api.client(None) as client:
        assert (await client.post("/api/v1/known-issues", json=new)).status_code == 401

    async with api.client("agent") as agent:
        response = await agent.post("/api/v1/known-issues", json=new)
        assert response.status_code == 201, response.text
        issue = response.json()
        assert issue["status"] == "open"
        assert issue["created_by"] == f"console-agent-{tag}"
        assert "19121212-1212" not in issue["workaround"]
        assert "[personnummer borttaget]" in issue["workaround"]
        assert (await agent.post("/api/v1/known-issues", json={"title": "  "})).status_code == 422
        assert (await agent.post("/api/v1/known-issues", json={**new, "status": "gone"})).status_code == 422

        ticket = f"T-{tag}"
        link = await agent.post(f"/api/v1/known-issues/{issue['id']}/tickets", json={"ticket_id": ticket})
        assert link.status_code == 201 and link.json()["ticket_ids"] == [ticket]
        again = await agent.post(f"/api/v1/known-issues/{issue['id']}/tickets", json={"ticket_id": ticket})
        assert again.status_code == 200 and again.json()["ticket_count"] == 1
        missing = await agent.post("/api/v1/known-issues/999999999/tickets", json={"ticket_id": ticket})
        assert missing.status_code == 404
        bad = await agent.post(f"/api/v1/known-issues/{issue['id']}/tickets", json={"ticket_id": "191212121212"})
        assert bad.status_code == 422

    async with api.client("chief") as chief:
        changed = await chief.patch(f"/api/v1/known-issues/{issue['id']}", json={"status": "workaround"})
        assert changed.status_code == 200 and changed.json()["status"] == "workaround"
    async with api.client("viewer") as viewer:
        assert (
            await viewer.patch(f"/api/v1/known-issues/{issue['id']}", json={"status": "resolved"})
        ).status_code == 403
        listed = (await viewer.get("/api/v1/known-issues")).json()["items"]
        mine = [item for item in listed if item["id"] == issue["id"]]
        assert mine and mine[0]["ticket_ids"] == [ticket] and mine[0]["status"] == "workaround"
        only_open = (await viewer.get("/api/v1/known-issues", params={"status": "open"})).json()["items"]
        assert issue["id"] not in [item["id"] for item in only_open]

    # The ticket flow shows the link.
    await api.store(
        ev(
            "ticket.opened",
            api.org.unit("A1W1"),
            datetime.now(UTC),
            ticket_id=ticket,
            channel="phone",
            category="login",
            priority=2,
        )
    )
    flow = (await api.get("/api/v1/tickets", unit_id=api.org.unit("A1W1"))).json()["items"]
    assert flow[0]["known_issue_ids"] == [issue["id"]]
