"""Alerts raised by the gateway's rule evaluation (``services.alerts``): the store of record.

One row per alert from raise to resolve. The partial unique index on (rule, node_kind, node_id)
over the rows not yet resolved is what makes "raised once per condition and node" hold when
several gateway replicas evaluate at the same moment: the second insert does nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from hypercare.storage.models import Base, UTCDateTime

ALERT_STATUSES: tuple[str, ...] = ("open", "acknowledged", "resolved")
ACTIVE_CONDITION_INDEX = "uq_alerts_active_condition"
_UNRESOLVED = text("resolved_at IS NULL")


class Alert(Base):
    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    rule: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(40))
    node_kind: Mapped[str] = mapped_column(String(16))
    node_id: Mapped[str] = mapped_column(String(128))
    node_name: Mapped[str] = mapped_column(String(200))
    severity: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text)
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    threshold: Mapped[float | None] = mapped_column(Float, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="open")
    level: Mapped[str] = mapped_column(String(16), default="team")
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime())
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    acknowledged_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    assigned_to: Mapped[str | None] = mapped_column(String(200), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (
        Index(
            ACTIVE_CONDITION_INDEX,
            "rule",
            "node_kind",
            "node_id",
            unique=True,
            postgresql_where=_UNRESOLVED,
            sqlite_where=_UNRESOLVED,
        ),
        Index("ix_alerts_status_raised_at", "status", "raised_at"),
    )
