"""The report API's shapes: a report's metadata, its frozen content, and the requests that make and refresh it."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from services.reports.period import ReportKind
from services.reports.snapshot import MAX_NOTE
from services.schemas import Schema


class ReportMeta(Schema):
    """A report's metadata; ``id`` and the workflow fields are null for a preview (computed, not stored)."""

    id: int | None
    status: str  # draft, approved, published, or preview
    created_by: str | None
    created_at: str | None
    approved_by: str | None
    approved_at: str | None
    published_by: str | None
    published_at: str | None
    kind: str  # daily or since_last_meeting
    day: str
    title: str
    period_start: str
    period_end: str
    snapshot_at: str


class ReportList(Schema):
    items: list[ReportMeta]
    count: int


class ReportDocument(Schema):
    report: ReportMeta
    content: dict[str, Any] = Field(
        description="The frozen snapshot (version, kind, title, region, zone, as_of, period, note, "
        "stop_criteria_overall, sections with figures, tables and charts, and the numbered sources)"
    )


class ReportState(Schema):
    report: ReportMeta


class KeyFigureChange(Schema):
    """One key figure: as stored with the report, now, and the change (``direction``: up, down, same, unknown)."""

    key: str
    before: int | float | None
    now: int | float | None
    delta: int | float | None
    direction: str


class ReportChanges(Schema):
    """The live key figures against the last published report's (``reason`` when there is nothing to compare:
    ``no_published_report`` or ``no_key_figures`` for a report made without the live picture)."""

    report: ReportMeta | None
    at: str
    report_at: str | None
    figures: list[KeyFigureChange]
    reason: str | None


class ReportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: ReportKind = "daily"
    day: date | None = Field(default=None, alias="date", description="the local date of a daily report; default today")
    note: str = Field(default="", max_length=MAX_NOTE, description="the coordination group's assessment (bedömning)")


class RefreshIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str | None = Field(default=None, max_length=MAX_NOTE, description="a new assessment; unchanged if left out")
