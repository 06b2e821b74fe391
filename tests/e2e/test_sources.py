"""Source systems end to end: a ServiceNow-shaped Table API polled by ``hypercare connector run tickets`` (a
subprocess, killed in the middle of a poll and started again) and Graph sign-ins tailed by ``hypercare connector
run signins``, through the real API, broker and worker: the unit figures are exactly the recorded incidents'
and sign-ins', the unmappable incident is quarantined once with its reason, and no user name is anywhere."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import servicenow_fake
from aiokafka import AIOKafkaConsumer, TopicPartition
from hc_testkit import REPO, Pipeline, running
from pg_databases import fresh_pg_database
from servicenow_fake import FakeServiceNow, recorded_incidents, stamp
from sqlalchemy import text

from hypercare.contract.events import new_id
from hypercare.settings import Settings
from hypercare.storage.db import Database
from hypercare.storage.quarantine import list_quarantined
from services.auth.tokens import issue_token

pytestmark = pytest.mark.slow

KEY = "e2e-pseudonym-key-0123456789abcdefghij"
AKM = "SE2321000131-ESASBORAKM"
AVD210 = "SE2321000131-ESASBOR210"
SKENE = "SE2321000131-ESASSKEAKM"
CONNECTOR_SECONDS = 60.0


@pytest.fixture(scope="module")
def own_database() -> Iterator[str]:
    """A database of this module's own: a source's cursor is the deployment's one (per source name), so other
    tests' cursors of the same sources must not be where these connectors start."""
    with fresh_pg_database("hc_sources") as url:
        yield url


@pytest.fixture
async def pipeline(
    settings_factory: Callable[..., Settings], tmp_path: Path, own_database: str
) -> AsyncIterator[Pipeline]:
    settings = settings_factory(
        source_mappings="servicenow_incident,entra_signin", pseudonym_key=KEY, database_url=own_database
    )
    async with running(settings, tmp_path) as started:
        yield started


async def source_token(pipeline: Pipeline, source: str, family: str) -> tuple[Path, str]:
    """A token file for the connector (issued for ``source`` and ``family``) and the token's name."""
    name = f"{source}-{new_id('c')[-8:]}"
    db = Database.from_url(pipeline.settings.effective_database_url)
    try:
        token = await issue_token(db, role="source", name=name, sources=[source], families=[family])
    finally:
        await db.close()
    path = pipeline.log_dir / f"{source}.token"
    path.write_text(token, encoding="utf-8")
    return path, name


def connector(pipeline: Pipeline, *args: str, env: dict[str, str], log: str) -> subprocess.Popen[bytes]:
    handle = (pipeline.log_dir / f"{log}.log").open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "hypercare.entrypoints.cli", "connector", "run", *args],
        env={**pipeline.env, **env},
        cwd=REPO,
        stdout=handle,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )


async def finish(process: subprocess.Popen[bytes], pipeline: Pipeline, log: str) -> None:
    """Until the connector exits (waiting in the event loop, which serves the fake ServiceNow); exit status 0."""
    deadline = time.monotonic() + CONNECTOR_SECONDS
    while process.poll() is None:
        if time.monotonic() > deadline:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise AssertionError(f"the connector did not finish:\n{pipeline.log(log)}")
        await asyncio.sleep(0.1)
    assert process.returncode == 0, pipeline.log(log)


def tickets(unit: dict[str, Any]) -> tuple[int, int, int]:
    figures = unit["tickets"]
    return figures["opened_1h"], figures["resolved_1h"], figures["open"]


async def wait_tickets(pipeline: Pipeline, expected: dict[str, tuple[int, int, int]]) -> dict[str, Any]:
    """Until every unit's (opened 1 h, resolved 1 h, open) is as expected; then the situation's units."""

    def matches(situation: dict[str, Any]) -> bool:
        units = all_units(situation)
        return all(unit in units and tickets(units[unit]) == figures for unit, figures in expected.items())

    return all_units(await pipeline.wait_for("/api/v1/situation", matches, timeout=90))


def all_units(situation: dict[str, Any]) -> dict[str, Any]:
    return {
        unit["unit_id"]: unit
        for administration in situation["administrations"]
        for site in administration["sites"]
        for unit in site["units"]
    }


