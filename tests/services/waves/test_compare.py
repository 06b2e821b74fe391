"""``GET /api/v1/waves/compare``: two waves with known go-lives, their stored events aligned on the hours since
each wave's go-live, per 100 users, checked against an independent count of the same events."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import stored_events
from fastapi import FastAPI

from hypercare.contract.events import new_id
from hypercare.org.registry import OrgRegistry, load_org
from hypercare.settings import Settings
from hypercare.storage.db import Database
from hypercare.waves.compare import Counted, compare_waves
from services.app import create_app
from services.auth.tokens import TokenCache, issue_token
from services.waves.schemas import WaveComparison

W1_GO_LIVE = datetime(2025, 3, 4, 5, 30, tzinfo=UTC)
W2_GO_LIVE = datetime(2025, 4, 8, 6, 0, tzinfo=UTC)
STAFF = {"A": 40, "B": 10, "C": 25}  # w1: A, B (50 users); w2: C (25 users); D is in a planned wave


def registry(tag: str) -> str:
    prefix = f"T{tag}"
    return f"""\
region: {{id: {prefix}-R, name: Testregionen}}
areas:
  - {{id: sodra, name: Södra}}
waves:
  - {{id: w1, name: Våg 1, status: live, planned_go_live: {W1_GO_LIVE.isoformat()},
      actual_go_live: {W1_GO_LIVE.isoformat()}}}
  - {{id: w2, name: Våg 2, status: live, planned_go_live: {W2_GO_LIVE.isoformat()},
      actual_go_live: {W2_GO_LIVE.isoformat()}}}
  - {{id: w3, name: Våg 3, status: planned}}
administrations:
  - id: {prefix}-FA
    name: Förvaltning A
    area: sodra
    sites:
      - id: {prefix}-SA
        name: Plats A
        wave: w1
        units:
          - {{id: {prefix}-EA, name: Avdelning A, staff: {STAFF["A"]}}}
          - {{id: {prefix}-EB, name: Avdelning B, staff: {STAFF["B"]}}}
      - id: {prefix}-SC
        name: Plats C
        wave: w2
        units:
          - {{id: {prefix}-EC, name: Avdelning C, staff: {STAFF["C"]}}}
      - id: {prefix}-SD
        name: Plats D
        wave: w3
        units:
          - {{id: {prefix}-ED, name: Avdelning D}}
"""


@dataclass
class CompareApi:
    app: FastAPI
    db: Database
    org: OrgRegistry
    tag: str

    def unit(self, letter: str) -> str:
        return f"T{self.tag}-E{letter}"

    async def get(self, token: str, **params: str) -> httpx.Response:
        transport = httpx.ASGITransport(app=self.app)
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(transport=transport, base_url="http://test", headers=headers) as client:
            return await client.get("/api/v1/waves/compare", params=params)


@pytest.fixture
async def api(db_url: str, tmp_path: Path) -> AsyncIterator[CompareApi]:
    tag = new_id("c")[-8:].upper()
    org_file = tmp_path / "org.yaml"
    org_file.write_text(registry(tag), encoding="utf-8")
    app = create_app(Settings(database_url=db_url, org_file=org_file, data_dir=tmp_path))
    db = Database.from_url(db_url)
    app.state.db = db
    app.state.token_cache = TokenCache(ttl=30)
    try:
        yield CompareApi(app=app, db=db, org=load_org(org_file), tag=tag)
    finally:
        await db.close()


def event(kind: str, unit_id: str, at: datetime) -> dict[str, Any]:
    base = {"event_id": new_id("e"), "occurred_at": at.isoformat(), "unit_id": unit_id}
    if kind == "ticket":
        return {
            **base,
            "type": "ticket.opened",
            "ticket_id": new_id("t"),
            "priority": 3,
            "category": "login",
            "channel": "phone",
            "summary": "Kan inte logga in",
        }
    if kind in ("login_ok", "login_failed"):
        outcome = "success" if kind == "login_ok" else "failure"
        return {
            **base,
            "type": "access.login",
            "user_ref": new_id("u"),
            "outcome": outcome,
            **({"reason": "card_error"} if outcome == "failure" else {}),
        }
    if kind == "denial":
        return {
            **base,
            "type": "access.permission_denied",
            "user_ref": new_id("u"),
            "role": "sjukskoterska",
            "module": "MAR",
        }
    return {
        **base,
        "type": "floorwalker.checkin",
        "walker_id": new_id("w"),
        "status": "assisting",
        "assists": int(kind.split(":")[1]),
    }


def scenario(api: CompareApi) -> list[tuple[str, str, datetime]]:
    """(kind, unit, moment): a seeded mix over both waves' first 80 hours, and around the edges."""
    rng = random.Random(14)
    kinds = ["ticket", "login_ok", "login_ok", "login_failed", "denial", "assist:2", "assist:1"]
    items = []
    for letter, go_live in (("A", W1_GO_LIVE), ("B", W1_GO_LIVE), ("C", W2_GO_LIVE)):
        for _ in range(160):
            offset = timedelta(seconds=rng.randrange(-2 * 3600, 80 * 3600))
            items.append((rng.choice(kinds), api.unit(letter), go_live + offset))
        # Exactly on the edges: the go-live's second counts in hour 0, 72 h is outside the span.
        items += [("ticket", api.unit(letter), go_live), ("ticket", api.unit(letter), go_live + timedelta(hours=72))]
        items.append(("ticket", api.unit(letter), go_live + timedelta(hours=5) - timedelta(seconds=1)))
    items.append(("ticket", api.unit("D"), W1_GO_LIVE + timedelta(hours=3)))  # a wave not compared / not live
    return items


