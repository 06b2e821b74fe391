"""``GET /api/v1/trends``: per-bucket counts in SQL, summed per administration and for the region."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from hypercare.contract.events import new_id
from hypercare.org.registry import OrgRegistry
from services.auth.tokens import issue_token
from services.console_api.trends import first_go_live


def quiet_quarter() -> datetime:
    """A quarter hour in the past that no other test writes to, so the region totals are exact too."""
    return datetime(2019, 1, 1, tzinfo=UTC) + timedelta(minutes=15 * random.randrange(0, 30_000))


async def test_trends_count_per_bucket_per_administration_and_region(api: Any, ev: Any) -> None:
    org = api.org
    t0 = quiet_quarter()  # start of a bucket
    until = t0 + timedelta(minutes=44)  # third bucket (t0+30 .. t0+45) is the last one

    def at(minutes: int) -> datetime:
        return t0 + timedelta(minutes=minutes)

    ed_a, ward_a2, ward_b = org.unit("A1ED"), org.unit("A2W1"), org.unit("B1W1")
    await api.store(
        # bucket 0
        ev("ticket.opened", ed_a, at(1), ticket_id="K1", channel="phone", category="login", priority=2),
        ev("ticket.opened", ward_a2, at(14), ticket_id="K2", channel="chat", category="orders", priority=3),
        ev("access.login", ed_a, at(2), user_ref="u1", outcome="success"),
        ev("access.login", ed_a, at(3), user_ref="u2", outcome="failure", reason="card_error"),
        ev("access.login", ward_b, at(4), user_ref="u3", outcome="failure", reason="expired"),
        # bucket 1
        ev("ticket.resolved", ed_a, at(15), ticket_id="K1"),
        ev("ticket.updated", ward_a2, at(16), ticket_id="K2", status="in_progress"),  # not a series
        ev("access.permission_denied", ed_a, at(17), user_ref="u4", role="lakare", module="orders"),
        # bucket 2
        ev("access.login", "unknown-unit-" + org.tag, at(31), user_ref="u5", outcome="success"),
        ev("ticket.opened", ward_b, at(40), ticket_id="K3", channel="portal", category="printing", priority=4),
        # outside: before the first bucket, and after the last one
        ev("access.login", ed_a, at(-1), user_ref="u6", outcome="success"),
        ev("access.login", ed_a, at(46), user_ref="u7", outcome="success"),
    )
    response = await api.get("/api/v1/trends", hours=0.75, bucket_minutes=15, until=until.isoformat())
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["bucket_minutes"] == 15
    assert body["buckets"] == [at(m).isoformat() for m in (0, 15, 30)]
    assert body["region"]["tickets_opened"] == [2, 0, 1]
    assert body["region"]["tickets_resolved"] == [0, 1, 0]
    assert body["region"]["logins"] == [3, 0, 1]
    assert body["region"]["login_failures"] == [2, 0, 0]
    admins = {item["administration_id"]: item for item in body["administrations"]}
    assert admins[org.admin_a]["name"] == "Förvaltning A"
    assert admins[org.admin_a]["tickets_opened"] == [2, 0, 0]
    assert admins[org.admin_a]["tickets_resolved"] == [0, 1, 0]
    assert admins[org.admin_a]["logins"] == [2, 0, 0]
    assert admins[org.admin_a]["login_failures"] == [1, 0, 0]
    assert admins[org.admin_b]["tickets_opened"] == [0, 0, 1]
    assert admins[org.admin_b]["login_failures"] == [1, 0, 0]
    assert admins["unmapped"]["logins"] == [0, 0, 1]


async def test_trends_default_window_and_limits(api: Any, ev: Any) -> None:
    now = datetime.now(UTC)
    unit = api.org.unit("A1W1")
    await api.store(
        ev("access.login", unit, now - timedelta(minutes=1), user_ref="u1", outcome="failure", reason="wrong_password")
    )
    body = (await api.get("/api/v1/trends")).json()
    assert len(body["buckets"]) == 24  # 6 h of 15 min
    admin = next(a for a in body["administrations"] if a["administration_id"] == api.org.admin_a)
    # The event's bucket is the last one unless a bucket boundary passed since the event was made.
    event_bucket = datetime.fromtimestamp((now - timedelta(minutes=1)).timestamp() // 900 * 900, UTC)
    assert admin["login_failures"][body["buckets"].index(event_bucket.isoformat())] == 1
    assert sum(admin["login_failures"]) == 1
    assert {a["administration_id"] for a in body["administrations"]} >= {api.org.admin_a, api.org.admin_b}

    assert (await api.get("/api/v1/trends", hours=168, bucket_minutes=1)).status_code == 422
    assert (await api.get("/api/v1/trends", bucket_minutes=0)).status_code == 422
    assert (await api.get("/api/v1/trends", until="2024-11-12T05:30:00")).status_code == 422
    assert (await api.get("/api/v1/trends", role="source")).status_code == 403
    async with api.client(None) as anonymous:
        assert (await anonymous.get("/api/v1/trends")).status_code == 401


async def test_trends_of_one_unit_and_each_series_go_live(api: Any, ev: Any) -> None:
    """``?unit_id=`` adds the unit's own series beside its administration's; a unit outside a scoped token's
    subtree is 403; without go-lives in the registry every ``go_live_at`` is null."""
    org = api.org
    t0 = quiet_quarter()
    until = t0 + timedelta(minutes=29)
    ward, sibling = org.unit("A1W1"), org.unit("A2W1")
    await api.store(
        ev("access.login", ward, t0 + timedelta(minutes=1), user_ref="u1", outcome="failure", reason="expired"),
        ev("access.login", ward, t0 + timedelta(minutes=16), user_ref="u2", outcome="success"),
        ev("access.login", sibling, t0 + timedelta(minutes=2), user_ref="u3", outcome="success"),
    )
    response = await api.get("/api/v1/trends", hours=0.5, bucket_minutes=15, until=until.isoformat(), unit_id=ward)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["unit"] == {
        "unit_id": ward,
        "name": "Avdelning 1",
        "go_live_at": None,
        "tickets_opened": [0, 0],
        "tickets_resolved": [0, 0],
        "logins": [1, 1],
        "login_failures": [1, 0],
    }
    admin = next(a for a in body["administrations"] if a["administration_id"] == org.admin_a)
    assert admin["logins"] == [2, 1] and admin["go_live_at"] is None
    assert body["region"]["go_live_at"] is None
    assert (await api.get("/api/v1/trends", hours=0.5, until=until.isoformat())).json()["unit"] is None

    scoped = await issue_token(api.db, role="viewer", name=new_id("trend-b"), scope=org.admin_b)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=api.app),
        base_url="http://test",
        headers={"Authorization": f"Bearer {scoped}"},
    ) as client:
        refused = await client.get("/api/v1/trends", params={"unit_id": ward})
        assert refused.status_code == 403 and "outside" in refused.text
        own = await client.get("/api/v1/trends", params={"unit_id": org.unit("B1W1")})
        assert own.status_code == 200 and own.json()["unit"]["unit_id"] == org.unit("B1W1")


def test_first_go_live_is_the_earliest_of_the_units(api: Any) -> None:
    """A series starts at its units' first go-live (the wave's actual go-live, else HYPERCARE_GO_LIVE_AT)."""
    doc = api.org.document()
    doc["waves"] = [{"id": "w1", "name": "Våg 1", "status": "live", "actual_go_live": "2026-11-17T05:30:00+01:00"}]
    doc["administrations"][0]["sites"][1]["wave"] = "w1"  # site A2 went live in wave 1
    fallback = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
    org = OrgRegistry.model_validate(doc).with_go_live(fallback)
    a2, a1 = api.org.unit("A2W1"), api.org.unit("A1W1")
    assert first_go_live(org, [a2]) == "2026-11-17T04:30:00+00:00"
    assert first_go_live(org, [a1]) == fallback.isoformat()
    assert first_go_live(org, [a1, a2]) == "2026-11-17T04:30:00+00:00"
    assert first_go_live(OrgRegistry.model_validate(api.org.document()), [a1]) is None
