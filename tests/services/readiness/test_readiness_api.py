"""Readiness fed and served: a training system's spreadsheet through ``hypercare readiness import``'s poster and a
chief's ``readiness.assessed`` events, through the ingest API and the stream worker's own store path, read back
from ``GET /api/v1/readiness``, ``/api/v1/waves`` and the unit view, on PostgreSQL and SQLite.

The registry's ids are unique to each test, so its figures are exact while the database is shared. The expected
statuses are worked out by hand from the shipped checklist (staff trained green from 90 %, yellow from 75 %;
permissions matched green from 95 %, yellow from 85 %; a check not done or an item not assessed is red).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
import yaml
from fastapi import FastAPI
from memory_states import MemoryStates

from hypercare.contract.events import new_id
from hypercare.entrypoints.embedded_broker import free_port
from hypercare.entrypoints.readiness_import import post_sheet, read_sheet
from hypercare.settings import Settings
from hypercare.storage.db import Database
from hypercare.storage.events_store import store_events
from hypercare.storage.quarantine import list_quarantined
from hypercare.topics import topics_for
from services.app import create_app
from services.auth.tokens import TokenCache, issue_token
from services.readiness.schemas import ReadinessView
from streams.processor import BatchProcessor, Record
from streams.sink import EventSink

REPO = Path(__file__).resolve().parents[3]
CHECKS = ("devices_verified", "migration_checked", "super_user_every_shift", "cutover_plan_approved")


class RecordingProducer:
    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes | None, bytes]] = []

    async def send_all(self, messages: Sequence[tuple[str, bytes | None, bytes]]) -> None:
        self.sent.extend(messages)


@dataclass
class Registry:
    """Two waves: w1 (Förvaltning A: site A1 in the south with A1..A3, site A2 in the north with A4) and w2
    (Förvaltning B: site B1 in the north with B1, B2)."""

    tag: str

    def id(self, name: str) -> str:
        return f"T{self.tag}-{name}"

    def document(self) -> dict[str, Any]:
        def units(*names: str) -> list[dict[str, str]]:
            return [{"id": self.id(n), "name": f"Enhet {n}", "kind": "ward"} for n in names]

        return {
            "region": {"id": self.id("R"), "name": "Regionen"},
            "areas": [{"id": "sodra", "name": "Södra"}, {"id": "norra", "name": "Norra"}],
            "waves": [
                {"id": "w1", "name": "Våg 1", "status": "readiness", "planned_go_live": "2031-02-18T06:00:00+01:00"},
                {"id": "w2", "name": "Våg 2", "status": "planned"},
            ],
            "administrations": [
                {
                    "id": self.id("FA"),
                    "name": "Förvaltning A",
                    "area": "sodra",
                    "sites": [
                        {"id": self.id("SA1"), "name": "Plats A1", "wave": "w1", "units": units("A1", "A2", "A3")},
                        {"id": self.id("SA2"), "name": "Plats A2", "area": "norra", "wave": "w1", "units": units("A4")},
                    ],
                },
                {
                    "id": self.id("FB"),
                    "name": "Förvaltning B",
                    "area": "norra",
                    "sites": [{"id": self.id("SB1"), "name": "Plats B1", "wave": "w2", "units": units("B1", "B2")}],
                },
            ],
        }


@dataclass
class ReadinessApi:
    app: FastAPI
    db: Database
    org: Registry
    tokens: dict[str, str]
    names: dict[str, str]
    producer: RecordingProducer

    def client(self, who: str) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"}
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://test", headers=headers)

    async def get(self, path: str, who: str = "viewer", **params: Any) -> httpx.Response:
        async with self.client(who) as client:
            return await client.get(path, params=params)

    async def post(self, items: list[dict[str, Any]], who: str) -> httpx.Response:
        async with self.client(who) as client:
            return await client.post("/api/v1/events", json=items)

    async def store_sent(self) -> None:
        """What the API produced, through the stream worker's batch processor into the event store."""
        settings: Settings = self.app.state.settings
        processor = BatchProcessor(
            topics=topics_for(settings),
            states=MemoryStates(),
            store_events=EventSink(lambda rows: store_events(self.db, rows=rows)),
        )
        records = [
            Record(topic=topic, partition=0, offset=offset, key=key, value=value)
            for offset, (topic, key, value) in enumerate(self.producer.sent)
            if topic.endswith((".events.readiness", ".events.coordination"))
        ]
        result = await processor.process(records, now=datetime.now(UTC))
        assert result.dead_letters == []
        self.producer.sent.clear()


