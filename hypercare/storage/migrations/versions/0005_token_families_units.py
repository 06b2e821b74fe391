"""API tokens scoped to event families and units: two nullable JSON columns on api_tokens.

NULL means "not narrowed" (every family the role allows, any unit): tokens issued before this revision keep
working as they did. Named for what they hold, so a later scope or expiry column does not clash.

Revision ID: 0005
Revises: 0004
Create Date: 2024-11-18
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# Spelled out here, not imported from models, so this revision never changes after release.
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("families", JSON_DOCUMENT, nullable=True))
        batch.add_column(sa.Column("units", JSON_DOCUMENT, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("units")
        batch.drop_column("families")
