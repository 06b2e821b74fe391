"""Daily situation reports (lägesbilder): one row per report, its content a frozen JSON snapshot.

A report moves draft → approved → published. Once published its row never changes: the report
service refuses it, and a trigger (migration 0004) makes the database refuse it too, so an upward
report cannot be altered after it was sent. At most one published daily report exists per day
and at most one unpublished report per kind and day (partial unique indexes).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from hypercare.storage.models import Base, JSONType, UTCDateTime, utcnow

REPORT_KINDS: tuple[str, ...] = ("daily", "since_last_meeting")
REPORT_STATUSES: tuple[str, ...] = ("draft", "approved", "published")
PUBLISHED_DAILY_INDEX = "uq_reports_published_daily_day"
OPEN_REPORT_INDEX = "uq_reports_open_kind_day"
# What the trigger of migration 0004 raises on both databases when a published row is touched.
IMMUTABLE_MESSAGE = "published reports are immutable"
_PUBLISHED_DAILY = text("status = 'published' AND kind = 'daily'")
_UNPUBLISHED = text("status <> 'published'")


class Report(Base):
    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(24))
    day: Mapped[date] = mapped_column(Date)
    period_start: Mapped[datetime] = mapped_column(UTCDateTime())
    period_end: Mapped[datetime] = mapped_column(UTCDateTime())
    snapshot_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="draft")
    content: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    approved_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    published_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (
        Index(
            PUBLISHED_DAILY_INDEX,
            "day",
            unique=True,
            postgresql_where=_PUBLISHED_DAILY,
            sqlite_where=_PUBLISHED_DAILY,
        ),
        Index(
            OPEN_REPORT_INDEX,
            "kind",
            "day",
            unique=True,
            postgresql_where=_UNPUBLISHED,
            sqlite_where=_UNPUBLISHED,
        ),
        Index("ix_reports_status_snapshot_at", "status", "snapshot_at"),
    )