@pytest.fixture
async def api(db_url: str, tmp_path: Path) -> AsyncIterator[ReadinessApi]:
    org = Registry(tag=new_id("x")[2:12].upper())
    org_file = tmp_path / "org.yaml"
    org_file.write_text(yaml.safe_dump(org.document(), allow_unicode=True), encoding="utf-8")
    app = create_app(Settings(database_url=db_url, org_file=org_file, data_dir=tmp_path))
    db = Database.from_url(db_url)
    producer = RecordingProducer()
    app.state.db, app.state.token_cache, app.state.producer = db, TokenCache(ttl=30), producer
    names = {
        "chief": new_id("readiness-chief"),
        "viewer": new_id("readiness-viewer"),
        "site_viewer": new_id("readiness-site-viewer"),
        "training": new_id("training-system"),
        "agent": new_id("readiness-agent"),
    }
    tokens = {
        "chief": await issue_token(db, role="chief", name=names["chief"]),
        "viewer": await issue_token(db, role="viewer", name=names["viewer"]),
        "site_viewer": await issue_token(
            db, role="viewer", name=names["site_viewer"], scope=org.id("SA1"), org_scope_ids=app.state.org.node_ids
        ),
        "training": await issue_token(db, role="source", name=names["training"], families=["readiness"]),
        "agent": await issue_token(db, role="agent", name=names["agent"]),
    }
    try:
        yield ReadinessApi(app=app, db=db, org=org, tokens=tokens, names=names, producer=producer)
    finally:
        await db.close()


def assessed(api: ReadinessApi, unit: str, item: str, value: Any, at: datetime, **fields: Any) -> dict[str, Any]:
    return {
        "event_id": new_id("ra"),
        "type": "readiness.assessed",
        "occurred_at": at.isoformat(),
        "unit_id": api.org.id(unit),
        "item": item,
        "value": value,
        **fields,
    }


def counts(green: int = 0, yellow: int = 0, red: int = 0) -> dict[str, int]:
    return {"green": green, "yellow": yellow, "red": red}


async def feed(api: ReadinessApi, tmp_path: Path, t0: datetime) -> list[tuple[int, str]]:
    """The scenario: a chief's events two hours before ``t0``, then the training system's sheet at ``t0``.

    A1 staff 96, permissions 97.5, checks done: green. A2 staff 80 %: yellow. A3 staff 95 two hours earlier, then
    50 in the sheet: red. A4 all green. B1 nothing: red. B2 all green. Returns the import's refusals."""
    early = t0 - timedelta(hours=2)
    chief = [
        *[assessed(api, unit, check, True, early) for unit in ("A1", "A2", "A3", "A4", "B2") for check in CHECKS],
        assessed(api, "A2", "permissions_matched", 96, early),
        assessed(api, "A3", "permissions_matched", 99, early),
        assessed(api, "A3", "staff_trained", 95, early),
        assessed(api, "A4", "permissions_matched", 100, early, evidence="Behörighetsmatchningen v48"),
        assessed(api, "A4", "staff_trained", 91, early),
        assessed(api, "B2", "permissions_matched", 95, early),
        assessed(api, "B2", "staff_trained", 90, early),
    ]
    response = await api.post(chief, "chief")
    assert response.json() == {"accepted": len(chief), "rejected": []}
    await api.store_sent()

    when = t0.isoformat()
    lines = [
        "unit_id;item;value;assessed_at;assessor;evidence",
        f"{api.org.id('A1')};staff_trained;96;{when};Utbildningssystemet;Export vecka 48",  # line 2
        f"{api.org.id('A1')};permissions_matched;97,5;{when};Behörighetsmatchningen;",  # line 3
        f"{api.org.id('A2')};staff_trained;80 %;{when};Utbildningssystemet;",  # line 4
        f"{api.org.id('A3')};staff_trained;50;{when};Utbildningssystemet;",  # line 5
        f"{api.org.id('A3')};staff_trained;kanske;{when};Utbildningssystemet;",  # line 6: not a value
        f"{api.org.id('A4')};devices_verified;92;{when};Utbildningssystemet;",  # line 7: a check, not a number
        f"{api.org.id('A4')};badges_printed;ja;{when};Utbildningssystemet;",  # line 8: not on the checklist
        f"T{api.org.tag}-NOPE;staff_trained;90;{when};Utbildningssystemet;",  # line 9: not in the registry
        f"{api.org.id('A4')};staff_trained;101;{when};Utbildningssystemet;",  # line 10: over 100
        f"{api.org.id('A4')};staff_trained;;{when};Utbildningssystemet;",  # line 11: empty value
        f"{api.org.id('A4')};staff_trained;90;{when};;",  # line 12: a source must name the assessor
        "",
        f"{api.org.id('A2')};migration_checked;ja;{when};Utbildningssystemet;",  # line 14: a check, done
    ]
    sheet_file = tmp_path / "utbildning.csv"
    sheet_file.write_bytes("\ufeff".encode() + "\r\n".join(lines).encode("utf-8"))  # as Excel saves "CSV UTF-8"
    outcome = await post_sheet(
        read_sheet(sheet_file),
        base_url="http://test",
        token=api.tokens["training"],
        transport=httpx.ASGITransport(app=api.app),
    )
    assert (outcome.rows, outcome.accepted) == (12, 5)
    await api.store_sent()
    return outcome.rejects


