"""The tokens API's shapes: a token as listed (never its clear text or hash), a request to issue one, and the
issued token (its clear text, shown this once)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from services.schemas import Schema

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]
NodeId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]


class TokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name = Field(description="Who or what holds the token; unique (no personal identity numbers)")
    role: str = Field(description="admin, chief, agent, floorwalker, viewer or source")
    expires: str | None = Field(default=None, description="Expire after this long: 90d, 12h or 30m; null: never")
    scope: NodeId | None = Field(
        default=None, description="An org node id (region, administration, site or unit); null: the whole region"
    )
    families: list[Annotated[str, StringConstraints(max_length=32)]] | None = Field(
        default=None, max_length=16, description="Source tokens: the event families it may submit"
    )
    units: list[NodeId] | None = Field(
        default=None, max_length=1000, description="Source tokens: the only unit ids it may submit events for"
    )
    sources: list[Annotated[str, StringConstraints(max_length=32)]] | None = Field(
        default=None,
        max_length=32,
        description="Source tokens: the source systems whose records it may post"
        " (POST /api/v1/sources/{source}/records)",
    )


class TokenOut(Schema):
    id: int
    name: str
    role: str
    scope: str | None
    families: list[str] | None
    units: list[str] | None
    sources: list[str] | None = None
    created_at: str
    expires_at: str | None
    last_used_at: str | None
    revoked_at: str | None


class TokenList(Schema):
    items: list[TokenOut]


class TokenIssued(TokenOut):
    token: str = Field(description="The token in clear: shown this once, stored only as a hash")
