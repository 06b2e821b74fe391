"""``hypercare send`` and a short ``hypercare replay --speed 10x`` against the real API (served in this process,
on the session broker and PostgreSQL): 429 with Retry-After waited out, per-item rejections and unreadable lines
reported by line, a refused token stopping the run, a resumed send posting only what was not acknowledged."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hc_testkit import REPO
from live_api import serving_in_thread

from hypercare.contract.events import new_id
from hypercare.entrypoints.transfer.commands import SendArguments, replay_command, send_command
from hypercare.entrypoints.transfer.replay import derive_event_id
from hypercare.entrypoints.transfer.state import load
from hypercare.observability import metrics
from hypercare.settings import Settings
from hypercare.storage.db import Database
from services.auth.tokens import issue_token

UNITS = ["SE2321000131-ESASBOR210", "SE2321000131-ESASBOR220", "SE2321000131-ENHBORCEN"]


@pytest.fixture
def api(settings_factory: Callable[..., Settings], tmp_path: Path) -> Iterator[tuple[Settings, str, Path]]:
    """Settings, the URL of a live API allowing three ingest requests a second, and an admin token's file."""
    settings = settings_factory(rate_limit_ingest="3/second")

    async def issue() -> str:
        db = Database.from_url(settings.effective_database_url)
        try:
            return await issue_token(db, role="admin", name=new_id("send-admin"))
        finally:
            await db.close()

    token_file = tmp_path / "token"
    token_file.write_text(asyncio.run(issue()) + "\n")
    with serving_in_thread(settings, name="send-api") as url:
        yield settings, url, token_file


def logins(count: int, *, tag: str | None = None, start: datetime | None = None, step: float = 1.0) -> list[str]:
    tag = tag or new_id("s")[2:12]
    start = start or datetime.now(UTC) - timedelta(minutes=10)
    return [
        json.dumps(
            {
                "event_id": f"{tag}-{i}",
                "type": "access.login",
                "occurred_at": (start + timedelta(seconds=i * step)).isoformat(),
                "unit_id": UNITS[i % len(UNITS)],
                "user_ref": f"u{i}",
                "outcome": "success",
            }
        )
        for i in range(count)
    ]


def arguments(source: Path, url: str, token_file: Path, **overrides: Any) -> SendArguments:
    values: dict[str, Any] = {
        "source": str(source),
        "url": url,
        "token_file": token_file,
        "fmt": None,
        "state": None,
        "batch_size": 4,
        "give_up_after": 60.0,
    }
    values.update(overrides)
    return SendArguments(**values)


def accepted_logins() -> float:
    return metrics.EVENTS_INGESTED.labels(type="access.login", outcome="accepted")._value.get()


