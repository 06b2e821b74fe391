"""The audit log's rows as the API shows them."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict

# What an audit row's ``outcome`` says: success (2xx/3xx; an ingest batch with every item accepted), partial (an
# ingest batch with some items rejected), rejected (every item rejected, 422), unauthenticated (401: no, a
# malformed or an unknown token; a WebSocket refused without a valid token), forbidden (403: the role may not; a
# WebSocket whose role may not read the picture), refused (any other 4xx, or a WebSocket told to try again
# later), error (5xx).
Outcome = Literal["success", "partial", "rejected", "unauthenticated", "forbidden", "refused", "error"]
OUTCOMES: tuple[str, ...] = get_args(Outcome)


class AuditEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    principal: str | None
    role: str | None
    scope: str | None
    action: str
    object: str | None
    outcome: str
    status: int | None
    accepted: int | None
    rejected: int | None
    request_id: str
    client: str | None


class AuditPage(BaseModel):
    total: int
    items: list[AuditEntryOut]


class SignedOut(BaseModel):
    signed_out: bool = True
