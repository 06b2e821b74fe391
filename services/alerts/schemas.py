"""The alerts API's shapes: an alert as REST, the WebSocket and the webhook show it, and an assignment."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints

from hypercare.privacy.redact import redact
from services.schemas import Number, Schema

# Free text, redacted of identity numbers before it is stored.
Assignee = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), AfterValidator(redact)
]


class Assignment(BaseModel):
    model_config = ConfigDict(extra="forbid")
    assigned_to: Assignee


class AlertOut(Schema):
    id: int
    rule: str
    kind: str
    node_kind: str
    node_id: str
    node_name: str
    severity: str
    message: str
    value: Number | None
    threshold: Number | None
    status: str
    level: str
    raised_at: str
    escalated_at: str | None
    acknowledged_at: str | None
    acknowledged_by: str | None
    assigned_to: str | None
    resolved_at: str | None


class NotificationOut(Schema):
    """One notification of an alert transition to one recipient (``services.notifications``)."""

    transition: str
    level: str
    recipient: str
    channel: str
    state: str  # pending, delivered or dead
    attempts: int
    last_error: str | None
    created_at: str
    last_attempt_at: str | None
    delivered_at: str | None
    next_attempt_at: str | None  # while pending


class AlertDetail(AlertOut):
    """One alert with its notifications, oldest first."""

    notifications: list[NotificationOut]


class AlertList(Schema):
    items: list[AlertOut]
