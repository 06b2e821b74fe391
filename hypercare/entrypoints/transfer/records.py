"""Reading records to send: NDJSON (one JSON object a line) or CSV (a header row naming the fields).

Every record knows the line it starts on (1-based, as an editor shows it), the byte offset just after it and
the SHA-256 of the bytes up to there, so a progress file can say "acknowledged up to here" and a restart can
check that it is reading the same file. A line that is not valid JSON (or not UTF-8, or a CSV row that does not
fit its header) becomes a record with an ``error`` instead of ``data``: reported by line, never sent.

CSV cells are strings; each is turned into the JSON value its contract field takes (read from the contract's
own models, so a new field needs nothing here): integers and numbers, ``true``/``false`` (also ``yes``/``no``,
``ja``/``nej``, ``1``/``0``) for booleans, a list as a JSON array or as items separated by ``|``, an object as
a JSON object; a dotted column name (``stop_criteria.limit``) sets a member of an object field, its cell read
as JSON where it is a JSON value and as text otherwise. An empty cell leaves the field out. A cell that does not
read as its field's type is sent as text, so the API's per-item answer names the field.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any, BinaryIO, Literal, get_args

from hypercare.contract.events import Event

Format = Literal["ndjson", "csv"]
# One record's JSON object → the contract-v1 events to send for it (none, one or several). ``identity`` for
# contract events; a source mapping (a source's own records to contract events) plugs in here. A ValueError is
# the record's per-line error: the record is reported by line and none of its events is sent.
Translate = Callable[[dict[str, Any]], list[dict[str, Any]]]

_BOM = b"\xef\xbb\xbf"
_INTEGER = re.compile(r"^[+-]?\d+$")
_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$")
_TRUE = frozenset({"true", "yes", "ja", "1"})
_FALSE = frozenset({"false", "no", "nej", "0"})


def identity(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [data]


@dataclass(frozen=True, slots=True)
class Record:
    line: int  # the line it starts on, 1-based
    end: int  # byte offset just after it
    digest: str  # SHA-256 (hex) of the input's bytes [0, end)
    data: dict[str, Any] | None = None  # the record as read
    error: str | None = None
    events: tuple[dict[str, Any], ...] = ()  # what is sent for it (after the translation step)


class InputError(ValueError):
    """The input as a whole cannot be read (a CSV without a usable header line): the message says why."""


class _Lines:
    """The raw lines of a binary stream, counting lines and bytes and hashing what was read."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self.offset = 0
        self.line = 0
        self._hash = hashlib.sha256()

    def __iter__(self) -> Iterator[bytes]:
        for raw in self._stream:
            self.offset += len(raw)
            self.line += 1
            self._hash.update(raw)
            yield raw

    @property
    def digest(self) -> str:
        return self._hash.hexdigest()


def _decode(raw: bytes, first: bool) -> str:
    """The line as text without its line ending; ``UnicodeDecodeError`` for bytes that are not UTF-8."""
    if first and raw.startswith(_BOM):
        raw = raw[len(_BOM) :]
    return raw.decode("utf-8").rstrip("\r\n")


def _not_utf8(error: UnicodeDecodeError) -> str:
    return f"not UTF-8 text (byte {error.start + 1} of the line); save the file as UTF-8"


def read_ndjson(stream: BinaryIO) -> Iterator[Record]:
    """One record per non-blank line."""
    lines = _Lines(stream)
    for raw in lines:
        try:
            text = _decode(raw, lines.line == 1)
        except UnicodeDecodeError as error:
            yield Record(lines.line, lines.offset, lines.digest, error=_not_utf8(error))
            continue
        if not text.strip():
            continue
        yield Record(lines.line, lines.offset, lines.digest, *parse_json_line(text))


def parse_json_line(text: str) -> tuple[dict[str, Any] | None, str | None]:
    """``(object, None)`` or ``(None, why not)`` for one NDJSON line."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        return None, f"not valid JSON: {error.msg} at column {error.colno}"
    except RecursionError:
        return None, "not valid JSON: nested too deep"
    if not isinstance(data, dict):
        return None, f"an event must be a JSON object, not {type(data).__name__}"
    return data, None


def read_csv(stream: BinaryIO) -> Iterator[Record]:
    """One record per CSV row after the header row; ``,`` or ``;`` separated, as the header line shows.

    Raises :class:`InputError` (before the first record) when the header line is missing or unusable.
    """
    lines = _Lines(stream)
    raw_lines = iter(lines)
    first = next(raw_lines, None)
    if first is None:
        raise InputError("empty file: a CSV needs a header line naming the fields")
    try:
        header_text = _decode(first, True)
    except UnicodeDecodeError as error:
        raise InputError(f"header line: {_not_utf8(error)}") from None
    delimiter = ";" if header_text.count(";") > header_text.count(",") else ","
    header = [name.strip() for name in next(csv.reader([header_text], delimiter=delimiter), [])]
    problem = header_problem(header)
    if problem is not None:
        raise InputError(f"header line: {problem}")
    bad_lines: list[int] = []

    def texts() -> Iterator[str]:
        for raw in raw_lines:
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError as error:
                bad_lines.append(lines.line)
                yield f"{_not_utf8(error)}\n"  # keeps the row's shape; the row is reported, never sent

    rows = csv.reader(texts(), delimiter=delimiter, strict=True)
    while True:
        start = lines.line + 1
        bad_lines.clear()
        try:
            cells = next(rows)
        except StopIteration:
            return
        except csv.Error as error:
            yield Record(start, lines.offset, lines.digest, error=f"not valid CSV: {error}")
            continue
        if bad_lines:
            yield Record(start, lines.offset, lines.digest, error=f"line {bad_lines[0]}: not UTF-8 text")
            continue
        if not any(cell.strip() for cell in cells):
            continue
        try:
            data = row_to_event(header, cells)
        except ValueError as error:
            yield Record(start, lines.offset, lines.digest, error=str(error))
            continue
        yield Record(start, lines.offset, lines.digest, data=data)


def header_problem(header: list[str]) -> str | None:
    """Why a CSV header row cannot name fields (empty or repeated names), or ``None``."""
    if not any(header):
        return "no column names"
    if "" in header:
        return f"column {header.index('') + 1} has no name"
    seen: set[str] = set()
    for name in header:
        if name in seen:
            return f"column {name!r} appears twice"
        seen.add(name)
    return None


@cache
def _field_kinds() -> dict[str, dict[str, frozenset[str]]]:
    """Per event type, each field's JSON types (``integer``, ``boolean``, ``array``…), from the contract models."""
    kinds: dict[str, dict[str, frozenset[str]]] = {}
    for model in get_args(get_args(Event)[0]):
        event_type = get_args(model.model_fields["type"].annotation)[0]
        fields: dict[str, frozenset[str]] = {}
        for name, schema in model.model_json_schema()["properties"].items():
            options = schema.get("anyOf", [schema])
            fields[name] = frozenset(str(option["type"]) for option in options if "type" in option) - {"null"}
        kinds[event_type] = fields
    return kinds


