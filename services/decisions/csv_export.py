"""CSV of decision-log entries that a spreadsheet opens as text, never as formulas (CSV injection)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

COLUMNS = (
    "occurred_at",
    "type",
    "decision_id",
    "title",
    "decision",
    "rationale",
    "mandate",
    "owner",
    "decided_by",
    "unit_id",
    "unit_name",
    "affected_unit_ids",
    "follow_up_at",
    "corrects",
    "corrected_by",
    "linked_alert_ids",
    "rollout_decision",
    "stop_criteria",
    "event_id",
)
# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    if value is None:
        return ""
    text = "; ".join(str(item) for item in value) if isinstance(value, list) else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def stop_criteria_summary(evaluation: Any) -> str | None:
    """One cell for the stamped evaluation: overall, then each criterion's value against its limit."""
    if not isinstance(evaluation, dict):
        return None
    parts = [f"{evaluation.get('overall')} ({evaluation.get('as_of')})"]
    for item in evaluation.get("criteria", []):
        parts.append(
            f"{item.get('id')}: {item.get('value')} / {item.get('limit')} {'met' if item.get('met') else 'not met'}"
        )
    return "; ".join(parts)


def decisions_csv(entries: Iterable[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for entry in entries:
        row = {**entry, "stop_criteria": stop_criteria_summary(entry.get("stop_criteria"))}
        writer.writerow([safe_cell(row.get(column)) for column in COLUMNS])
    return buffer.getvalue()
