"""The pure parts of ``hypercare replay`` and of the sender: time shift, id derivation, pacing, the check
against the API's future limit, backoff and Retry-After, the progress file."""

from __future__ import annotations

import json
import random
import re
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from event_examples import example_event
from hypothesis import given
from hypothesis import strategies as st

from hypercare.contract.events import EVENT_TYPES, MAX_FUTURE, SERVER_FIELDS, parse_event
from hypercare.entrypoints.transfer.records import Record
from hypercare.entrypoints.transfer.replay import (
    Span,
    ahead_problem,
    derive_event_id,
    pacing,
    parse_speed,
    replayed,
    shifted_fields,
)
from hypercare.entrypoints.transfer.sender import BACKOFF_CAP, backoff_delay, parse_retry_after
from hypercare.entrypoints.transfer.state import Progress, Tally, load, reason_kind, save
from hypercare.privacy.redact import identifier_holds_identity_number

UNIT = "SE2321000131-ESASBORAKM"
IDENTIFIER = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
ids = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABC0123456789-_.:", min_size=1, max_size=64)
shifts = st.timedeltas(min_value=timedelta(days=-4000), max_value=timedelta(days=4000))
moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC))


def test_the_shifted_fields_are_the_contracts_client_timestamps() -> None:
    assert shifted_fields() == {"occurred_at", "expected_end", "follow_up_at"}


@given(ids, shifts)
def test_a_derived_id_is_a_valid_identifier_stable_and_new(original: str, shift: timedelta) -> None:
    derived = derive_event_id(original, shift)
    assert IDENTIFIER.match(derived)
    assert not identifier_holds_identity_number(derived)
    assert derived == derive_event_id(original, shift)
    assert derived != original


@given(ids, ids, shifts, shifts)
def test_derived_ids_differ_for_another_id_or_another_shift(a: str, b: str, s: timedelta, t: timedelta) -> None:
    if (a, s) != (b, t) and (s != t or a != b):
        assert derive_event_id(a, s) != derive_event_id(b, t)


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_a_replayed_event_moves_its_times_only(event_type: str) -> None:
    original = example_event(event_type, UNIT)
    stored = {**original, "submitted_by": "x", "submitted_role": "source", "received_at": original["occurred_at"]}
    shift = timedelta(days=-3, minutes=7)
    event = replayed(stored, shift)
    assert not SERVER_FIELDS & event.keys()
    assert event["event_id"] == derive_event_id(original["event_id"], shift)
    for name in shifted_fields() & original.keys():
        assert datetime.fromisoformat(event[name]) == datetime.fromisoformat(original[name]) + shift
    unchanged = {k: v for k, v in original.items() if k not in shifted_fields() and k != "event_id"}
    assert {k: event[k] for k in unchanged} == unchanged
    parse_event(replayed(original, -timedelta(days=1)))  # still a valid event (a day back: not in the future)


@given(moments, shifts)
def test_shifting_back_restores_the_times(moment: datetime, shift: timedelta) -> None:
    event = {"event_id": "e-a", "type": "access.login", "occurred_at": moment.isoformat()}
    there = replayed(event, shift)
    back = replayed(there, -shift)
    assert datetime.fromisoformat(back["occurred_at"]) == moment


def test_replaying_needs_an_event_id_and_readable_times() -> None:
    with pytest.raises(ValueError, match="event_id"):
        replayed({"occurred_at": "2026-01-01T00:00:00+00:00"}, timedelta(0))
    with pytest.raises(ValueError, match="occurred_at: 'igår' is not an ISO time"):
        replayed({"event_id": "e", "occurred_at": "igår"}, timedelta(0))
    with pytest.raises(ValueError, match="has no offset"):
        replayed({"event_id": "e", "occurred_at": "2026-01-01T00:00:00"}, timedelta(0))


def test_speed() -> None:
    assert parse_speed("10x") == 10.0
    assert parse_speed("2.5X") == 2.5
    assert parse_speed("3") == 3.0
    assert parse_speed("max") is None
    for bad in ("0x", "fast", "-2x", ""):
        with pytest.raises(ValueError):
            parse_speed(bad)