async def test_a_sheet_and_events_give_each_units_readiness_rolled_up_with_the_gates(
    api: ReadinessApi, tmp_path: Path
) -> None:
    t0 = (datetime.now(UTC) - timedelta(days=1)).replace(microsecond=0)
    rejects = await feed(api, tmp_path, t0)
    assert rejects == [
        (6, "value: must be ja/nej (yes/no, true/false) for a check or a number 0–100 for a percent"),
        (7, "value: devices_verified is a check: true (done) or false (not done), not 92"),
        (
            8,
            "item: 'badges_printed' is not on the readiness checklist (items: permissions_matched, staff_trained, "
            "devices_verified, migration_checked, super_user_every_shift, cutover_plan_approved)",
        ),
        (9, f"unit_id: 'T{api.org.tag}-NOPE' is not in the org registry"),
        (10, "value: must be true or false (a check) or a number from 0 to 100 (a percent)"),
        (11, "value: empty"),
        (12, "assessor: Field required"),
    ]

    response = await api.get("/api/v1/readiness")
    assert response.status_code == 200, response.text
    body = response.json()
    assert ReadinessView.model_validate(body).model_dump(mode="json") == body
    units = {u["unit_id"].split("-", 1)[1]: u for u in body["units"] if u["unit_id"].startswith(f"T{api.org.tag}")}
    assert {name: u["status"] for name, u in units.items()} == {
        "A1": "green",
        "A2": "yellow",
        "A3": "red",
        "A4": "green",
        "B1": "red",
        "B2": "green",
    }
    a2 = {item["item_id"]: item for item in units["A2"]["items"]}
    assert (a2["staff_trained"]["value"], a2["staff_trained"]["reason"]) == (
        80,
        "Personal som genomgått utbildningen: 80 % (grönt från 90 %)",
    )
    assert (a2["staff_trained"]["assessor"], a2["staff_trained"]["assessed_at"]) == (
        "Utbildningssystemet",
        t0.isoformat().replace("+00:00", "Z"),
    )
    # The chief left the assessor out: the server stamped the chief's own name.
    assert a2["permissions_matched"]["assessor"] == api.names["chief"]
    a1 = {item["item_id"]: item for item in units["A1"]["items"]}
    assert (a1["permissions_matched"]["value"], a1["permissions_matched"]["evidence"]) == (97.5, "")
    a3 = {item["item_id"]: item for item in units["A3"]["items"]}
    assert (a3["staff_trained"]["value"], a3["staff_trained"]["status"]) == (50, "red")  # the sheet's is the latest
    assert [(i["item_id"], i["reason"]) for i in units["B1"]["items"] if i["item_id"] == "devices_verified"] == [
        (
            "devices_verified",
            "Datorer, skrivare och etikettskrivare verifierade mot godkänd utrustningslista: ej bedömd",
        )
    ]
    a4 = {item["item_id"]: item for item in units["A4"]["items"]}
    assert a4["permissions_matched"]["evidence"] == "Behörighetsmatchningen v48"

    def nodes(kind: str) -> dict[str, tuple[str, dict[str, int]]]:
        return {n["id"]: (n["status"], n["units"]) for n in body[kind]}

    assert nodes("sites") == {
        api.org.id("SA1"): ("red", counts(green=1, yellow=1, red=1)),
        api.org.id("SA2"): ("green", counts(green=1)),
        api.org.id("SB1"): ("red", counts(green=1, red=1)),
    }
    assert nodes("administrations") == {
        api.org.id("FA"): ("red", counts(green=2, yellow=1, red=1)),
        api.org.id("FB"): ("red", counts(green=1, red=1)),
    }
    assert nodes("areas") == {"sodra": ("red", counts(green=1, yellow=1, red=1)), "norra": ("red", counts(2, 0, 1))}
    gates = {gate["wave_id"]: gate for gate in body["waves"]}
    assert gates["w1"] == {
        "wave_id": "w1",
        "status": "red",
        "units": counts(green=2, yellow=1, red=1),
        "by_area": {"sodra": counts(green=1, yellow=1, red=1), "norra": counts(green=1)},
        "by_administration": {api.org.id("FA"): counts(green=2, yellow=1, red=1)},
        "blocking_unit_ids": [api.org.id("A3")],
        "blocking_elsewhere": 0,
    }
    assert (gates["w2"]["status"], gates["w2"]["blocking_unit_ids"]) == ("red", [api.org.id("B1")])

    # One wave: its units only, and its gate.
    w2 = (await api.get("/api/v1/readiness", wave="w2")).json()
    assert [u["unit_id"] for u in w2["units"]] == [api.org.id("B1"), api.org.id("B2")]
    assert [g["wave_id"] for g in w2["waves"]] == ["w2"]
    # An hour before the sheet: A3 was green (95 %, the chief's); A1 and A2 lacked the sheet's percentages.
    before = (await api.get("/api/v1/readiness", wave="w1", at=(t0 - timedelta(hours=1)).isoformat())).json()
    assert {u["unit_id"]: u["status"] for u in before["units"]} == {
        api.org.id("A1"): "red",
        api.org.id("A2"): "red",
        api.org.id("A3"): "green",
        api.org.id("A4"): "green",
    }
    assert before["waves"][0]["blocking_unit_ids"] == [api.org.id("A1"), api.org.id("A2")]
    # Once A3's training is caught up, w1 is no longer blocked: yellow (A2), no blocking units.
    response = await api.post([assessed(api, "A3", "staff_trained", 93, t0 + timedelta(minutes=5))], "chief")
    assert response.json()["accepted"] == 1
    await api.store_sent()
    after = (await api.get("/api/v1/readiness", wave="w1")).json()["waves"][0]
    assert (after["status"], after["units"], after["blocking_unit_ids"]) == ("yellow", counts(3, 1, 0), [])

    # GET /api/v1/waves carries each wave's gate; the unit view its readiness.
    waves = {w["wave_id"]: w["readiness"] for w in (await api.get("/api/v1/waves")).json()["waves"]}
    assert (waves["w1"]["status"], waves["w2"]["status"], waves["w2"]["blocking_unit_ids"]) == (
        "yellow",
        "red",
        [api.org.id("B1")],
    )