async def test_servicenow_incidents_killed_mid_poll_and_delivered_twice_count_once(pipeline: Pipeline) -> None:
    token_file, token_name = await source_token(pipeline, "servicenow", "tickets")
    fake = FakeServiceNow(recorded_incidents())
    async with servicenow_fake.serving(fake) as url:
        env = {
            "HYPERCARE_SERVICENOW_URL": url,
            "HYPERCARE_SERVICENOW_USER": servicenow_fake.USER,
            "HYPERCARE_SERVICENOW_PASSWORD": servicenow_fake.PASSWORD,
            "HYPERCARE_CONNECTOR_BATCH_SIZE": "3",
            "HYPERCARE_CONNECTOR_POLL_SECONDS": "1",
        }
        since = ("--since", stamp(datetime.now(UTC) - timedelta(hours=2)), "--token-file", str(token_file))
        # 1. Polling on; the second page's request hangs and the connector is killed there (page one, with the
        # unmappable incident, was acknowledged and its cursor saved).
        fake.hold = 2
        first = connector(pipeline, "tickets", *since, env=env, log="tickets-1")
        deadline = time.monotonic() + CONNECTOR_SECONDS
        while fake.table_requests < 2:
            assert first.poll() is None, pipeline.log("tickets-1")
            assert time.monotonic() < deadline, pipeline.log("tickets-1")
            await asyncio.sleep(0.05)
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
        fake.release()
        cursor = (await pipeline.get("/api/v1/sources/servicenow/cursor")).json()
        assert cursor["version"] == 1 and len(cursor["cursor"]["seen"]) == 1
        # 2. Started again: resumes from the cursor and stops when caught up.
        await finish(connector(pipeline, "tickets", "--once", *since, env=env, log="tickets-2"), pipeline, "tickets-2")
        assert all(q["sysparm_query"].startswith("sys_updated_on>=") for q in fake.queries)
        expected = {AKM: (5, 2, 3), AVD210: (3, 0, 3), SKENE: (3, 2, 1)}
        units = await wait_tickets(pipeline, expected)
        assert units[AKM]["tickets"]["open_by_priority"] == {"1": 1, "2": 1, "3": 1, "4": 0}
        assert units[AVD210]["tickets"]["open_by_priority"] == {"1": 1, "2": 1, "3": 1, "4": 0}
        db = Database.from_url(pipeline.settings.effective_database_url)
        try:
            rows = await list_quarantined(db, stage="mapping", limit=1000)
        finally:
            await db.close()
        [quarantined] = [row for row in rows if row["submitted_by"] == token_name]
        assert quarantined["reason"] == (
            "rule opened: unit_id: no unit for location 'ffffffffffffffffffffffffffffffff' in the unit table "
            "example_units.csv (shipped)"
        )
        assert "anna.lindqvist" not in quarantined["raw"] and "ringde" not in quarantined["raw"]
        # 3. Records move on (one resolved, one back in progress); the connector, now with OAuth, sends the news.
        now = stamp(datetime.now(UTC) - timedelta(seconds=30))
        fake.update("INC0010001", state="6", resolved_at=now, sys_updated_on=now, close_code="Solved (Permanently)")
        fake.update("INC0010003", state="2", sys_updated_on=now)
        oauth = {
            **{k: v for k, v in env.items() if "USER" not in k and "PASSWORD" not in k},
            "HYPERCARE_SERVICENOW_CLIENT_ID": servicenow_fake.CLIENT_ID,
            "HYPERCARE_SERVICENOW_CLIENT_SECRET": servicenow_fake.CLIENT_SECRET,
        }
        await finish(
            connector(pipeline, "tickets", "--once", *since, env=oauth, log="tickets-3"), pipeline, "tickets-3"
        )
        expected = {AKM: (5, 3, 2), AVD210: (3, 0, 3), SKENE: (3, 2, 1)}
        await wait_tickets(pipeline, expected)
        # 4. Everything delivered again from the start, and one new incident per unit after it (last in each
        # unit's partition): only the new ones count.
        version = (await pipeline.get("/api/v1/sources/servicenow/cursor")).json()["version"]
        async with pipeline.client("admin") as client:
            reset = await client.put(
                "/api/v1/sources/servicenow/cursor",
                json={"cursor": {"since": "2000-01-01 00:00:00"}, "version": version},
            )
        assert reset.status_code == 200
        newest = stamp(datetime.now(UTC))
        for number, (location, ci) in (
            ("INC0010101", ("8f1e2a3b4c5d6e7f8091a2b3c4d5e6f7", "")),
            ("INC0010102", ("", "PRN-BOR-210-01")),
            ("INC0010103", ("1c4d5e6f708192a3b4c5d6e7f8091a2b", "")),
        ):
            fake.records.append(
                {
                    **fake.records[0],
                    "sys_id": new_id("sys"),
                    "number": number,
                    "state": "1",
                    "location": location,
                    "cmdb_ci": ci,
                    "opened_at": newest,
                    "sys_updated_on": newest,
                    "resolved_at": "",
                }
            )
        await finish(connector(pipeline, "tickets", "--once", *since, env=env, log="tickets-4"), pipeline, "tickets-4")
        await wait_tickets(pipeline, {AKM: (6, 3, 3), AVD210: (4, 0, 4), SKENE: (4, 2, 2)})
        await asyncio.sleep(2)  # and they stay so
        await wait_tickets(pipeline, {AKM: (6, 3, 3), AVD210: (4, 0, 4), SKENE: (4, 2, 2)})
    assert servicenow_fake.PASSWORD not in "".join(
        pipeline.log(name) for name in ("tickets-1", "tickets-2", "tickets-4")
    )
    assert servicenow_fake.CLIENT_SECRET not in pipeline.log("tickets-3")


