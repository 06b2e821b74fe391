"""Hypercare exit per wave: ``GET /api/v1/waves/{wave_id}/exit`` over hand-worked stored events, each criterion
flipping exactly at its limit, each wave's verdict on ``GET /api/v1/waves``, and the handover decision stamped
with the criteria.

The oracle is worked by hand from the shipped exit criteria (tickets per 100 users per whole local day exceeded
from 2, three days in a row; an open priority-1 ticket or a running diversion exceeds) and this registry: wave w1
has Avdelning 1 (staff 40), Avdelning 2 (staff 60) and an emergency department (staff 50), 150 users, so a day
is exceeded from 3 tickets (3 × 100 = 2 × 150). The unit ids are unique to each test, so its figures are exact
while the database is shared.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import stored_events
import yaml
from fastapi import FastAPI
from memory_states import MemoryStates

from hypercare.contract.events import new_id
from hypercare.settings import Settings
from hypercare.storage.db import Database
from hypercare.storage.events_store import store_events
from hypercare.topics import topics_for
from services.app import create_app
from services.auth.tokens import TokenCache, issue_token
from streams.processor import BatchProcessor, Record
from streams.sink import EventSink

STOCKHOLM = ZoneInfo("Europe/Stockholm")


class RecordingProducer:
    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes | None, bytes]] = []

    async def send_all(self, messages: Sequence[tuple[str, bytes | None, bytes]]) -> None:
        self.sent.extend(messages)


@dataclass
class ExitApi:
    app: FastAPI
    db: Database
    tag: str
    tokens: dict[str, str]
    names: dict[str, str]
    producer: RecordingProducer

    def id(self, name: str) -> str:
        return f"T{self.tag}-{name}"

    def client(self, who: str = "viewer") -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"}
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://test", headers=headers)

    async def exit(self, wave_id: str, at: datetime) -> dict[str, Any]:
        async with self.client() as client:
            response = await client.get(f"/api/v1/waves/{wave_id}/exit", params={"at": at.isoformat()})
        assert response.status_code == 200, response.text
        return response.json()

    async def store(self, *events: dict[str, Any]) -> None:
        await stored_events.store(self.db, *events)

    async def store_sent(self) -> None:
        """What the API produced, through the stream worker's batch processor into the event store."""
        processor = BatchProcessor(
            topics=topics_for(self.app.state.settings),
            states=MemoryStates(),
            store_events=EventSink(lambda rows: store_events(self.db, rows=rows)),
        )
        records = [
            Record(topic=topic, partition=0, offset=offset, key=key, value=value)
            for offset, (topic, key, value) in enumerate(self.producer.sent)
        ]
        result = await processor.process(records, now=datetime.now(UTC))
        assert result.dead_letters == []


def registry(tag: str, go_live: datetime) -> dict[str, Any]:
    def uid(name: str) -> str:
        return f"T{tag}-{name}"

    return {
        "region": {"id": uid("R"), "name": "Regionen"},
        "waves": [
            {"id": "w1", "name": "Våg 1", "status": "live", "actual_go_live": go_live.isoformat()},
            {"id": "w2", "name": "Våg 2", "status": "readiness", "planned_go_live": "2030-02-18T06:00:00+01:00"},
        ],
        "administrations": [
            {
                "id": uid("FA"),
                "name": "Förvaltning A",
                "sites": [
                    {
                        "id": uid("SA"),
                        "name": "Plats A",
                        "wave": "w1",
                        "units": [
                            {"id": uid("A1"), "name": "Avdelning 1", "kind": "ward", "staff": 40},
                            {"id": uid("A2"), "name": "Avdelning 2", "kind": "ward", "staff": 60},
                            {"id": uid("ED"), "name": "Akutmottagning", "kind": "ed", "staff": 50},
                        ],
                    },
                    {
                        "id": uid("SB"),
                        "name": "Plats B",
                        "wave": "w2",
                        "units": [{"id": uid("B1"), "name": "Vårdcentral B", "kind": "primary_care"}],
                    },
                ],
            }
        ],
    }


async def make_api(db_url: str, tmp_path: Path, go_live: datetime) -> ExitApi:
    tag = new_id("x")[2:12].upper()
    org_file = tmp_path / "org.yaml"
    org_file.write_text(yaml.safe_dump(registry(tag, go_live), allow_unicode=True), encoding="utf-8")
    app = create_app(Settings(database_url=db_url, org_file=org_file, data_dir=tmp_path))
    db = Database.from_url(db_url)
    producer = RecordingProducer()
    app.state.db, app.state.token_cache, app.state.producer = db, TokenCache(ttl=30), producer
    names = {"chief": new_id("exit-chief"), "viewer": new_id("exit-viewer"), "agent": new_id("exit-agent")}
    tokens = {role: await issue_token(db, role=role, name=name) for role, name in names.items()}
    return ExitApi(app=app, db=db, tag=tag, tokens=tokens, names=names, producer=producer)


