"""``POST /api/v1/sources/{source}/records`` and the cursor, through the real app (the broker replaced by a
recording producer, as in the ingest API's tests); the database is PostgreSQL and SQLite."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from hypercare.contract.events import new_id
from hypercare.settings import Settings
from hypercare.sources.mapping import MappingError
from hypercare.sources.units import UnitTableError
from hypercare.storage.db import Database
from services.app import create_app
from services.auth.tokens import TokenCache, issue_token
from services.sources.schemas import SourceRecordsResponse

KEY = "a-test-pseudonym-key-of-some-length"
UPN = "karin.svensson@vgregion.se"
NAME = "Karin Svensson"
CALLER = "karin.svensson"


class RecordingProducer:
    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes | None, bytes]] = []

    async def send_all(self, messages: Sequence[tuple[str, bytes | None, bytes]]) -> None:
        self.sent.extend(messages)

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(value) for topic, _, value in self.sent if ".events." in topic]

    def quarantined(self) -> list[dict[str, Any]]:
        return [json.loads(value) for topic, _, value in self.sent if topic.endswith("quarantine")]


@dataclass
class SourcesApi:
    app: FastAPI
    db: Database
    producer: RecordingProducer
    tokens: dict[str, str]

    async def post(self, path: str, body: Any, who: str = "servicenow", **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"}
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://test", headers=headers
        ) as client:
            return await client.post(path, json=body, **kwargs)

    async def request(self, method: str, path: str, who: str = "servicenow", **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"}
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://test", headers=headers
        ) as client:
            return await client.request(method, path, **kwargs)


@pytest.fixture
async def api(db_url: str, tmp_path: Path) -> AsyncIterator[SourcesApi]:
    settings = Settings(
        database_url=db_url,
        data_dir=tmp_path,
        source_mappings="servicenow_incident, entra_signin",
        pseudonym_key=KEY,
    )
    app = create_app(settings)
    db = Database.from_url(db_url)
    app.state.db = db
    app.state.token_cache = TokenCache(ttl=30)
    app.state.producer = producer = RecordingProducer()
    tag = new_id("s")[-8:]
    tokens = {
        "servicenow": await issue_token(
            db, role="source", name=f"sn-{tag}", sources=["servicenow"], families=["tickets"]
        ),
        "entra": await issue_token(db, role="source", name=f"entra-{tag}", sources=["entra"], families=["access"]),
        "plain": await issue_token(db, role="source", name=f"plain-{tag}"),
        "admin": await issue_token(db, role="admin", name=f"admin-{tag}"),
    }
    try:
        yield SourcesApi(app=app, db=db, producer=producer, tokens=tokens)
    finally:
        await db.close()


def local(minutes_ago: float) -> str:
    """A Stockholm wall-clock time as ServiceNow's webhook writes it."""
    from zoneinfo import ZoneInfo

    return (
        (datetime.now(UTC) - timedelta(minutes=minutes_ago))
        .astimezone(ZoneInfo("Europe/Stockholm"))
        .strftime("%Y-%m-%d %H:%M:%S")
    )


def incident(number: str, state: str, **fields: Any) -> dict[str, Any]:
    return {
        "sys_id": new_id("sys"),
        "number": number,
        "short_description": "Kan inte logga in i journalen",
        "priority": "2",
        "state": state,
        "opened_at": local(20),
        "resolved_at": local(5) if state in ("6", "7") else "",
        "location": "8f1e2a3b4c5d6e7f8091a2b3c4d5e6f7",
        "cmdb_ci": "",
        "category": "software",
        "caller_id": CALLER,
        "sys_updated_by": CALLER,
        "sys_updated_on": local(5),
        "sys_mod_count": "2",
        **fields,
    }


async def test_records_are_mapped_ingested_and_the_unmappable_quarantined(api: SourcesApi) -> None:
    records = [
        incident("INC0020001", "1"),
        incident("INC0020002", "6", close_code="Solved (Work Around)"),
        incident("INC0020003", "2", location="no-such-place"),
    ]
    response = await api.post("/api/v1/sources/servicenow/records", records)
    assert response.status_code == 200, response.text
    body = response.json()
    assert SourceRecordsResponse.model_validate(body).model_dump(exclude_none=True) == body
    assert (body["records"], body["events"], body["accepted"]) == (3, 3, 3)
    [refused] = body["rejected"]
    assert refused["index"] == 2
    assert refused["reason"] == (
        "rule opened: unit_id: no unit for location 'no-such-place' in the unit table example_units.csv (shipped); "
        "rule state: unit_id: no unit for location 'no-such-place' in the unit table example_units.csv (shipped)"
    )
    events = api.producer.events()
    assert [(e["type"], e["ticket_id"]) for e in events] == [
        ("ticket.opened", "INC0020001"),
        ("ticket.opened", "INC0020002"),
        ("ticket.resolved", "INC0020002"),
    ]
    assert {e["source"] for e in events} == {"servicenow"}
    assert all(e["submitted_by"].startswith("sn-") for e in events)
    [quarantined] = api.producer.quarantined()
    assert quarantined["stage"] == "mapping" and quarantined["reason"] == refused["reason"]
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=api.app),
        base_url="http://test",
        headers={"Authorization": f"Bearer {api.tokens['admin']}"},
    ) as client:
        listing = (await client.get("/api/v1/quarantine", params={"stage": "mapping", "limit": 1})).json()
    row = listing["items"][0]
    assert row["reason"] == refused["reason"] and row["item_index"] == 2
    assert "INC0020003" in row["raw"] and CALLER not in row["raw"]  # the pseudonymised record is kept
    # Delivered again: the same event ids (the pipeline counts them once).
    again = await api.post("/api/v1/sources/servicenow/records", records[:2])
    assert [e["event_id"] for e in api.producer.events()[3:]] == [e["event_id"] for e in events]
    assert again.json()["accepted"] == 3


