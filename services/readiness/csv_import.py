"""The readiness spreadsheet (the training system's and the permission matcher's exports) as events.

Columns (a header row, names in any order and case): ``unit_id``, ``item``, ``value`` (required), ``assessed_at``
(RFC 3339 with offset; empty: the time of the import), ``assessor`` (empty: the token's holder, for a person;
a source token names one), ``evidence`` (free text). A percent is a number (``92``, ``92,5`` or ``92.5``, an
optional ``%``); a check is ``ja``/``nej``, ``yes``/``no`` or ``true``/``false``. Separators ``;`` (Excel in
Swedish) or ``,``, as the header row shows; a UTF-8 byte order mark is skipped. Whether an item is on the
checklist and a value fits its kind is the ingest API's call (one rule for events and spreadsheets).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hypercare.contract.events import new_id

REQUIRED = ("unit_id", "item", "value")
OPTIONAL = ("assessed_at", "assessor", "evidence")
_TRUE = frozenset({"ja", "yes", "true", "sant"})
_FALSE = frozenset({"nej", "no", "false", "falskt"})


class ReadinessFileError(ValueError):
    """The file cannot be read as a readiness sheet at all (no header, a required column missing)."""


@dataclass(frozen=True)
class RowEvent:
    line: int  # the row's line number in the file (the header is line 1)
    event: dict[str, Any]


@dataclass
class ParsedSheet:
    events: list[RowEvent] = field(default_factory=list)
    rejects: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)


def parse_value(text: str) -> bool | float:
    """A check's yes/no or a percent's number; a ``ValueError`` says what was expected."""
    cleaned = text.strip().rstrip("%").strip().replace("\u00a0", "").replace(" ", "")
    lowered = cleaned.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    try:
        return float(cleaned.replace(",", "."))
    except ValueError:
        pass
    raise ValueError("value: must be ja/nej (yes/no, true/false) for a check or a number 0–100 for a percent")


def _separator(header: str) -> str:
    return ";" if header.count(";") >= header.count(",") else ","


def parse_sheet(text: str, *, now: datetime, source: str = "readiness-import") -> ParsedSheet:
    """The events of a sheet's rows, and the rows refused before sending with their line numbers."""
    text = text.removeprefix("\ufeff")
    first = text.split("\n", 1)[0]
    if not first.strip():
        raise ReadinessFileError(
            "line 1: a header row is needed (unit_id, item, value[, assessed_at, assessor, evidence])"
        )
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_separator(first))
    header = [name.strip().lower() for name in next(reader)]
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise ReadinessFileError(f"line 1: missing column {', '.join(missing)} (columns: {', '.join(header)})")
    unknown = [name for name in header if name and name not in REQUIRED + OPTIONAL]
    if unknown:
        raise ReadinessFileError(f"line 1: unknown column {', '.join(unknown)}; use {', '.join(REQUIRED + OPTIONAL)}")
    sheet = ParsedSheet()
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(header):
            sheet.rejects.append((line, f"{len(row)} cells, the header has {len(header)}"))
            continue
        cells = {name: (row[index].strip() if index < len(row) else "") for index, name in enumerate(header)}
        empty = [name for name in REQUIRED if not cells[name]]
        if empty:
            sheet.rejects.append((line, f"{', '.join(empty)}: empty"))
            continue
        try:
            value = parse_value(cells["value"])
        except ValueError as error:
            sheet.rejects.append((line, str(error)))
            continue
        event: dict[str, Any] = {
            "event_id": new_id("readiness"),
            "type": "readiness.assessed",
            "occurred_at": cells.get("assessed_at") or now.isoformat(),
            "unit_id": cells["unit_id"],
            "source": source,
            "item": cells["item"],
            "value": value,
        }
        if cells.get("assessor"):
            event["assessor"] = cells["assessor"]
        if cells.get("evidence"):
            event["evidence"] = cells["evidence"]
        sheet.events.append(RowEvent(line=line, event=event))
    return sheet
