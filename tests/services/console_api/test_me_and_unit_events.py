"""``GET /api/v1/me`` and ``GET /api/v1/units/{unit_id}/events``."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from hypercare.contract.events import new_id
from hypercare.privacy.redact import contains_identity_number
from services.auth.tokens import issue_token
from services.console_api.service import walker_id_for


async def test_me_names_the_holder_of_every_role(api: Any) -> None:
    for role in ("admin", "chief", "agent", "floorwalker", "viewer", "source"):
        response = await api.get("/api/v1/me", role=role)
        assert response.status_code == 200
        body = response.json()
        assert body["name"] == f"console-{role}-{api.org.tag}" and body["role"] == role
        assert body["walker_id"] == walker_id_for(body["name"])
        assert body["scope"] is None and body["whole_region"] is True
    async with api.client(None) as anonymous:
        assert (await anonymous.get("/api/v1/me")).status_code == 401
        assert (await anonymous.get("/api/v1/me", headers={"Authorization": "Bearer hc_nope"})).status_code == 401


async def test_me_tells_the_console_the_scope(api: Any) -> None:
    """A principal scoped below the region reads its subtree; the console hides the region's report from it."""
    scopes = {api.org.site_a1: False, api.org.id("R", ""): True}
    for scope, whole_region in scopes.items():
        token = await issue_token(api.db, role="chief", name=new_id("me-scope"), scope=scope)
        async with api.client(None) as client:
            for response in (
                await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}),
                await client.post("/api/v1/sign-in", headers={"Authorization": f"Bearer {token}"}),
            ):
                assert response.status_code == 200
                assert (response.json()["scope"], response.json()["whole_region"]) == (scope, whole_region)


def test_walker_ids_are_stable_pseudonyms_that_never_look_like_identity_numbers() -> None:
    assert walker_id_for("Anna Andersson") == walker_id_for("Anna Andersson")
    assert walker_id_for("Anna Andersson") != walker_id_for("Anna Anderson")
    for i in range(2000):
        walker = walker_id_for(f"walker-{i}")
        assert re.fullmatch(r"fw-[a-z]{12}", walker)
        assert not contains_identity_number(walker)


async def test_unit_history_newest_first_and_only_that_unit(api: Any, ev: Any) -> None:
    unit, other = api.org.unit("A2W1"), api.org.unit("A1W1")
    now = datetime.now(UTC)
    await api.store(
        ev(
            "floorwalker.checkin",
            unit,
            now - timedelta(minutes=30),
            walker_id="fw-a",
            status="on_unit",
            note="Hjälpte 19121212-1212 med utskrift",
        ),
        ev(
            "ticket.opened",
            unit,
            now - timedelta(minutes=20),
            ticket_id="X1",
            channel="phone",
            category="lab",
            priority=3,
        ),
        ev("access.login", other, now - timedelta(minutes=10), user_ref="u1", outcome="success"),
        ev("floorwalker.checkout", unit, now - timedelta(minutes=5), walker_id="fw-a"),
    )
    body = (await api.get(f"/api/v1/units/{unit}/events")).json()
    assert body["name"] == "Avdelning 2" and body["site_id"] == api.org.site_a2
    assert [item["type"] for item in body["items"]] == ["floorwalker.checkout", "ticket.opened", "floorwalker.checkin"]
    assert "19121212-1212" not in body["items"][-1]["payload"]["note"]
    limited = (await api.get(f"/api/v1/units/{unit}/events", limit=1)).json()
    assert [item["type"] for item in limited["items"]] == ["floorwalker.checkout"]
    unknown = (await api.get("/api/v1/units/nowhere-at-all/events")).json()
    assert unknown["items"] == [] and unknown["administration_id"] == "unmapped"