@pytest.fixture
async def past(db_url: str, tmp_path: Path) -> AsyncIterator[tuple[ExitApi, datetime]]:
    """Wave w1 went live at 06:00 local on a day of its own far back; the API and that go-live."""
    go_live = datetime(2019, 5, 1 + uuid.uuid4().int % 20, 6, 0, tzinfo=STOCKHOLM)
    api = await make_api(db_url, tmp_path, go_live)
    try:
        yield api, go_live
    finally:
        await api.db.close()


def ticket(unit_id: str, at: datetime, *, priority: int = 3, ticket_id: str | None = None) -> dict[str, Any]:
    return {
        "event_id": new_id("e"),
        "type": "ticket.opened",
        "occurred_at": at.isoformat(),
        "unit_id": unit_id,
        "ticket_id": ticket_id or new_id("T"),
        "channel": "phone",
        "category": "login",
        "priority": priority,
    }


def event(type_: str, unit_id: str, at: datetime, **fields: Any) -> dict[str, Any]:
    return {"event_id": new_id("e"), "type": type_, "occurred_at": at.isoformat(), "unit_id": unit_id, **fields}


def by_id(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["id"]: item for item in document["criteria"]}


def midnight(day: datetime, days: int) -> datetime:
    """Local midnight ``days`` after ``day``'s date."""
    return datetime.combine(day.astimezone(STOCKHOLM).date() + timedelta(days=days), time(0), tzinfo=STOCKHOLM)


async def test_exit_criteria_flip_exactly_at_their_limits(past: tuple[ExitApi, datetime]) -> None:
    api, go_live = past
    a1, a2, ed = api.id("A1"), api.id("A2"), api.id("ED")
    day1, day2, day3, day4 = (midnight(go_live, n) for n in (1, 2, 3, 4))
    at = day4 + timedelta(hours=10)  # judged: the whole days day1, day2, day3
    # Two tickets a day on each whole day (2 × 100 / 150 = 1.33: within), one on the go-live day itself (not a
    # whole day after go-live) and one at day4's very first second (at's own day: not judged yet).
    await api.store(
        ticket(a1, go_live + timedelta(hours=1)),
        *(ticket(unit, start + timedelta(hours=12)) for start in (day1, day2, day3) for unit in (a1, a2)),
        ticket(a2, day4),
    )
    tickets = by_id(await api.exit("w1", at))["tickets_per_100_users"]
    assert (tickets["value"], tickets["limit"], tickets["days"], tickets["state"]) == (1.33, 2, 3, "within")
    assert [(d["day"], d["opened"], d["per_100_users"], d["state"]) for d in tickets["daily"]] == [
        (day.date().isoformat(), 2, 1.33, "within") for day in (day1, day2, day3)
    ]
    # A day after go-live too few: two whole days of three, not assessed.
    early = by_id(await api.exit("w1", day3 + timedelta(hours=10)))["tickets_per_100_users"]
    assert (early["value"], early["state"], early["reason"]) == (
        None,
        "not_assessed",
        "Vågen har varit live 2 av 3 hela dygn",
    )
    assert [d["opened"] for d in early["daily"]] == [2, 2]
    # A third ticket at day2's first second: 3 × 100 / 150 = 2.00, the limit itself: exceeded.
    await api.store(ticket(a1, day2))
    tickets = by_id(await api.exit("w1", at))["tickets_per_100_users"]
    assert (tickets["value"], tickets["state"]) == (2, "exceeded")
    assert [(d["opened"], d["state"]) for d in tickets["daily"]] == [(2, "within"), (3, "exceeded"), (2, "within")]

    # A priority-1 ticket opened on at's day, resolved 30 minutes before at.
    p1 = new_id("P1")
    await api.store(
        ticket(a2, at - timedelta(hours=1), priority=1, ticket_id=p1),
        event("ticket.resolved", a2, at - timedelta(minutes=30), ticket_id=p1),
    )
    assert by_id(await api.exit("w1", at))["no_open_p1"]["state"] == "within"
    open_then = by_id(await api.exit("w1", at - timedelta(minutes=30, seconds=1)))["no_open_p1"]
    assert (open_then["value"], open_then["limit"], open_then["state"]) == (1, 1, "exceeded")
    # A diversion from the wave's ED ended exactly an hour before at: not running at its end, running a second before.
    diversion = new_id("D")
    await api.store(
        event(
            "ed.diversion_started",
            ed,
            at - timedelta(hours=2),
            diversion_id=diversion,
            to_unit_ids=[api.id("B1")],
            scope="ambulance",
            reason="Överbeläggning",
            decided_by="Produktionschef",
        ),
        event("ed.diversion_ended", ed, at - timedelta(hours=1), diversion_id=diversion, decided_by="Produktionschef"),
    )
    assert by_id(await api.exit("w1", at - timedelta(hours=1)))["no_active_diversion"]["state"] == "within"
    running = by_id(await api.exit("w1", at - timedelta(hours=1, seconds=1)))["no_active_diversion"]
    assert (running["value"], running["state"]) == (1, "exceeded")

    whole = await api.exit("w1", at)
    assert (whole["users"], whole["unit_count"], whole["overall"]) == (150, 3, "not_ready")
    assert [(c["id"], c["value"], c["state"]) for c in whole["criteria"]] == [
        ("tickets_per_100_users", 2, "exceeded"),
        ("no_open_p1", 0, "within"),
        ("no_active_diversion", 0, "within"),
    ]
    # Two days on, day2 has left the window (day3: 2; day4: its first-second ticket and the priority-1 one; day5:
    # none): ready for handover.
    later = await api.exit("w1", midnight(go_live, 6) + timedelta(hours=10))
    assert later["overall"] == "ready"
    assert [d["opened"] for d in by_id(later)["tickets_per_100_users"]["daily"]] == [2, 2, 0]
    # A wave not yet live is not assessed; one not in the registry is unknown.
    planned = await api.exit("w2", at)
    assert (planned["overall"], planned["users"]) == ("not_assessed", 30)
    assert {(c["state"], c["reason"]) for c in planned["criteria"]} == {("not_assessed", "Vågen har inte gått live")}
    async with api.client() as client:
        assert (await client.get("/api/v1/waves/w9/exit")).status_code == 404