def test_a_rate_limited_send_waits_out_429_and_every_event_is_accepted(
    api: tuple[Settings, str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings, url, token_file = api
    source = tmp_path / "logins.ndjson"
    source.write_text("\n".join(logins(40)) + "\n")
    before = accepted_logins()
    started = time.monotonic()
    assert send_command(settings, arguments(source, url, token_file)) == 0
    elapsed = time.monotonic() - started
    captured = capsys.readouterr()
    assert "HTTP 429: rate limit of 3 per 1 second for ingest exceeded" in captured.err
    assert "retrying in" in captured.err
    assert captured.out.splitlines()[0] == f"{source}: 40 sent, 40 accepted, 0 rejected"
    assert accepted_logins() - before == 40  # ten batches, each posted once: a 429 produced nothing
    assert elapsed >= 2.0  # ten requests at three a second
    progress = load(source.with_name("logins.ndjson.hcsend"))
    assert progress is not None and progress.offset == source.stat().st_size and progress.line == 40
    # Sent again: nothing left to send.
    assert send_command(settings, arguments(source, url, token_file)) == 0
    assert accepted_logins() - before == 40
    assert "going on after line 40" in capsys.readouterr().err


def test_rejected_and_unreadable_lines_are_reported_by_line(
    api: tuple[Settings, str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings, url, token_file = api
    tag = new_id("c")[2:12]
    when = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    rows = [
        "event_id,type,occurred_at,unit_id,ticket_id,channel,category,priority,patient_safety",
        f"{tag}-1,ticket.opened,{when},{UNITS[0]},T1,phone,login,2,nej",
        f"{tag}-2,ticket.opened,{when},NO-SUCH-UNIT,T2,phone,login,2,nej",
        f"{tag}-3,ticket.opened,{when},{UNITS[1]},T3,phone,login,two,nej",
        f"{tag}-4,ticket.opened,{when},{UNITS[1]},T4,phone,login,1,ja,surplus",
        f'{tag}-5,ticket.opened,{when},{UNITS[2]},"T5\nwith a line break",phone,login,3,nej',
        f"{tag}-6,ticket.opened,{when},OTHER-UNIT,T6,phone,login,2,nej",
    ]
    source = tmp_path / "tickets.csv"
    source.write_text("\n".join(rows) + "\n")
    assert send_command(settings, arguments(source, url, token_file)) == 1
    out = capsys.readouterr().out
    assert out.splitlines()[0] == f"{source}: 5 sent, 2 accepted, 3 rejected, 1 unreadable"
    assert "       2  unit_id: … is not in the org registry" in out
    assert f"{source}:3: unit_id: 'NO-SUCH-UNIT' is not in the org registry" in out
    assert f"{source}:4: priority: Input should be a valid integer" in out
    assert f"{source}:5: 10 cells, but the header names 9 columns" in out
    assert f"{source}:8: unit_id: 'OTHER-UNIT' is not in the org registry" in out  # the row of lines 6-7 was 6


def test_a_refused_token_stops_the_run_and_nothing_counts_as_acknowledged(
    api: tuple[Settings, str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings, url, _ = api
    source = tmp_path / "logins.ndjson"
    source.write_text("\n".join(logins(3)) + "\n")
    bad = tmp_path / "bad-token"
    bad.write_text("hc_not-a-token\n")
    assert send_command(settings, arguments(source, url, bad)) == 3
    err = capsys.readouterr().err
    assert "stopped: lines 1–3: the API answered HTTP 401" in err
    assert "hc_not-a-token" not in err
    assert load(source.with_name("logins.ndjson.hcsend")) is None
    assert send_command(settings, arguments(source, url, tmp_path / "missing")) == 2


def test_a_resumed_send_posts_only_what_was_not_acknowledged(
    api: tuple[Settings, str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings, url, token_file = api
    lines = logins(15)
    source = tmp_path / "growing.ndjson"
    source.write_text("\n".join(lines[:10]) + "\nnot json\n")
    before = accepted_logins()
    assert send_command(settings, arguments(source, url, token_file, batch_size=100)) == 1
    with source.open("a") as out:
        out.write("\n".join(lines[10:]) + "\n")
    assert send_command(settings, arguments(source, url, token_file, batch_size=100)) == 1
    captured = capsys.readouterr()
    assert "going on after line 11" in captured.err
    assert f"{source}: 15 sent, 15 accepted, 0 rejected, 1 unreadable (resumed after line 11)" in captured.out
    assert accepted_logins() - before == 15
    # Another file under the same progress file is refused before anything is sent.
    source.write_text("\n".join(logins(16)) + "\n")
    assert send_command(settings, arguments(source, url, token_file)) == 2
    assert "the input does not match the progress file" in capsys.readouterr().err
    assert accepted_logins() - before == 15


def test_a_replay_at_ten_times_keeps_the_pace_and_derives_its_ids(
    api: tuple[Settings, str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings, url, token_file = api
    recorded = [json.loads(line) for line in logins(6, start=datetime.now(UTC) - timedelta(days=1), step=4.0)]
    source = tmp_path / "day.ndjson"
    source.write_text("".join(json.dumps({**e, "submitted_by": "src", "received_at": e["occurred_at"]}) + "\n"
                              for e in recorded))  # fmt: skip
    before = accepted_logins()
    target = datetime.now(UTC).replace(microsecond=0)
    started = time.monotonic()
    code = replay_command(settings, arguments(source, url, token_file), speed="10x", shift_to=target.isoformat())
    elapsed = time.monotonic() - started
    captured = capsys.readouterr()
    assert code == 0, captured
    assert accepted_logins() - before == 6
    assert 1.9 <= elapsed < 6.0  # 20 s of recorded time at ten times
    progress = load(source.with_name("day.ndjson.hcreplay"))
    assert progress is not None and progress.meta["shift_to"] == target.isoformat()
    shift = target - datetime.fromisoformat(recorded[0]["occurred_at"])
    assert derive_event_id(recorded[0]["event_id"], shift).startswith("rp-")
    # At max speed with the day landing now, events would be hours ahead of the clock: refused before sending.
    assert replay_command(settings, arguments(tmp_path / "day.ndjson", url, token_file, state=tmp_path / "s2"),
                          speed="max", shift_to=(target + timedelta(hours=1)).isoformat()) == 2  # fmt: skip
    assert "the API refuses events more than 5 min in the future" in capsys.readouterr().err


def test_standard_input_with_the_token_from_the_environment(api: tuple[Settings, str, Path], tmp_path: Path) -> None:
    _, url, token_file = api
    token = token_file.read_text().strip()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYPERCARE_")} | {"HYPERCARE_TOKEN": token}
    data = ("\n".join(logins(7)) + "\n").encode()
    state = tmp_path / "stdin.hcsend"
    command = [sys.executable, "-m", "hypercare.entrypoints.cli", "send", "-", "--url", url, "--state", str(state)]
    done = subprocess.run(command, input=data, capture_output=True, env=env, cwd=REPO, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().splitlines() == ["-: 7 sent, 7 accepted, 0 rejected"]
    assert token not in (done.stdout + done.stderr).decode()
    # Without a token anywhere: refused before reading.
    env.pop("HYPERCARE_TOKEN")
    refused = subprocess.run(command, input=data, capture_output=True, env=env, cwd=REPO, timeout=60, check=False)
    assert refused.returncode == 2
    assert "no API token: set HYPERCARE_TOKEN or give --token-file FILE" in refused.stderr.decode()


def test_a_servicenow_csv_export_goes_through_its_source_mapping(
    settings_factory: Callable[..., Settings], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--source servicenow``: each CSV row goes raw to the source's mapping (dotted columns nest, times without
    an offset read in ``--timezone``); an incident the mapping cannot place is reported by line with its reason."""
    settings = settings_factory(source_mappings="servicenow_incident", pseudonym_key="a-key-long-enough-for-tests")

    async def issue() -> str:
        db = Database.from_url(settings.effective_database_url)
        try:
            return await issue_token(
                db, role="source", name=new_id("sn-send"), sources=["servicenow"], families=["tickets"]
            )
        finally:
            await db.close()

    token_file = tmp_path / "token"
    token_file.write_text(asyncio.run(issue()) + "\n")
    utc = (datetime.now(UTC) - timedelta(minutes=30)).strftime("%Y-%m-%d %H:%M:%S")
    later = (datetime.now(UTC) - timedelta(minutes=10)).strftime("%Y-%m-%d %H:%M:%S")
    tag = new_id("INC")[4:14]
    rows = [
        "sys_id,number,state,priority,category,opened_at,resolved_at,sys_updated_on,sys_mod_count,location.value",
        f"{tag}a,INC{tag}1,1,2,software,{utc},,{utc},0,8f1e2a3b4c5d6e7f8091a2b3c4d5e6f7",
        f"{tag}b,INC{tag}2,6,3,hardware,{utc},{later},{later},3,8f1e2a3b4c5d6e7f8091a2b3c4d5e6f7",
        f"{tag}c,INC{tag}3,2,2,software,{utc},,{later},1,nowhere",
    ]
    source = tmp_path / "incidents.csv"
    source.write_text("\n".join(rows) + "\n")
    opened = metrics.EVENTS_INGESTED.labels(type="ticket.opened", outcome="accepted")._value.get()
    resolved = metrics.EVENTS_INGESTED.labels(type="ticket.resolved", outcome="accepted")._value.get()
    with serving_in_thread(settings, name="send-source-api") as url:
        status = send_command(settings, arguments(source, url, token_file, mapping_source="servicenow", timezone="UTC"))
    assert status == 1
    out = capsys.readouterr().out
    assert out.splitlines()[0] == f"{source}: 3 sent, 3 accepted, 1 rejected"  # two records made three events
    assert f"{source}:4: rule opened: unit_id: no unit for location 'nowhere'" in out
    assert metrics.EVENTS_INGESTED.labels(type="ticket.opened", outcome="accepted")._value.get() - opened == 2
    assert metrics.EVENTS_INGESTED.labels(type="ticket.resolved", outcome="accepted")._value.get() - resolved == 1
    assert send_command(settings, arguments(source, url, token_file, timezone="UTC")) == 2  # only with --source
