"""Shapes of the sources API: the answer to a batch of raw records, and a connector's cursor."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from services.ingest.schemas import RejectedItem
from services.schemas import Schema


class SourceRecordsResponse(Schema):
    """HTTP 200 when any event was accepted (or nothing refused); 422 when every record was refused (403 when every
    one was refused for this token); the same body either way."""

    records: int = Field(ge=0, description="records in the request")
    events: int = Field(ge=0, description="events the mapping made of them (a record may make several)")
    accepted: int = Field(ge=0, description="events produced to the broker (a record delivered again counts once)")
    rejected: list[RejectedItem] = Field(
        description="every refused record (index: its position in the request) with the reason: the mapping's, or"
        " the contract's for an event made of it; each is kept in the quarantine"
    )


class CursorOut(Schema):
    source: str
    cursor: dict[str, Any] | None = Field(description="the connector's own position; null before its first save")
    version: int = Field(ge=0, description="how many times it was saved; PUT names the version it read")
    updated_at: str | None
    updated_by: str | None


class CursorIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cursor: dict[str, Any] = Field(description="the connector's position, at most 64 KiB of JSON")
    version: int = Field(ge=0, description="the version this save follows (as GET answered; 0 for the first)")