async def test_the_batch_says_its_time_zone_and_ndjson_lines_that_are_not_json_are_kept_withheld(
    api: SourcesApi,
) -> None:
    record = incident(
        "INC0020010", "1", opened_at=(datetime.now(UTC) - timedelta(minutes=30)).strftime("%Y-%m-%d %H:%M:%S")
    )
    lines = json.dumps(record) + '\n{"sys_id": "x", "caller_id": "' + CALLER + '"\n'
    response = await api.request(
        "POST",
        "/api/v1/sources/servicenow/records",
        params={"timezone": "UTC"},
        content=lines.encode(),
        headers={"Content-Type": "application/x-ndjson"},
    )
    body = response.json()
    assert body["accepted"] == 1 and body["rejected"][0]["index"] == 1
    assert body["rejected"][0]["reason"].startswith("record: line is not valid JSON")
    [opened] = api.producer.events()
    assert datetime.fromisoformat(opened["occurred_at"]) == datetime.fromisoformat(record["opened_at"]).replace(
        tzinfo=UTC
    )
    [kept] = api.producer.quarantined()
    assert CALLER not in kept["raw"] and "not kept" in kept["raw"]
    bad_zone = await api.post("/api/v1/sources/servicenow/records", [], params={"timezone": "Mars/Olympus"})
    assert bad_zone.status_code == 400


async def test_sign_ins_carry_no_person(api: SourcesApi) -> None:
    now = datetime.now(UTC)
    records = [
        {
            "id": new_id("signin"),
            "createdDateTime": (now - timedelta(minutes=m)).isoformat().replace("+00:00", "Z"),
            "userPrincipalName": UPN,
            "userDisplayName": NAME,
            "userId": "0b9a4c1e-7d3f-4e2a-9c8b-1f2e3d4c5b6a",
            "appDisplayName": "Millennium",
            "ipAddress": "10.41.12.30",
            "deviceDetail": {"displayName": "VGR-BOR-AKM-PC02"},
            "status": {"errorCode": code, "failureReason": "Invalid username or password."},
        }
        for m, code in ((3, 50126), (2, 0), (1, 50053))
    ]
    records.append({**records[0], "id": new_id("signin"), "ipAddress": "172.16.0.1", "deviceDetail": {}})
    response = await api.post("/api/v1/sources/entra/records", records, who="entra")
    body = response.json()
    assert (body["accepted"], len(body["rejected"])) == (3, 1)
    events = api.producer.events()
    assert [(e["outcome"], e.get("reason")) for e in events] == [
        ("failure", "wrong_password"),
        ("success", None),
        ("failure", "account_locked"),
    ]
    assert len({e["user_ref"] for e in events}) == 1
    everything = json.dumps([body, [v.decode() for _, _, v in api.producer.sent]])
    assert UPN not in everything and NAME not in everything and "0b9a4c1e" not in everything


async def test_who_may_post_and_unknown_sources(api: SourcesApi) -> None:
    wrong = await api.post("/api/v1/sources/servicenow/records", [incident("INC1", "1")], who="entra")
    assert wrong.status_code == 403
    assert wrong.json()["detail"] == "this token may post the records of entra, not 'servicenow'"
    plain = await api.post("/api/v1/sources/servicenow/records", [], who="plain")
    assert plain.status_code == 403 and "--sources servicenow" in plain.json()["detail"]
    unknown = await api.post("/api/v1/sources/lab/records", [], who="admin")
    assert unknown.status_code == 404
    assert unknown.json()["detail"] == "no mapping for the source 'lab' (configured: entra, servicenow)"
    # The token's families still hold: a ServiceNow token issued for tickets may not slip in sign-ins.
    assert (await api.post("/api/v1/sources/entra/records", [], who="admin")).status_code == 200


async def test_the_cursor_is_saved_over_the_version_read(api: SourcesApi) -> None:
    path = "/api/v1/sources/servicenow/cursor"
    first = (await api.request("GET", path)).json()
    assert first["version"] == 0 and first["cursor"] is None
    saved = await api.request("PUT", path, json={"cursor": {"updated_on": "2026-02-18 07:45:00"}, "version": 0})
    assert saved.status_code == 200 and saved.json()["version"] == 1
    stale = await api.request("PUT", path, json={"cursor": {"updated_on": "x"}, "version": 0})
    assert stale.status_code == 409 and "version 1" in stale.json()["detail"]
    read = (await api.request("GET", path)).json()
    assert read["cursor"] == {"updated_on": "2026-02-18 07:45:00"} and read["updated_by"].startswith("sn-")
    assert (await api.request("PUT", path, json={"cursor": {"n": 2}, "version": 1})).json()["version"] == 2
    assert (await api.request("GET", path, who="entra")).status_code == 403


def test_pseudonymised_fields_without_a_key_refuse_the_start(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="HYPERCARE_PSEUDONYM_KEY is not set"):
        create_app(Settings(data_dir=tmp_path, source_mappings="entra_signin"))
    with pytest.raises(MappingError, match="at least 16"):
        create_app(Settings(data_dir=tmp_path, source_mappings="entra_signin", pseudonym_key="short"))
    bad_units = tmp_path / "units.csv"
    bad_units.write_text("kind,key,unit_id\nlocation,Avd 1,SE2321000131-ENOSUCHUNIT\n", encoding="utf-8")
    with pytest.raises(UnitTableError, match=r"units.csv:2: unit 'SE2321000131-ENOSUCHUNIT' is not a unit"):
        create_app(Settings(data_dir=tmp_path, source_mappings="servicenow_incident", source_units_file=bad_units))
