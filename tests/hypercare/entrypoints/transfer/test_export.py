"""``hypercare export`` on PostgreSQL and SQLite: the stored events of a time range, streamed in event time, as
NDJSON; the file whole or not at all; and the progress bar a terminal shows while sending."""

from __future__ import annotations

import io
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import stored_events
from rich.console import Console

from hypercare.contract.events import new_id
from hypercare.entrypoints.transfer.display import BarReporter
from hypercare.entrypoints.transfer.export import export_to, parse_instant
from hypercare.entrypoints.transfer.state import Progress, Tally
from hypercare.storage.db import Database

UNIT = "SE2321000131-ESASBOR210"


async def test_export_streams_the_range_in_event_time(db: Database, db_url: str, tmp_path: Path) -> None:
    # A day of its own in 1985 (the session's database is shared; nobody else stores events then).
    start = datetime(1985, 1, 1, tzinfo=UTC) + timedelta(days=random.randrange(3000))
    moments = [start + timedelta(minutes=m) for m in (5, 0, 90, 30, 30, 24 * 60, -1)]
    events = [
        {
            "event_id": new_id("x"),
            "type": "access.login",
            "occurred_at": moment.isoformat(),
            "unit_id": UNIT,
            "user_ref": "u-1",
            "outcome": "success",
            "source": "Överföring",
        }
        for moment in moments
    ]
    await stored_events.store(db, *events)
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "day.ndjson"
    count = await_export(db_url, start, start + timedelta(days=1), out)
    lines = out.read_text(encoding="utf-8").splitlines()
    assert count == len(lines) == 5  # the day's first moment is in, its end and the minute before are not
    exported = [json.loads(line) for line in lines]
    inside = sorted(
        (e for e in events if start <= datetime.fromisoformat(e["occurred_at"]) < start + timedelta(days=1)),
        key=lambda e: (datetime.fromisoformat(e["occurred_at"]), e["event_id"]),
    )
    assert [e["event_id"] for e in exported] == [e["event_id"] for e in inside]
    assert exported[0]["source"] == "Överföring"  # UTF-8 as written
    assert {e["type"] for e in exported} == {"access.login"}
    assert [p.name for p in out.parent.iterdir()] == ["day.ndjson"]  # nothing left aside


def await_export(url: str, since: datetime, until: datetime, out: Path) -> int:
    """``export_to`` runs its own event loop (as the command does): from a thread of its own here."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(export_to, url, since=since, until=until, path=out).result(timeout=60)


def test_export_times_need_an_offset() -> None:
    assert parse_instant("--from", "2026-12-01T00:00:00+01:00") == datetime(2026, 11, 30, 23, tzinfo=UTC)
    assert parse_instant("--to", "2026-12-01T00:00:00Z").tzinfo is not None
    with pytest.raises(ValueError, match="has no offset"):
        parse_instant("--from", "2026-12-01T00:00:00")
    with pytest.raises(ValueError, match="is not an ISO time"):
        parse_instant("--to", "igår")


def test_a_terminal_shows_a_progress_bar_with_the_counts() -> None:
    screen = io.StringIO()
    reporter = BarReporter("events.ndjson", 1000, Console(file=screen, force_terminal=True, width=200))
    reporter.acknowledged(Progress(offset=500, line=4321, tally=Tally(sent=4320, accepted=4319, rejected=1)))
    reporter.note("lines 4322–5321: HTTP 503: the event broker did not acknowledge; retrying in 1.0 s (attempt 2)")
    reporter.close()
    shown = screen.getvalue()
    assert "events.ndjson" in shown and "50%" in shown and "line 4,321" in shown
    assert "4,320 sent, 4,319 accepted, 1 rejected" in shown
    assert "retrying in 1.0 s" in shown