def signin(tag: str, person: int, minutes_ago: float, code: int, **fields: Any) -> dict[str, Any]:
    at = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    return {
        "id": new_id("signin"),
        "createdDateTime": at.strftime("%Y-%m-%dT%H:%M:%S.%f") + "2Z",
        "userPrincipalName": f"person{person}.{tag}@vgregion.se",
        "userId": f"{person:08d}-0000-4000-8000-{tag[-12:]}",
        "userDisplayName": f"Personen{person} Efternamn{tag}",
        "appId": "a0b1c2d3-0000-0000-0000-000000000001",
        "appDisplayName": "Millennium",
        "clientAppUsed": "Browser",
        "ipAddress": "10.41.12.40",
        "location": {"city": "Borås", "state": "Västra Götaland", "countryOrRegion": "SE"},
        "deviceDetail": {"deviceId": "", "displayName": "VGR-BOR-AKM-PC01", "operatingSystem": "Windows10"},
        "status": {"errorCode": code, "failureReason": "Other." if code else None, "additionalDetails": None},
        **fields,
    }


async def every_topic_record(settings: Settings) -> bytes:
    """Every record of this pipeline's topics (its prefix) and its worker's changelogs, keys and values."""
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.bootstrap, fetch_max_wait_ms=50)
    await consumer.start()
    found: list[bytes] = []
    try:
        names = [t for t in await consumer.topics() if t.startswith(settings.topic_prefix) or settings.worker_id in t]
        assert names
        partitions = [TopicPartition(t, p) for t in names for p in sorted(consumer.partitions_for_topic(t) or {0})]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=200)).values():
                found.extend((r.key or b"") + b" " + (r.value or b"") for r in records)
            if all([await consumer.position(p) >= ends[p] for p in partitions]):
                break
    finally:
        await consumer.stop()
    return b"\n".join(found)


