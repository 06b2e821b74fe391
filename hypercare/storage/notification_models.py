"""The notification outbox (``services.notifications``): one row per (alert transition, recipient).

A row is written in the same transaction as the alert transition it tells of, so a crash or a restart loses
none; a dispatcher in any API process claims due rows, delivers them and records the outcome. The unique
(alert, transition, level, recipient) keeps a transition from being queued twice for one recipient.
Recipients are named by their id in the notifications file: addresses, URLs and secrets stay out of the
database.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hypercare.storage.models import Base, JSONType, UTCDateTime, utcnow

NOTIFICATION_STATES: tuple[str, ...] = ("pending", "delivered", "dead")


class Notification(Base):
    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[int] = mapped_column(Integer, ForeignKey("alerts.id", ondelete="CASCADE"))
    transition: Mapped[str] = mapped_column(String(16))
    level: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))
    # Sent to the receiver as its idempotency key (X-Hypercare-Delivery, Message-ID): retries carry the same one.
    delivery_id: Mapped[str] = mapped_column(String(40), unique=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSONType)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # When a pending row is due; while a dispatcher holds it, the end of its claim.
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    claimed_by: Mapped[str | None] = mapped_column(String(40), nullable=True)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Why the last attempt failed: a status code or an error's type, never a URL, an address or a secret.
    last_error: Mapped[str | None] = mapped_column(String(200), nullable=True)

    __table_args__ = (
        UniqueConstraint("alert_id", "transition", "level", "recipient", name="uq_notifications_transition_recipient"),
        Index("ix_notifications_state_next_attempt_at", "state", "next_attempt_at"),
        Index("ix_notifications_alert_id", "alert_id"),
    )