def oracle(
    items: list[tuple[str, str, datetime]], units: dict[str, tuple[str, datetime]], users: dict[str, int]
) -> dict[str, list[dict[str, Any]]]:
    """Counted independently: whole hours since the unit's wave's go-live, summed per wave, × 100 / users."""
    sums: dict[str, dict[int, dict[str, int]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
    for kind, unit_id, moment in items:
        if unit_id not in units:
            continue
        wave_id, go_live = units[unit_id]
        seconds = (moment - go_live).total_seconds()
        if seconds < 0 or seconds >= 72 * 3600:
            continue
        hour = int(seconds // 3600)
        bucket = sums[wave_id][hour]
        if kind == "ticket":
            bucket["tickets"] += 1
        elif kind.startswith("login"):
            bucket["logins"] += 1
            bucket["login_failures"] += kind == "login_failed"
        elif kind == "denial":
            bucket["permission_denials"] += 1
        else:
            bucket["assists"] += int(kind.split(":")[1])
    expected = {}
    for wave_id, n_users in users.items():
        rows = []
        for hour in range(72):
            b = sums[wave_id][hour]
            rows.append(
                {
                    "tickets_per_100_users": round(b["tickets"] * 100 / n_users, 2),
                    "permission_denials_per_100_users": round(b["permission_denials"] * 100 / n_users, 2),
                    "assists_per_100_users": round(b["assists"] * 100 / n_users, 2),
                    "login_failure_rate": round(b["login_failures"] / b["logins"], 4) if b["logins"] else None,
                    "tickets": b["tickets"],
                }
            )
        expected[wave_id] = rows
    return expected


def picked(body: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    keys = (
        "tickets_per_100_users",
        "permission_denials_per_100_users",
        "assists_per_100_users",
        "login_failure_rate",
        "tickets",
    )
    return {
        wave["wave_id"]: [{key: bucket["figures"][key] for key in keys} for bucket in wave["buckets"]]
        for wave in body["waves"]
    }


async def test_two_waves_per_100_users_per_hour_since_their_own_go_live(api: CompareApi) -> None:
    items = scenario(api)
    await stored_events.store(api.db, *(event(kind, unit_id, moment) for kind, unit_id, moment in items))
    viewer = await issue_token(api.db, role="viewer", name=new_id("compare-viewer"))

    response = await api.get(viewer, waves="w1,w2", span="72h")
    assert response.status_code == 200, response.text
    body = response.json()
    assert WaveComparison.model_validate(body).model_dump(mode="json") == body
    assert [(w["wave_id"], w["users"], w["unit_count"]) for w in body["waves"]] == [("w1", 50, 2), ("w2", 25, 1)]
    assert body["bucket_hours"] == 1 and all(len(w["buckets"]) == 72 for w in body["waves"])
    assert all(b["complete"] for w in body["waves"] for b in w["buckets"])
    units = {api.unit("A"): ("w1", W1_GO_LIVE), api.unit("B"): ("w1", W1_GO_LIVE), api.unit("C"): ("w2", W2_GO_LIVE)}
    assert picked(body) == oracle(items, units, {"w1": 50, "w2": 25})
    # Hand-checked corners: the go-live's own second is hour 0; 72 h is outside; 4:59:59 is hour 4.
    assert body["waves"][1]["buckets"][0]["start"] == W2_GO_LIVE.isoformat().replace("+00:00", "Z")
    assert body["waves"][1]["buckets"][0]["figures"]["tickets"] >= 1

    # A reader scoped to unit A sees w1 as unit A alone (40 users) and w2 with no units.
    scoped = await issue_token(api.db, role="viewer", name=new_id("compare-scoped"), scope=api.unit("A"))
    body = (await api.get(scoped, waves="w1,w2")).json()
    assert [(w["wave_id"], w["users"], w["unit_count"]) for w in body["waves"]] == [("w1", 40, 1), ("w2", 0, 0)]
    only_a = {api.unit("A"): ("w1", W1_GO_LIVE)}
    assert picked(body)["w1"] == oracle(items, only_a, {"w1": 40})["w1"]
    assert all(b["figures"]["tickets_per_100_users"] is None for b in body["waves"][1]["buckets"])

    # Daily over 14 days: the same events in day 0..3; day 0 holds everything of hours 0..23.
    daily = (await api.get(viewer, waves="w1", span="14d")).json()
    (wave,) = daily["waves"]
    assert daily["bucket_hours"] == 24 and len(wave["buckets"]) == 14
    hourly = picked((await api.get(viewer, waves="w1")).json())["w1"]
    assert wave["buckets"][0]["figures"]["tickets"] == sum(row["tickets"] for row in hourly[:24])


async def test_unknown_waves_are_named_and_the_default_is_every_live_wave(api: CompareApi) -> None:
    viewer = await issue_token(api.db, role="viewer", name=new_id("compare-viewer"))
    refused = await api.get(viewer, waves="w1,nope")
    assert refused.status_code == 404 and "nope" in refused.json()["detail"]
    assert (await api.get(viewer, span="3d")).status_code == 422
    body = (await api.get(viewer)).json()
    assert [w["wave_id"] for w in body["waves"]] == ["w1", "w2"]
    planned = (await api.get(viewer, waves="w3")).json()["waves"][0]
    assert planned["actual_go_live"] is None and all(b["figures"] is None for b in planned["buckets"])


def test_a_wave_live_for_ten_hours_has_ten_buckets_under_way_or_done(tmp_path: Path) -> None:
    org_file = tmp_path / "org.yaml"
    org_file.write_text(registry("PURE"), encoding="utf-8")
    org = load_org(org_file)
    at = W2_GO_LIVE + timedelta(hours=9, minutes=30)
    counted = [Counted("TPURE-EC", W2_GO_LIVE + timedelta(hours=9, minutes=10), "tickets", 5)]
    result = compare_waves(org, counted, wave_ids=["w2"], span="72h", at=at)
    buckets = result["waves"][0]["buckets"]
    assert [b["complete"] for b in buckets[:11]] == [True] * 9 + [False, False]
    assert buckets[9]["figures"]["tickets_per_100_users"] == 20.0  # 5 × 100 / 25
    assert buckets[10]["figures"] is None


async def test_the_daily_report_has_the_comparison_section_with_the_same_numbers(api: CompareApi) -> None:
    items = scenario(api)
    await stored_events.store(api.db, *(event(kind, unit_id, moment) for kind, unit_id, moment in items))
    viewer = await issue_token(api.db, role="viewer", name=new_id("compare-viewer"))
    compared = (await api.get(viewer, waves="w1,w2", span="14d")).json()

    transport = httpx.ASGITransport(app=api.app)
    headers = {"Authorization": f"Bearer {viewer}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://test", headers=headers) as client:
        answer = await client.get("/api/v1/reports/daily", params={"date": "2025-04-25"})
        assert answer.status_code == 200, answer.text
        (section,) = [s for s in answer.json()["content"]["sections"] if s["key"] == "waves"]
        (rows_table,) = section["tables"]
        expected = [
            (bucket["figures"]["tickets_per_100_users"], bucket["figures"]["login_failure_rate"])
            for wave in compared["waves"]
            for bucket in wave["buckets"]
        ]
        assert [(row["tickets"], row["login_failure_rate"]) for row in rows_table["rows"]] == expected
        assert len(rows_table["rows"]) == 28 and rows_table["rows"][0]["day"] == "1"
        assert rows_table["rows"][0]["wave"].startswith("Våg 1 (go-live 2025-03-04 06:30, 50 anv.)")
        markdown = (await client.get("/api/v1/reports/daily", params={"date": "2025-04-25", "format": "md"})).text
        assert "Vågjämförelse" in markdown and "Ärenden per 100 anv." in markdown
        html = (await client.get("/api/v1/reports/daily", params={"date": "2025-04-25", "format": "html"})).text
        assert "Vågorna dygn för dygn efter go-live" in html
        pdf = await client.get("/api/v1/reports/daily", params={"date": "2025-04-25", "format": "pdf"})
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