@pytest.fixture
async def live(db_url: str, tmp_path: Path) -> AsyncIterator[ExitApi]:
    """Wave w1 went live ten days ago."""
    api = await make_api(db_url, tmp_path, datetime.now(UTC) - timedelta(days=10))
    try:
        yield api
    finally:
        await api.db.close()


async def test_the_handover_decision_carries_the_stamped_criteria(live: ExitApi) -> None:
    api = live
    now = datetime.now(UTC)
    yesterday_noon = midnight(now, -1) + timedelta(hours=12)
    await api.store(
        *(ticket(api.id("A1"), yesterday_noon) for _ in range(3)),  # 3 × 100 / 150 = 2: exceeded
        ticket(api.id("A2"), now - timedelta(seconds=5), priority=1),
    )
    waves = await anext_waves(api)
    assert (waves["w1"]["overall"], waves["w2"]["overall"]) == ("not_ready", "not_assessed")
    async with api.client("chief") as client:
        refused = await client.post("/api/v1/waves/w1/exit/decisions", json={"handover_decision": "handover"})
        assert refused.status_code == 422
        assert refused.json()["detail"] == (
            "rationale: the exit criteria of w1 are not all within (tickets_per_100_users (exceeded), "
            "no_open_p1 (exceeded)); a handover needs the reason it goes anyway"
        )
        assert api.producer.sent == []
        response = await client.post(
            "/api/v1/waves/w1/exit/decisions",
            json={"handover_decision": "extend", "rationale": "Ärendetrycket är fortfarande högt"},
        )
        unknown = await client.post("/api/v1/waves/w9/exit/decisions", json={"handover_decision": "extend"})
    assert unknown.status_code == 404
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["accepted"], body["rejected"]) == (1, [])
    stamp = body["exit_criteria"]
    assert (stamp["wave_id"], stamp["users"], stamp["overall"]) == ("w1", 150, "not_ready")
    assert [(c["id"], c["value"], c["state"]) for c in stamp["criteria"]] == [
        ("tickets_per_100_users", 2, "exceeded"),
        ("no_open_p1", 1, "exceeded"),
        ("no_active_diversion", 0, "within"),
    ]
    assert [d["opened"] for d in stamp["criteria"][0]["daily"]] == [0, 0, 3]
    await api.store_sent()
    async with api.client() as client:
        log = (await client.get("/api/v1/decisions", params={"unit_id": api.id("R")})).json()["items"]
    assert [(e["decision_id"], e["title"], e["decided_by"], e["handover_decision"]) for e in log] == [
        (body["decision_id"], "Våg 1 stannar i hypercare", api.names["chief"], "extend")
    ]
    assert log[0]["exit_criteria"] == stamp
    # An agent may not decide.
    async with api.client("agent") as client:
        denied = await client.post("/api/v1/waves/w1/exit/decisions", json={"handover_decision": "extend"})
    assert denied.status_code == 403


async def anext_waves(api: ExitApi) -> dict[str, dict[str, Any]]:
    async with api.client() as client:
        response = await client.get("/api/v1/waves")
    assert response.status_code == 200, response.text
    return {wave["wave_id"]: wave["exit"] for wave in response.json()["waves"]}
