"""Declarative models: the store of record for events, quarantined items and API tokens.

Every timestamp is timezone-aware UTC on both databases (SQLite keeps naive text, so
:class:`UTCDateTime` converts on the way in and out).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Index, Integer, MetaData, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """``DateTime(timezone=True)`` that only accepts aware values and always returns aware UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: store timezone-aware datetimes only")
        value = value.astimezone(UTC)
        # SQLite has no time zone type; naive UTC text keeps ordering and comparisons right.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# JSONB on PostgreSQL (indexable, compact), plain JSON text elsewhere.
JSONType = JSON().with_variant(JSONB(), "postgresql")


# Deterministic constraint names: batch migrations on SQLite can only alter named constraints.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class StoredEvent(Base):
    """One accepted event, redacted, with the Kafka position of the first record that carried it."""

    __tablename__ = "events"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    type: Mapped[str] = mapped_column(String(40))
    family: Mapped[str] = mapped_column(String(20))
    unit_id: Mapped[str] = mapped_column(String(128))  # indexed with occurred_at (ix_events_unit_id_occurred_at)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    stored_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    source: Mapped[str | None] = mapped_column(String(64), nullable=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    src_topic: Mapped[str] = mapped_column(String(255))
    src_partition: Mapped[int] = mapped_column(Integer)
    src_offset: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (
        Index("ix_events_unit_id_occurred_at", "unit_id", "occurred_at"),
        Index("ix_events_type_occurred_at", "type", "occurred_at"),
        # A ticket's events by its id (migration 0012, PostgreSQL only): the ticket readers' ``IN (candidates)``
        # stays a lookup per candidate whatever the planner guesses (SQLite indexes the candidates itself).
        Index(
            "ix_events_ticket_id",
            text("(payload ->> 'ticket_id')"),
            postgresql_where=text("type IN ('ticket.opened', 'ticket.updated', 'ticket.resolved')"),
        ).ddl_if(dialect="postgresql"),
    )


class QuarantinedItem(Base):
    """A rejected raw item (ingest) or dead letter (stream), kept so nothing is dropped silently."""

    __tablename__ = "quarantine"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    stage: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    reason: Mapped[str] = mapped_column(Text)
    item_index: Mapped[int | None] = mapped_column(Integer, nullable=True)
    raw: Mapped[str] = mapped_column(Text)
    submitted_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    src_topic: Mapped[str | None] = mapped_column(String(255), nullable=True)
    src_partition: Mapped[int | None] = mapped_column(Integer, nullable=True)
    src_offset: Mapped[int | None] = mapped_column(BigInteger, nullable=True)

    __table_args__ = (Index("ix_quarantine_stage_received_at", "stage", "received_at"),)


class ApiToken(Base):
    """A bearer token, stored only as the SHA-256 hex of its clear text."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # Unique (migration 0006): a name says who holds the token, and ``hypercare token revoke NAME`` finds one.
    name: Mapped[str] = mapped_column(String(128), index=True, unique=True)
    role: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # A source token's scope (JSON lists of event families and unit ids); NULL: not narrowed (every family its
    # role allows, any unit), as for tokens issued before scopes existed (migration 0005).
    families: Mapped[list[str] | None] = mapped_column(JSONType, nullable=True)
    units: Mapped[list[str] | None] = mapped_column(JSONType, nullable=True)
    # Lifecycle and org scope (migration 0006): NULL expiry never expires; ``last_used_at`` is written at most
    # once a minute; ``scope`` is an org node id (region, administration, site or unit), NULL: the region.
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    scope: Mapped[str | None] = mapped_column(String(128), nullable=True)
    # A source token's source systems (migration 0010): the names of POST /api/v1/sources/{source}/records it may
    # post to; NULL: none.
    sources: Mapped[list[str] | None] = mapped_column(JSONType, nullable=True)


class SourceCursor(Base):
    """Where a source's connector has got to (migration 0010), saved after the records before it were acknowledged.

    ``cursor`` is the connector's own JSON (a ServiceNow time and the sys_ids read at it, a file's offset);
    ``version`` counts the saves (a save names the version it read, so two connectors cannot overwrite unseen).
    """

    __tablename__ = "source_cursors"

    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    cursor: Mapped[dict[str, Any]] = mapped_column(JSONType)
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(128))


class AuthSession(Base):
    """A console session after sign-in with the OpenID provider (migration 0008).

    Keyed by the SHA-256 of the opaque id in the browser's cookie; ``scope`` is the organisation scope claim
    (e.g. an HSA id) as the provider gave it. Signing out deletes the row.
    """

    __tablename__ = "auth_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    csrf_hash: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(16))
    scope: Mapped[str | None] = mapped_column(String(256), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    # The provider's ID token, only ever sent back to it as id_token_hint at sign-out (migration 0009).
    id_token: Mapped[str | None] = mapped_column(Text, nullable=True)


class AuthLogin(Base):
    """A login under way: state, nonce and PKCE verifier, keyed by the SHA-256 of the login cookie's id."""

    __tablename__ = "auth_logins"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str] = mapped_column(String(128))
    nonce: Mapped[str] = mapped_column(String(128))
    code_verifier: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
