"""``hypercare send`` of a 100,000-line NDJSON file through a kill and a 503 period, judged by the fault oracle.

The send (its own process) is killed with SIGKILL after 30,000 lines and started again; while the second run
is on its way the API answers 503 for a few seconds (its token checks reach a database cut off behind a TCP
proxy, with no outage grace). Every event lands exactly once (the live figures and the event store against the
oracle), the API produced at most the one batch that was in flight at the kill twice, and the worker counted
exactly those as duplicates.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cli_runs import cli, counter_sum, exited, until
from fault_oracle import Verdict, mixed_load
from fault_runs import assert_exact, settle_and_judge
from hc_testkit import running
from pg_databases import fresh_pg_database
from sqlalchemy.engine import make_url
from tcp_proxy import TcpProxy

from hypercare.entrypoints.embedded_broker import free_port
from hypercare.settings import Settings

pytestmark = pytest.mark.slow
EVENTS = 100_000
BATCH = 1000


def acknowledged_line(state: Path) -> int:
    """The last line the progress file says the API acknowledged (0 before the first batch)."""
    try:
        return int(json.loads(state.read_text())["line"])
    except (FileNotFoundError, ValueError, KeyError):
        return 0


@pytest.fixture
def own_pg_url() -> Iterator[str]:
    """A database of its own: its 92,000 events of today in the session's shared database made every later daily
    report rendered there take about 100 s on PostgreSQL (the suite doubled in time, a render budget test failed)."""
    with fresh_pg_database("hc_send") as url:
        yield url


async def test_a_hundred_thousand_events_land_once_through_a_kill_and_a_503_period(
    settings_factory: Callable[..., Settings], own_pg_url: str, tmp_path: Path, report: Callable[[Verdict], None]
) -> None:
    parsed = make_url(own_pg_url)
    proxy = TcpProxy(listen_port=free_port(), target_port=parsed.port or 5432)
    await proxy.start()
    settings = settings_factory(
        database_url=parsed.set(host="127.0.0.1", port=proxy.listen_port).render_as_string(hide_password=False),
        token_cache_seconds=0.5,  # every request soon checks its token in the database again...
        token_outage_grace_seconds=0,  # ...and answers 503 while it cannot
        database_retry_after_seconds=1,
        rate_limit_ingest="",
    )
    events = mixed_load(seed=15, count=EVENTS - 4)  # and the four coordination records it adds
    lines = [json.dumps(event, ensure_ascii=False) for event in events]
    # Lines that are never sent (not JSON) or that the API refuses (a unit the registry lacks), by line number.
    lines.insert(10, "{not json")
    lines.insert(50_000, json.dumps({**events[0], "event_id": "stray-a", "unit_id": "NO-SUCH-UNIT"}))
    source = tmp_path / "events.ndjson"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    state = tmp_path / "events.ndjson.hcsend"
    try:
        async with running(settings, tmp_path) as pipeline:
            token_file = tmp_path / "token"
            token_file.write_text(pipeline.tokens["admin"])
            args = ("send", str(source), "--url", pipeline.base_url, "--token-file", str(token_file))
            args += ("--batch-size", str(BATCH))
            started = time.monotonic()

            first = cli(pipeline, *args, log=tmp_path / "send-1")
            await until(lambda: acknowledged_line(state) >= 30_000, 60, "30,000 lines acknowledged")
            os.killpg(first.pid, signal.SIGKILL)
            assert await exited(first, 10) == -signal.SIGKILL
            killed_at = acknowledged_line(state)

            second = cli(pipeline, *args, log=tmp_path / "send-2")
            await until(lambda: acknowledged_line(state) >= 60_000, 60, "60,000 lines acknowledged")
            await proxy.cut()
            await asyncio.sleep(4)
            await proxy.start()
            code = await exited(second, 120)
            elapsed = time.monotonic() - started
            out = (tmp_path / "send-2.out").read_text()
            err = (tmp_path / "send-2.err").read_text()
            assert code == 1, err  # one line unreadable, one rejected
            assert f"going on after line {killed_at:,}" in err
            assert "HTTP 503: the token could not be checked" in err or "HTTP 503: the database is unreachable" in err
            assert "retrying in" in err
            assert f"{source}: line " in err and " %): " in err  # progress lines (standard error is no terminal)
            summary = out.splitlines()
            assert summary[0] == (
                f"{source}: {EVENTS + 1:,} sent, {EVENTS:,} accepted, 1 rejected, 1 unreadable"
                f" (resumed after line {killed_at:,})"
            )
            assert f"{source}:11: not valid JSON" in out
            assert f"{source}:50001: unit_id: 'NO-SUCH-UNIT' is not in the org registry" in out

            verdict = await settle_and_judge(pipeline, "hypercare send: SIGKILL and restart, 503s", events)
            assert_exact(verdict, report)
            produced = await counter_sum(pipeline.base_url, "hypercare_events_ingested_total", outcome="accepted")
            duplicates = await counter_sum(pipeline.worker_url, "hypercare_stream_records_total", outcome="duplicate")
            assert EVENTS <= produced <= EVENTS + BATCH, produced  # at most the batch in flight at the kill twice
            assert duplicates == produced - EVENTS
            print(f"\n100,000 events sent in {elapsed:.1f} s (kill at line {killed_at:,}, 4 s database cut)")
    finally:
        await proxy.cut()
