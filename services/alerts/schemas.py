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


class AlertList(Schema):
    items: list[AlertOut]
