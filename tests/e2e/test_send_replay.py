"""``hypercare send``, ``export`` and ``replay`` as a user runs them (subprocesses), against the real product.

A simulated go-live day exported from one system and replayed at full speed into a fresh one (its own PostgreSQL
database and topics) gives the same daily report, a day later; replayed again with the same shift, it counts once.
(The 100,000-line send through a kill and a 503 period is in the fault suite: tests/faults/test_send_resume.py.)
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cli_runs import cli, counter_sum, exited
from fault_oracle import EDS, RECEIVING_ED, WARDS
from hc_testkit import running
from pg_databases import fresh_pg_database
from report_day import fresh_day, simulate_day

from hypercare.org.registry import load_org
from hypercare.settings import Settings
from hypercare.storage.db import Database
from services.auth.tokens import issue_token

pytestmark = pytest.mark.slow
EVENTS = 100_000
BATCH = 1000
DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


def _day_units() -> dict[str, str]:
    org = load_org(None)
    return {unit: org.place(unit).administration_id for unit in [*WARDS, *EDS]}


async def stored_count(database_url: str) -> int:
    db = Database.from_url(database_url)
    try:
        async with db.engine.connect() as connection:
            return int((await connection.exec_driver_sql("SELECT count(*) FROM events")).scalar_one())
    finally:
        await db.close()


def report_figures(content: dict[str, Any]) -> dict[str, Any]:
    """The report's numbers: the overview's figures, every table's rows and totals, the trend series."""
    figures: dict[str, Any] = {}
    for section in content["sections"]:
        for item in section.get("figures", []):
            figures[f"{section['key']}.{item['key']}"] = item["value"]
        for table in section.get("tables", []):
            figures[f"{section['key']}.{table['key']}"] = (table["rows"], table["total"])
        for chart in section.get("charts", []):
            figures[f"{section['key']}.{chart['key']}"] = [series["values"] for series in chart["series"]]
    return figures


@pytest.fixture
def recorded_url() -> Iterator[str]:
    """The recorded system's own database: its export holds the simulated day and nothing else."""
    with fresh_pg_database("hc_rec") as url:
        yield url


@pytest.fixture
def replay_url() -> Iterator[str]:
    """The fresh system's database."""
    with fresh_pg_database("hc_rep") as url:
        yield url


def moved_back(value: Any, shift: timedelta) -> Any:
    """``value`` with every ISO time in it moved back by ``shift`` (the replayed report's times of rows)."""
    if isinstance(value, dict):
        return {key: moved_back(item, shift) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(moved_back(item, shift) for item in value)
    if isinstance(value, str) and len(value) >= 19 and value[10] == "T":
        try:
            return (datetime.fromisoformat(value) - shift).isoformat()
        except ValueError:
            return value
    if isinstance(value, str):  # a date in a sentence ("löst 1999-12-30 03:58"), shifted by whole days
        return DATE.sub(lambda match: (date.fromisoformat(match.group()) - shift).isoformat(), value)
    return value


async def test_a_replayed_day_gives_the_same_report_in_a_fresh_system(
    settings_factory: Callable[..., Settings], tmp_path: Path, recorded_url: str, replay_url: str
) -> None:
    for name in ("recorded", "replayed"):
        (tmp_path / name).mkdir()
    recorded_settings = settings_factory(database_url=recorded_url, data_dir=tmp_path / "recorded")
    async with running(recorded_settings, tmp_path / "recorded") as recorded:
        sim = simulate_day(
            fresh_day(),
            admin_of=_day_units(),
            eds=EDS,
            receiving_ed=RECEIVING_ED,
            region_id=load_org(None).region.id,
            chief=recorded.names["chief"],
        )
        response = await recorded.post_events(sim.events, role="chief")
        assert response.status_code == 200 and response.json()["rejected"] == [], response.text
        await until_stored(recorded_url, len(sim.events))
        day = sim.day.isoformat()
        original = (await recorded.get(f"/api/v1/reports/daily?date={day}", role="viewer")).json()["content"]
        export = tmp_path / "day.ndjson"
        # The day, the evening before it (tickets still open at midnight) and its tidying up the day after.
        since, to = (sim.start - timedelta(days=1)).isoformat(), (sim.end + timedelta(days=2)).isoformat()
        done = cli(recorded, "export", "--from", since, "--to", to, "--out", str(export), log=tmp_path / "export")
        assert await exited(done, 60) == 0, (tmp_path / "export.err").read_text()
    exported = [json.loads(line) for line in export.read_text().splitlines()]
    assert len(exported) == len(sim.events)
    times = [event["occurred_at"] for event in exported]
    assert times == sorted(times, key=lambda value: value)  # in event time (all written in UTC)
    assert all(event["submitted_by"] == recorded.names["chief"] for event in exported)

    fresh_settings = settings_factory(database_url=replay_url, data_dir=tmp_path / "replayed")
    async with running(fresh_settings, tmp_path / "replayed") as fresh:
        # The day's decisions were recorded by the recorded system's chief: replayed by a token of that name.
        db = Database.from_url(replay_url)
        try:
            token = await issue_token(db, role="chief", name=recorded.names["chief"])
        finally:
            await db.close()
        (tmp_path / "chief-token").write_text(token)
        first = min(event["occurred_at"] for event in exported)
        shift_to = (datetime.fromisoformat(first) + timedelta(days=1)).isoformat()
        args = ("replay", str(export), "--speed", "max", "--shift-to", shift_to, "--url", fresh.base_url)
        replay = cli(fresh, *args, "--token-file", str(tmp_path / "chief-token"), log=tmp_path / "replay")
        assert await exited(replay, 120) == 0, (tmp_path / "replay.err").read_text()
        out = (tmp_path / "replay.out").read_text()
        assert out.splitlines()[0] == f"{export}: {len(exported)} sent, {len(exported)} accepted, 0 rejected"
        await until_stored(replay_url, len(exported))
        # The same file with the same shift again: the same derived ids, so every event is a duplicate.
        again = cli(fresh, *args, "--token-file", str(tmp_path / "chief-token"), "--state", str(tmp_path / "s2"),
                    log=tmp_path / "replay-again")  # fmt: skip
        assert await exited(again, 120) == 0, (tmp_path / "replay-again.err").read_text()
        deadline = time.monotonic() + 60
        while await counter_sum(fresh.worker_url, "hypercare_stream_records_total", outcome="duplicate") < len(
            exported
        ):
            assert time.monotonic() < deadline, "the second replay's events were not all seen as duplicates"
            await asyncio.sleep(0.2)
        assert await stored_count(replay_url) == len(exported)
        next_day = (sim.day + timedelta(days=1)).isoformat()
        replayed = (await fresh.get(f"/api/v1/reports/daily?date={next_day}", role="viewer")).json()["content"]
    # Every figure the same; the times of the rows (decisions, patient-safety tickets…) a day later.
    assert moved_back(report_figures(replayed), timedelta(days=1)) == report_figures(original)


async def until_stored(database_url: str, count: int, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    stored = 0
    while time.monotonic() < deadline:
        stored = await stored_count(database_url)
        if stored >= count:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"{stored} of {count} events stored after {timeout:g} s")
