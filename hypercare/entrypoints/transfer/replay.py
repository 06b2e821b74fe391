"""``hypercare replay FILE --speed 10x --shift-to now|ISO``: a recorded day (an export) sent again.

Every time of the events moves by one shift, so that the earliest event lands at ``--shift-to``; the events are
sent at ``--speed`` times their recorded pace (``max``: as fast as the API takes them) by the same sender as
``hypercare send`` (batches, retries, progress file). Each event gets a new id derived from its original id and
the shift: replaying the same file with the same shift twice into one system counts every event once, while a
replay into the system that holds the originals is not taken for a resend of them.

What changes: ``event_id``, every timestamp field of the contract (``occurred_at``, ``expected_end``,
``follow_up_at``: read from the contract models), and the server's stamp (who submitted, when received), which
is left out for the receiving API to set anew. Everything else is sent as recorded (ticket, diversion and
decision ids too). The API refuses events more than five minutes in the future, so a shift and speed that would
send some before their new time is refused before anything is sent, with the latest ``--shift-to`` that works.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any, get_args

from hypercare.contract.events import MAX_FUTURE, SERVER_FIELDS, Event
from hypercare.entrypoints.transfer.records import Format, Record, Translate, read_records

# Headroom under the API's limit for clocks that differ a little and the time the send itself takes.
AHEAD_MARGIN = timedelta(minutes=1)
_SPEED = re.compile(r"^\s*(\d+(\.\d+)?|\.\d+)\s*x?\s*$", re.IGNORECASE)
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
ID_PREFIX = "rp-"


@cache
def shifted_fields() -> frozenset[str]:
    """The contract's timestamp fields that a client sets (the server's ``received_at`` is left out)."""
    names: set[str] = set()
    for model in get_args(get_args(Event)[0]):
        for name, schema in model.model_json_schema()["properties"].items():
            if any(option.get("format") == "date-time" for option in schema.get("anyOf", [schema])):
                names.add(name)
    return frozenset(names - set(SERVER_FIELDS))


def parse_speed(text: str) -> float | None:
    """``10x``, ``10``, ``0.5x`` → the factor; ``max`` → ``None`` (no pacing). ``ValueError`` otherwise."""
    if text.strip().lower() == "max":
        return None
    match = _SPEED.match(text)
    if match is None or float(match.group(1)) <= 0:
        raise ValueError(f"--speed: {text!r} is neither a factor such as 10x nor max")
    return float(match.group(1))


def shift_micros(shift: timedelta) -> int:
    return shift // timedelta(microseconds=1)


def derive_event_id(original: str, shift: timedelta) -> str:
    """A new id for the event ``original`` replayed with ``shift``: the same for the same pair, different for
    another shift or another id. Letters only after the prefix (as ``new_id``): digits could read as a personal
    identity number, which an id may not hold."""
    digest = hashlib.sha256(f"{original}\x00{shift_micros(shift)}".encode()).digest()
    number = int.from_bytes(digest[:16], "big")
    letters = []
    for _ in range(24):  # 24 letters: 112 bits
        number, index = divmod(number, len(_LETTERS))
        letters.append(_LETTERS[index])
    return ID_PREFIX + "".join(letters)


def _moved(value: Any, field: str, shift: timedelta) -> Any:
    if not isinstance(value, str):
        return value
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{field}: {value[:40]!r} is not an ISO time") from None
    if moment.tzinfo is None:
        raise ValueError(f"{field}: {value[:40]!r} has no offset")
    return (moment + shift).isoformat()


def replayed(data: dict[str, Any], shift: timedelta) -> dict[str, Any]:
    """The event as replayed: times moved by ``shift``, a derived id, the server's stamp left out."""
    event_id = data.get("event_id")
    if not isinstance(event_id, str) or not event_id:
        raise ValueError("event_id: missing, so no replay id can be derived")
    event = {key: value for key, value in data.items() if key not in SERVER_FIELDS}
    for name in shifted_fields() & event.keys():
        event[name] = _moved(event[name], name, shift)
    event["event_id"] = derive_event_id(event_id, shift)
    return event


def replay_translation(shift: timedelta) -> Translate:
    """The translation step of a replay: each recorded event as :func:`replayed`."""

    def translate(data: dict[str, Any]) -> list[dict[str, Any]]:
        return [replayed(data, shift)]

    return translate


def occurred(data: dict[str, Any]) -> datetime | None:
    value = data.get("occurred_at")
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


@dataclass(frozen=True)
class Span:
    first: datetime
    last: datetime
    events: int


def scan(path: Path, fmt: Format) -> Span | None:
    """The earliest and latest ``occurred_at`` of the readable records (``None``: no event has one)."""
    first: datetime | None = None
    last: datetime | None = None
    events = 0
    with path.open("rb") as stream:
        for record in read_records(stream, fmt):
            moment = occurred(record.data) if record.data is not None else None
            if moment is None:
                continue
            events += 1
            first = moment if first is None or moment < first else first
            last = moment if last is None or moment > last else last
    if first is None or last is None:
        return None
    return Span(first, last, events)


def ahead_problem(span: Span, shift_to: datetime, speed: float | None, now: datetime) -> str | None:
    """Why the replay would send some event more than the API allows before its new time, or ``None``.

    The event ``d`` after the first occurs at ``shift_to + d`` and is sent no earlier than ``now + d / speed``
    (``now`` at any speed for ``max``); the most ahead is the last event (speed ≥ 1) or the first (speed < 1).
    """
    length = span.last - span.first
    factor = 1.0 if speed is None else max(0.0, 1.0 - 1.0 / speed)
    ahead = shift_to - now + length * factor
    allowed = MAX_FUTURE - AHEAD_MARGIN
    if ahead <= allowed:
        return None
    latest = now + allowed - length * factor
    return (
        f"--shift-to {shift_to.isoformat(timespec='seconds')} would send events up to "
        f"{int(ahead.total_seconds() // 60)} min before their new time, and the API refuses events more than "
        f"{int(MAX_FUTURE.total_seconds() // 60)} min in the future; at this speed give --shift-to "
        f"{latest.isoformat(timespec='seconds')} or earlier (or a slower --speed)"
    )


def pacing(shift_to: datetime, speed: float, clock: Callable[[], float]) -> Callable[[Record], float | None]:
    """When (monotonic) a replayed record may be sent: its distance from the first event divided by ``speed``,
    counted from the first record this run sends (so a resumed replay goes on at the same pace)."""
    anchor: list[float] = []

    def due(record: Record) -> float | None:
        moment = occurred(record.events[0]) if record.events else None
        if moment is None:
            return None
        offset = (moment - shift_to).total_seconds() / speed
        if not anchor:
            anchor.append(clock() - offset)
        return anchor[0] + offset

    return due


__all__ = [
    "ID_PREFIX",
    "Span",
    "ahead_problem",
    "derive_event_id",
    "pacing",
    "parse_speed",
    "replay_translation",
    "replayed",
    "scan",
    "shift_micros",
    "shifted_fields",
]
