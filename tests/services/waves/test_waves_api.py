"""``GET /api/v1/waves`` and the unit view's wave fields, through the real API on a registry with three waves."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from states_store import StatesStore

from hypercare.contract.events import new_id
from hypercare.settings import Settings
from hypercare.situation.health import load_rules
from hypercare.storage.db import Database
from services.app import create_app
from services.auth.tokens import TokenCache, issue_token
from services.gateway.hub import SituationHub
from services.readiness.schemas import UnitDetailWithReadiness
from services.waves.schemas import Waves

VGR = "SE2321000131"
# The region's id is this module's own: region-wide roll-out decisions other tests store (for SE2321000131-R) must
# not pause this registry's live wave in the shared database.
REGION_TAG = new_id("w")[-6:].upper()
KOMMUN = "SE2120001561"
REGISTRY = f"""\
region: {{id: {VGR}-R{REGION_TAG}, name: Regionen, hsa_prefix: {VGR}}}
areas:
  - {{id: sodra, name: Södra (Sjuhärad)}}
  - {{id: norra, name: Norra (Fyrbodal)}}
waves:
  - id: w1
    name: Våg 1
    status: live
    planned_go_live: 2024-11-12T05:30:00+01:00
    actual_go_live: 2024-11-12T06:15:00+01:00
  - {{id: w2, name: Våg 2, status: readiness, planned_go_live: 2025-02-18T06:00:00+01:00}}
  - {{id: w3, name: Våg 3, status: paused}}
administrations:
  - id: {VGR}-FNH
    name: Närhälsan
    sites:
      - id: {VGR}-SNHS
        name: Närhälsan södra
        area: sodra
        wave: w1
        units:
          - {{id: {VGR}-ENHA, name: Vårdcentral A, kind: primary_care}}
          - {{id: {VGR}-ENHB, name: Vårdcentral B, kind: primary_care}}
      - id: {VGR}-SNHN
        name: Närhälsan norra
        area: norra
        units:
          - {{id: {VGR}-ENHC, name: Vårdcentral C, kind: primary_care, wave: w2}}
  - id: {KOMMUN}-F
    name: Borås kommun
    type: municipality
    hsa_prefix: {KOMMUN}
    area: sodra
    sites:
      - id: {KOMMUN}-SHT
        name: Hemtjänst Borås
        wave: w2
        units:
          - {{id: {KOMMUN}-EHT1, name: Hemtjänst Borås 1, kind: home_care}}