async def test_bad_events_are_refused_per_item_and_kept(api: ReadinessApi) -> None:
    now = datetime.now(UTC) - timedelta(minutes=1)
    items = [
        assessed(api, "A1", "staff_trained", 91, now),  # 0: fine
        assessed(api, "A1", "devices_verified", 1, now),  # 1: a check takes true/false, not 1
        assessed(api, "A1", "staff_trained", True, now),  # 2: a percent takes a number
        assessed(api, "A1", "staff_trained", -0.5, now),  # 3
        assessed(api, "A1", "staff_trained", "95", now),  # 4: a string is no number
        assessed(api, "A1", "Staff-Trained", 95, now),  # 5: not an item id
        assessed(api, "A1", "staff_trained", 95, now, assessor="someone-else"),  # 6: a person assesses as itself
    ]
    response = await api.post(items, "chief")
    body = response.json()
    value_reason = "value: must be true or false (a check) or a number from 0 to 100 (a percent)"
    assert body["accepted"] == 1
    assert [(r["index"], r["reason"]) for r in body["rejected"]] == [
        (1, "value: devices_verified is a check: true (done) or false (not done), not 1"),
        (2, "value: staff_trained is a percent: a number from 0 to 100, not true"),
        (3, value_reason),
        (4, value_reason),
        (5, "item: String should match pattern '^[a-z_]{1,40}$'"),
        (6, f"assessor: must be you ({api.names['chief']}); leave it out to have it filled in"),
    ]
    # Every refused item is in the quarantine with its reason: nothing is lost.
    kept = [row for row in await list_quarantined(api.db, limit=1000) if f"T{api.org.tag}" in row["raw"]]
    assert sorted(row["item_index"] for row in kept) == [1, 2, 3, 4, 5, 6]
    # Agents may not assess readiness; a source token issued for readiness may not send tickets.
    refused = (await api.post([assessed(api, "A1", "staff_trained", 91, now)], "agent")).json()
    assert refused["rejected"][0]["reason"] == (
        "type: role 'agent' may not submit readiness.assessed (allowed: tickets)"
    )
    ticket = {
        "event_id": new_id("t"),
        "type": "ticket.opened",
        "occurred_at": now.isoformat(),
        "unit_id": api.org.id("A1"),
        "ticket_id": "T-1",
        "channel": "phone",
        "category": "login",
        "priority": 2,
    }
    refused = (await api.post([ticket], "training")).json()
    assert refused["rejected"][0]["reason"] == (
        "type: role 'source' may not submit ticket.opened (allowed for this token: readiness)"
    )
    # On the readiness topic: exactly the accepted assessment, stamped by the server.
    sent = [json.loads(value) for topic, _, value in api.producer.sent if topic.endswith(".events.readiness")]
    assert [(item["event_id"], item["assessor"], item["submitted_role"]) for item in sent] == [
        (items[0]["event_id"], api.names["chief"], "chief")
    ]