async def test_sign_ins_give_the_login_figures_and_no_name_is_kept_anywhere(pipeline: Pipeline, tmp_path: Path) -> None:
    tag = new_id("t")[-12:]
    token_file, token_name = await source_token(pipeline, "entra", "access")
    exports = tmp_path / "signins"
    exports.mkdir()
    first = [signin(tag, n, 5, 0) for n in range(6)] + [
        signin(tag, 6, 4, 50126),
        signin(tag, 7, 4, 50126),
        signin(tag, 8, 3, 50053),
        signin(tag, 9, 3, 50074, ipAddress="10.41.21.9", deviceDetail={"displayName": "LAPTOP-PRIVAT"}),
    ]
    (exports / "PT1H-00.json").write_text("".join(json.dumps(r) + "\n" for r in first), encoding="utf-8")
    env = {"HYPERCARE_CONNECTOR_BATCH_SIZE": "4", "HYPERCARE_CONNECTOR_POLL_SECONDS": "0.5"}
    args = ("signins", "--path", str(exports), "--token-file", str(token_file))
    tail = connector(pipeline, *args, env=env, log="signins")
    try:
        await pipeline.wait_for(f"/api/v1/units/{AKM}", lambda u: u["access"]["logins_15m"] == 9, timeout=90)
        # The export grows: a second file, a line written in two parts, a line that is not JSON, an unplaceable one.
        later = [signin(tag, 10, 1, 0), signin(tag, 11, 1, 50126)]
        nowhere = signin(tag, 12, 1, 0, ipAddress="192.168.7.7", deviceDetail={}, appDisplayName="Outlook")
        second = exports / "PT1H-01.json"
        lines = json.dumps(later[0]) + "\n" + json.dumps(later[1])
        second.write_text(lines[:-40], encoding="utf-8")
        await asyncio.sleep(1.5)
        with second.open("a", encoding="utf-8") as handle:
            handle.write(lines[-40:] + "\n" + '{"userPrincipalName": "person13.' + tag + '@vgregion.se", broken\n')
            handle.write(json.dumps(nowhere) + "\n")
        unit = await pipeline.wait_for(f"/api/v1/units/{AKM}", lambda u: u["access"]["logins_15m"] == 11, timeout=90)
    finally:
        os.killpg(tail.pid, signal.SIGKILL)
        tail.wait()
    access = unit["access"]
    assert (access["logins_15m"], access["login_failures_15m"], access["locked_accounts_1h"]) == (11, 4, 1)
    assert access["distinct_users_failing_15m"] == 4
    ward = await pipeline.get(f"/api/v1/units/{AVD210}")
    assert ward.json()["access"]["login_failures_15m"] == 1  # placed by its network (10.41.21.0/24)
    cursor = (await pipeline.get("/api/v1/sources/entra/cursor")).json()["cursor"]
    assert cursor["files"] == {
        "PT1H-00.json": (exports / "PT1H-00.json").stat().st_size,
        "PT1H-01.json": second.stat().st_size,
    }
    # Nothing of a person, anywhere: every table, every topic, every log.
    people = [f"person{n}.{tag}".encode() for n in range(14)] + [f"Efternamn{tag}".encode(), tag[-12:].encode()]
    db = Database.from_url(pipeline.settings.effective_database_url)
    try:
        async with db.engine.connect() as connection:
            tables = (
                (await connection.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")))
                .scalars()
                .all()
            )
            dump = b"\n".join(
                [str((await connection.execute(text(f'SELECT * FROM "{table}"'))).all()).encode() for table in tables]
            )
            quarantined = (
                await connection.execute(
                    text("SELECT reason, raw FROM quarantine WHERE stage = 'mapping' AND submitted_by = :name"),
                    {"name": token_name},
                )
            ).all()
    finally:
        await db.close()
    assert len(tables) >= 10
    topics = await every_topic_record(pipeline.settings)
    logs = b"".join(
        (pipeline.log_dir / name).read_bytes() for name in os.listdir(pipeline.log_dir) if name.endswith(".log")
    )
    for where, content in (("the database", dump), ("the topics", topics), ("the logs", logs)):
        found = [person.decode() for person in people if person in content]
        assert not found, f"{found} in {where}"
    assert b"ps-" in topics  # the pseudonyms are what travels
    [(broken, withheld), (unplaced, _)] = sorted(quarantined)
    assert broken.startswith("record: line is not valid JSON: Expecting property name enclosed in double quotes")
    assert withheld.startswith("[record of ") and "not kept" in withheld
    assert unplaced == (
        "unit_id: no unit for cidr '192.168.7.7' or app 'Outlook' in the unit table example_units.csv (shipped)"
    )
