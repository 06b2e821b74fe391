"""Known issues (kända fel) and the tickets linked to them.

A known issue is created by a service-portal agent, chief or admin with a title, a workaround and a
status; linking a ticket records which tickets are explained by it. Free text is redacted of
identity numbers before it is stored (``services.console_api.known_issues`` does that).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hypercare.storage.models import Base, UTCDateTime, utcnow

KNOWN_ISSUE_STATUSES: tuple[str, ...] = ("open", "workaround", "resolved")


class KnownIssue(Base):
    __tablename__ = "known_issues"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(200))
    workaround: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class KnownIssueTicket(Base):
    """One ticket linked to one known issue; linking the same pair again changes nothing."""

    __tablename__ = "known_issue_tickets"

    known_issue_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("known_issues.id", ondelete="CASCADE"), primary_key=True
    )
    ticket_id: Mapped[str] = mapped_column(String(128), primary_key=True, index=True)
    linked_by: Mapped[str] = mapped_column(String(128))
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