@given(
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=2)),
    st.one_of(st.none(), st.floats(min_value=0.1, max_value=1000)),
    st.timedeltas(min_value=timedelta(days=-30), max_value=timedelta(days=30)),
)
def test_the_suggested_shift_to_is_accepted_and_a_later_one_not(
    length: timedelta, speed: float | None, offset: timedelta
) -> None:
    now = datetime(2026, 12, 5, 12, tzinfo=UTC)
    span = Span(now - length, now, 10)
    problem = ahead_problem(span, now + offset, speed, now)
    if problem is None:
        return
    suggested = datetime.fromisoformat(problem.split("give --shift-to ")[1].split(" or earlier")[0])
    assert ahead_problem(span, suggested, speed, now) is None
    assert ahead_problem(span, suggested + timedelta(seconds=2), speed, now) is not None


def test_a_replay_at_max_speed_must_end_within_the_future_limit() -> None:
    now = datetime(2026, 12, 5, 12, tzinfo=UTC)
    day = Span(now - timedelta(days=1), now, 100)
    assert ahead_problem(day, now - timedelta(days=1), None, now) is None
    assert ahead_problem(day, now, None, now) is not None  # the whole day in the future
    assert ahead_problem(day, now, 1.0, now) is None  # in real time it never runs ahead
    assert ahead_problem(Span(now, now + timedelta(minutes=3), 2), now, 10.0, now) is None
    assert ahead_problem(Span(now, now + MAX_FUTURE * 2, 2), now, 10.0, now) is not None


def test_pacing_spreads_records_by_their_distance_over_the_speed() -> None:
    clock = [100.0]
    start = datetime(2026, 12, 5, 8, tzinfo=UTC)
    due = pacing(start, 10.0, lambda: clock[0])

    def at(seconds: float) -> Record:
        return Record(1, 0, "", events=({"occurred_at": (start + timedelta(seconds=seconds)).isoformat()},))

    assert due(at(30)) == 100.0  # the first record this run sends anchors the pace (a resumed replay)
    clock[0] = 150.0
    assert due(at(50)) == pytest.approx(102.0)
    assert due(Record(2, 0, "", events=({},))) is None


@given(st.integers(min_value=1, max_value=100), st.one_of(st.none(), st.floats(min_value=0, max_value=10_000)))
def test_backoff_honours_retry_after_and_stays_bounded(attempt: int, retry_after: float | None) -> None:
    delay = backoff_delay(attempt, retry_after, random.Random(attempt))
    if retry_after is not None:
        assert min(retry_after, 300.0) <= delay <= min(retry_after, 300.0) + 1.0
    else:
        ceiling = min(BACKOFF_CAP, 0.5 * 2 ** (attempt - 1))
        assert ceiling / 2 <= delay <= ceiling


def test_backoff_grows_and_jitters() -> None:
    rng = random.Random(1)
    first = [backoff_delay(1, None, rng) for _ in range(50)]
    fifth = [backoff_delay(5, None, rng) for _ in range(50)]
    assert max(first) <= 0.5 < min(fifth) and len(set(fifth)) > 40


def test_retry_after_seconds_or_date() -> None:
    now = datetime(2026, 12, 5, 12, tzinfo=UTC)
    assert parse_retry_after("7", now) == 7.0
    assert parse_retry_after(format_datetime(now + timedelta(seconds=30), usegmt=True), now) == 30.0
    assert parse_retry_after(format_datetime(now - timedelta(seconds=30), usegmt=True), now) == 0.0
    assert parse_retry_after(None, now) is None
    assert parse_retry_after("soon", now) is None


def test_the_progress_file_round_trips_and_is_replaced_whole(tmp_path: Path) -> None:
    path = tmp_path / "in.ndjson.hcsend"
    assert load(path) is None
    tally = Tally(sent=3, accepted=2, rejected=1)
    tally.problem(7, "unit_id: 'X' is not in the org registry")
    progress = Progress(offset=120, line=9, digest="ab", tally=tally, meta={"shift_to": "2026-12-05T12:00:00+00:00"})
    save(path, progress)
    save(path, progress)
    assert load(path) == progress
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # nothing left aside
    path.write_text(json.dumps({"version": 99}))
    with pytest.raises(ValueError, match="not a progress file"):
        load(path)


def test_alike_reasons_count_together() -> None:
    tally = Tally()
    for line, unit in ((9, "A"), (3, "B"), (5, "C")):
        tally.problem(line, f"unit_id: {unit!r} is not in the org registry")
    tally.problem(4, 'not valid JSON: Expecting "," delimiter at column 3')
    assert tally.reasons == {
        "unit_id: … is not in the org registry": 3,
        "not valid JSON: Expecting … delimiter at column 3": 1,
    }
    assert [line for line, _ in tally.first] == [3, 4, 5, 9]
    assert reason_kind("plain") == "plain"