def cell_value(cell: str, kinds: frozenset[str]) -> Any:
    """A non-empty CSV cell as the JSON value of a field of ``kinds``; the text itself when it reads as none."""
    text = cell.strip()
    lowered = text.lower()
    if "boolean" in kinds and lowered in _TRUE | _FALSE and not (lowered in ("0", "1") and "number" in kinds):
        return lowered in _TRUE
    if "integer" in kinds and _INTEGER.match(text):
        return int(text)
    if "number" in kinds and _NUMBER.match(text):
        number = float(text.replace(",", "."))
        return int(number) if number.is_integer() and _INTEGER.match(text) else number
    if "array" in kinds:
        if text.startswith("["):
            try:
                return json.loads(text)
            except json.JSONDecodeError:
                return cell
        return [item.strip() for item in text.split("|") if item.strip()]
    if "object" in kinds and text.startswith("{"):
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return cell
    return cell


def _json_or_text(cell: str) -> Any:
    try:
        return json.loads(cell)
    except (json.JSONDecodeError, RecursionError):
        return cell


def row_to_event(header: list[str], cells: list[str]) -> dict[str, Any]:
    """One CSV row as an event object; a ``ValueError`` says why the row does not fit the header."""
    if len(cells) > len(header) and any(cell.strip() for cell in cells[len(header) :]):
        raise ValueError(f"{len(cells)} cells, but the header names {len(header)} columns")
    values = dict(zip(header, cells, strict=False))
    event_type = values.get("type", "").strip()
    kinds = _field_kinds().get(event_type, {})
    data: dict[str, Any] = {}
    for name, cell in values.items():
        if cell == "":
            continue
        if "." not in name:
            if name in data:
                raise ValueError(f"column {name!r}: {name} is also set by a dotted column")
            data[name] = event_type if name == "type" else cell_value(cell, kinds.get(name, frozenset({"string"})))
            continue
        top, *path = name.split(".")
        target = data.setdefault(top, {})
        for part in path[:-1]:
            if not isinstance(target, dict):
                break
            target = target.setdefault(part, {})
        if not isinstance(target, dict) or path[-1] in target:
            raise ValueError(f"column {name!r}: {top} is set by another column too")
        target[path[-1]] = _json_or_text(cell)
    return data


def read_records(stream: BinaryIO, fmt: Format) -> Iterator[Record]:
    return read_csv(stream) if fmt == "csv" else read_ndjson(stream)


def format_of(name: str, given: str | None) -> Format:
    """``--format`` when given, else by the file's extension (``.csv``; anything else is NDJSON)."""
    if given is not None:
        if given not in ("ndjson", "csv"):
            raise InputError(f"--format: {given!r} is neither ndjson nor csv")
        return "csv" if given == "csv" else "ndjson"
    return "csv" if name.lower().endswith(".csv") else "ndjson"


def translated(records: Iterable[Record], translate: Translate) -> Iterator[Record]:
    """Each readable record with the events ``translate`` gives for it; a ``ValueError`` (or anything but a list
    of JSON objects) makes it a per-line error, with none of its events sent."""
    for record in records:
        if record.data is None:
            yield record
            continue
        try:
            events = translate(record.data)
        except ValueError as error:
            yield Record(record.line, record.end, record.digest, error=str(error) or type(error).__name__)
            continue
        if not isinstance(events, list) or not all(isinstance(event, dict) for event in events):
            yield Record(record.line, record.end, record.digest, error="the translation gave no list of JSON objects")
            continue
        yield Record(record.line, record.end, record.digest, data=record.data, events=tuple(events))


__all__ = [
    "Format",
    "InputError",
    "Record",
    "Translate",
    "cell_value",
    "format_of",
    "header_problem",
    "identity",
    "parse_json_line",
    "read_csv",
    "read_ndjson",
    "read_records",
    "row_to_event",
    "translated",
]