"""
W1_GO_LIVE = datetime(2024, 11, 12, 5, 15, tzinfo=UTC)


@dataclass
class WavesApi:
    app: FastAPI
    token: str

    async def get(self, path: str) -> httpx.Response:
        transport = httpx.ASGITransport(app=self.app)
        headers = {"Authorization": f"Bearer {self.token}"}
        async with httpx.AsyncClient(transport=transport, base_url="http://test", headers=headers) as client:
            return await client.get(path)


@pytest.fixture
async def api(db_url: str, tmp_path: Path) -> AsyncIterator[WavesApi]:
    org_file = tmp_path / "org.yaml"
    org_file.write_text(REGISTRY, encoding="utf-8")
    app = create_app(Settings(database_url=db_url, org_file=org_file, data_dir=tmp_path))
    db = Database.from_url(db_url)
    app.state.db = db
    app.state.token_cache = TokenCache(ttl=30)
    settings = app.state.settings
    app.state.hub = SituationHub(store=StatesStore(), org=app.state.org, rules=load_rules(), settings=settings)  # type: ignore[arg-type]
    token = await issue_token(db, role="viewer", name=new_id("waves-viewer"))
    try:
        yield WavesApi(app=app, token=token)
    finally:
        await db.close()


def unassessed(wave_id: str, areas: dict[str, int], admins: dict[str, int], red: list[str]) -> dict[str, Any]:
    """The gate of a wave none of whose units has been assessed: all red, all blocking (green when empty)."""

    def counts(n: int) -> dict[str, int]:
        return {"green": 0, "yellow": 0, "red": n}

    return {
        "wave_id": wave_id,
        "status": "red" if red else "green",
        "units": counts(len(red)),
        "by_area": {area: counts(n) for area, n in areas.items()},
        "by_administration": {admin: counts(n) for admin, n in admins.items()},
        "blocking_unit_ids": red,
        "blocking_elsewhere": 0,
    }


def hours(since: datetime, until: datetime) -> float:
    return round((until - since).total_seconds() / 3600, 2)


async def test_the_waves_answer_with_areas_go_live_status_and_units(api: WavesApi) -> None:
    before = datetime.now(UTC)
    response = await api.get("/api/v1/waves")
    assert response.status_code == 200
    body = response.json()
    assert Waves.model_validate(body).model_dump(mode="json") == body
    as_of = datetime.fromisoformat(body.pop("as_of"))
    assert before <= as_of <= datetime.now(UTC)
    # Each wave's exit verdict (worked through in tests/services/wave_exit): w1 has had no tickets, no priority-1
    # ticket and no diversion, so it is ready for handover; w2 and w3 have not gone live, so are not assessed.
    exits = {wave["wave_id"]: wave.pop("exit") for wave in body["waves"]}
    assert {
        wave_id: (e["overall"], e["users"], e["unit_count"], [(c["id"], c["value"], c["state"]) for c in e["criteria"]])
        for wave_id, e in exits.items()
    } == {
        "w1": (
            "ready",
            60,
            2,
            [("tickets_per_100_users", 0, "within"), ("no_open_p1", 0, "within"), ("no_active_diversion", 0, "within")],
        ),
        **{
            wave_id: (
                "not_assessed",
                users,
                users // 30,
                [
                    ("tickets_per_100_users", None, "not_assessed"),
                    ("no_open_p1", None, "not_assessed"),
                    ("no_active_diversion", None, "not_assessed"),
                ],
            )
            for wave_id, users in (("w2", 60), ("w3", 0))
        },
    }
    assert body == {
        "areas": [
            {
                "area_id": "sodra",
                "name": "Södra (Sjuhärad)",
                "administration_ids": [f"{VGR}-FNH", f"{KOMMUN}-F"],
                "site_ids": [f"{VGR}-SNHS", f"{KOMMUN}-SHT"],
            },
            {
                "area_id": "norra",
                "name": "Norra (Fyrbodal)",
                "administration_ids": [f"{VGR}-FNH"],
                "site_ids": [f"{VGR}-SNHN"],
            },
        ],
        "waves": [
            {
                "wave_id": "w1",
                "name": "Våg 1",
                "status": "live",
                "registry_status": "live",
                "rollout": None,
                "handover": None,
                "areas": ["sodra"],
                "planned_go_live": "2024-11-12T05:30:00+01:00",
                "actual_go_live": "2024-11-12T06:15:00+01:00",
                "hours_since_go_live": hours(W1_GO_LIVE, as_of),
                "unit_count": 2,
                "administration_ids": [f"{VGR}-FNH"],
                "site_ids": [f"{VGR}-SNHS"],
                # Nobody has assessed its units: every one is red and blocks the gate.
                "readiness": unassessed("w1", {"sodra": 2}, {f"{VGR}-FNH": 2}, [f"{VGR}-ENHA", f"{VGR}-ENHB"]),
            },
            {
                "wave_id": "w2",
                "name": "Våg 2",
                "status": "readiness",
                "registry_status": "readiness",
                "rollout": None,
                "handover": None,
                "areas": ["sodra", "norra"],
                "planned_go_live": "2025-02-18T06:00:00+01:00",
                "actual_go_live": None,
                "hours_since_go_live": None,
                "unit_count": 2,
                "administration_ids": [f"{VGR}-FNH", f"{KOMMUN}-F"],
                "site_ids": [f"{VGR}-SNHN", f"{KOMMUN}-SHT"],
                "readiness": unassessed(
                    "w2",
                    {"norra": 1, "sodra": 1},
                    {f"{VGR}-FNH": 1, f"{KOMMUN}-F": 1},
                    [f"{VGR}-ENHC", f"{KOMMUN}-EHT1"],
                ),
            },
            {
                "wave_id": "w3",
                "name": "Våg 3",
                "status": "paused",
                "registry_status": "paused",
                "rollout": None,
                "handover": None,
                "areas": [],
                "planned_go_live": None,
                "actual_go_live": None,
                "hours_since_go_live": None,
                "unit_count": 0,
                "administration_ids": [],
                "site_ids": [],
                "readiness": unassessed("w3", {}, {}, []),
            },
        ],
    }


async def test_a_unit_carries_its_wave_area_go_live_and_hours_since(api: WavesApi) -> None:
    live = (await api.get(f"/api/v1/units/{VGR}-ENHB")).json()
    assert UnitDetailWithReadiness.model_validate(live).model_dump(mode="json") == live
    # Not assessed yet: red on every item of the shipped checklist.
    assert live["readiness"]["status"] == "red"
    assert [(i["item_id"], i["status"], i["value"]) for i in live["readiness"]["items"]] == [
        (item, "red", None)
        for item in (
            "permissions_matched",
            "staff_trained",
            "devices_verified",
            "migration_checked",
            "super_user_every_shift",
            "cutover_plan_approved",
        )
    ]
    as_of = datetime.fromisoformat(live["as_of"])
    assert (live["wave_id"], live["area"], live["go_live_at"]) == ("w1", "sodra", "2024-11-12T05:15:00+00:00")
    assert live["hours_since_go_live"] == hours(W1_GO_LIVE, as_of)

    municipal = (await api.get(f"/api/v1/units/{KOMMUN}-EHT1")).json()
    assert UnitDetailWithReadiness.model_validate(municipal).model_dump(mode="json") == municipal
    assert {key: municipal[key] for key in ("wave_id", "area", "go_live_at", "hours_since_go_live")} == {
        "wave_id": "w2",
        "area": "sodra",
        "go_live_at": None,
        "hours_since_go_live": None,
    }

    situation = (await api.get("/api/v1/situation")).json()
    administrations = {a["administration_id"]: a for a in situation["administrations"]}
    assert administrations[f"{VGR}-FNH"]["wave_ids"] == ["w1", "w2"]
    assert administrations[f"{KOMMUN}-F"]["wave_ids"] == ["w2"]
    norra = administrations[f"{VGR}-FNH"]["sites"][1]["units"][0]
    assert (norra["unit_id"], norra["wave_id"], norra["area"], norra["go_live_at"]) == (
        f"{VGR}-ENHC",
        "w2",
        "norra",
        None,
    )
    assert "hours_since_go_live" not in norra  # it changes every moment: the unit view computes it, deltas do not


async def test_openapi_shows_the_waves_shape(api: WavesApi) -> None:
    document = api.app.openapi()
    response = document["paths"]["/api/v1/waves"]["get"]["responses"]["200"]["content"]["application/json"]
    assert response["schema"] == {"$ref": "#/components/schemas/Waves"}
    wave = document["components"]["schemas"]["WaveView"]
    assert set(wave["required"]) == {
        "wave_id",
        "name",
        "status",
        "registry_status",
        "rollout",
        "handover",
        "areas",
        "planned_go_live",
        "actual_go_live",
        "hours_since_go_live",
        "unit_count",
        "administration_ids",
        "site_ids",
        "readiness",
        "exit",
    }
    assert wave["properties"]["status"]["enum"] == ["planned", "readiness", "live", "paused", "exited"]
    unit = document["components"]["schemas"]["UnitDetailWithReadiness"]
    assert {"wave_id", "area", "go_live_at", "hours_since_go_live", "readiness"} <= set(unit["required"])