async def test_a_scoped_reader_sees_its_subtree_and_the_gates_totals(api: ReadinessApi, tmp_path: Path) -> None:
    await feed(api, tmp_path, (datetime.now(UTC) - timedelta(days=1)).replace(microsecond=0))
    body = (await api.get("/api/v1/readiness", who="site_viewer")).json()
    assert [u["unit_id"] for u in body["units"]] == [api.org.id("A1"), api.org.id("A2"), api.org.id("A3")]
    assert [s["id"] for s in body["sites"]] == [api.org.id("SA1")]
    assert [a["id"] for a in body["administrations"]] == [api.org.id("FA")]
    gates = {gate["wave_id"]: gate for gate in body["waves"]}
    # The whole wave's gate and counts, the blocking units outside the scope counted, not named.
    assert (gates["w1"]["status"], gates["w1"]["units"], gates["w1"]["blocking_unit_ids"]) == (
        "red",
        counts(2, 1, 1),
        [api.org.id("A3")],
    )
    assert (gates["w2"]["blocking_unit_ids"], gates["w2"]["blocking_elsewhere"], gates["w2"]["by_administration"]) == (
        [],
        1,
        {},
    )
    outside = await api.get("/api/v1/readiness", who="site_viewer", unit_id=api.org.id("SB1"))
    assert outside.status_code == 403
    assert outside.json()["detail"] == (
        f"this token is scoped to {api.org.id('SA1')!r} and may not read the readiness for {api.org.id('SB1')!r} "
        "(outside its scope)"
    )
    inside = (await api.get("/api/v1/readiness", who="site_viewer", unit_id=api.org.id("A2"))).json()
    assert [(u["unit_id"], u["status"]) for u in inside["units"]] == [(api.org.id("A2"), "yellow")]
    waves = {w["wave_id"]: w["readiness"] for w in (await api.get("/api/v1/waves", who="site_viewer")).json()["waves"]}
    assert (waves["w2"]["blocking_unit_ids"], waves["w2"]["blocking_elsewhere"]) == ([], 1)
    assert (await api.get("/api/v1/readiness", wave="w9")).status_code == 404


async def test_a_waves_go_no_go_is_stamped_with_its_readiness(api: ReadinessApi, tmp_path: Path) -> None:
    await feed(api, tmp_path, (datetime.now(UTC) - timedelta(days=1)).replace(microsecond=0))
    async with api.client("chief") as client:
        refused = await client.post("/api/v1/readiness/decisions", json={"wave_id": "w1", "wave_decision": "go"})
        assert refused.status_code == 422
        assert refused.json()["detail"] == (
            f"rationale: the gate of w1 is red (blocking: {api.org.id('A3')}); a go needs the reason it goes anyway"
        )
        assert api.producer.sent == []  # nothing was sent
        response = await client.post(
            "/api/v1/readiness/decisions",
            json={"wave_id": "w1", "wave_decision": "no_go", "rationale": "A3:s utbildning är inte klar"},
        )
        unknown = await client.post("/api/v1/readiness/decisions", json={"wave_id": "w9", "wave_decision": "go"})
    assert unknown.status_code == 404
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["accepted"], body["rejected"]) == (1, [])
    stamp = body["readiness"]
    assert (stamp["wave_id"], stamp["gate"]["status"], stamp["gate"]["blocking_unit_ids"]) == (
        "w1",
        "red",
        [api.org.id("A3")],
    )
    assert stamp["gate"]["units"] == counts(green=2, yellow=1, red=1)
    assert stamp["units_not_green"] == [
        {
            "unit_id": api.org.id("A2"),
            "status": "yellow",
            "reasons": ["Personal som genomgått utbildningen: 80 % (grönt från 90 %)"],
        },
        {
            "unit_id": api.org.id("A3"),
            "status": "red",
            "reasons": ["Personal som genomgått utbildningen: 50 % (gult från 75 %)"],
        },
    ]
    await api.store_sent()
    # In the decision log as the chief's own decision, with the readiness the group decided on.
    log = (await api.get("/api/v1/decisions", unit_id=api.org.id("R"))).json()["items"]
    assert [(e["decision_id"], e["title"], e["decided_by"], e["wave_decision"]) for e in log] == [
        (body["decision_id"], "Våg 1 går inte live (no-go)", api.names["chief"], "no_go")
    ]
    assert log[0]["readiness"] == stamp
    # A viewer may not decide.
    async with api.client("viewer") as client:
        denied = await client.post("/api/v1/readiness/decisions", json={"wave_id": "w1", "wave_decision": "no_go"})
    assert denied.status_code == 403


async def cli(*args: str) -> tuple[int, str, str]:
    """``hypercare readiness import`` as its own process (this event loop keeps serving meanwhile)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYPERCARE_")}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hypercare.entrypoints.cli",
        "readiness",
        "import",
        *args,
        env=env,
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    return process.returncode or 0, out.decode(), err.decode()


async def test_the_import_command_through_a_real_server(api: ReadinessApi, tmp_path: Path) -> None:
    """The command as a person runs it, against the app served by uvicorn: comma-separated, with a BOM."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(api.app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    deadline = time.monotonic() + 30
    while not server.started:
        assert not task.done() and time.monotonic() < deadline, "the API did not start"
        await asyncio.sleep(0.05)
    token_file = tmp_path / "token"
    token_file.write_text(api.tokens["training"] + "\n", encoding="utf-8")
    sheet = tmp_path / "behorigheter.csv"
    when = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    rows = [
        "Unit_ID,Item,Value,Assessed_At,Assessor,Evidence",
        f'{api.org.id("B1")},permissions_matched,"88,5",{when},Behörighetsmatchningen,"Matchning, vecka 48"',
        f"{api.org.id('B1')},devices_verified,nej,{when},Behörighetsmatchningen,",
        f"{api.org.id('B1')},permissions_matched,88.5,{when},,",
    ]
    sheet.write_bytes(b"\xef\xbb\xbf" + "\n".join(rows).encode("utf-8"))
    url = f"http://127.0.0.1:{port}"
    try:
        code, out, err = await cli(str(sheet), "--token-file", str(token_file), "--url", url)
        broken = tmp_path / "broken.csv"
        broken.write_text("unit;item;value\nX;staff_trained;90\n", encoding="utf-8")
        broken_code, broken_out, broken_err = await cli(str(broken), "--token-file", str(token_file), "--url", url)
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)
    assert (code, out) == (1, f"{sheet}:4: assessor: Field required\n"), err
    assert err.strip().endswith("3 rows: 2 accepted, 1 rejected")
    assert (broken_code, broken_out) == (2, "")
    assert broken_err.strip() == f"{broken}: line 1: missing column unit_id (columns: unit, item, value)"
    await api.store_sent()
    units = (await api.get("/api/v1/readiness", unit_id=api.org.id("B1"))).json()["units"]
    items = {item["item_id"]: item for item in units[0]["items"]}
    assert (items["permissions_matched"]["value"], items["permissions_matched"]["status"]) == (88.5, "yellow")
    assert items["permissions_matched"]["evidence"] == "Matchning, vecka 48"
    assert (items["devices_verified"]["value"], items["devices_verified"]["reason"]) == (
        False,
        "Datorer, skrivare och etikettskrivare verifierade mot godkänd utrustningslista: ej klar",
    )
