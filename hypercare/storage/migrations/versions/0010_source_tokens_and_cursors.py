"""Source systems: a source token names the sources it may post records for, and each source keeps its cursor.

``api_tokens.sources``: a JSON list of source names (``POST /api/v1/sources/{source}/records``); NULL: none.
``source_cursors``: where a connector has got to in its source (a ServiceNow ``sys_updated_on``, a file's byte
offset), saved only after the records before it were acknowledged; ``version`` counts the saves, so a second
connector of the same source cannot overwrite the first's position unseen.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# Spelled out here, not imported from models, so this revision never changes after release.
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("sources", JSON_DOCUMENT, nullable=True))
    op.create_table(
        "source_cursors",
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("cursor", JSON_DOCUMENT, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(128), nullable=False),
        sa.PrimaryKeyConstraint("source", name="pk_source_cursors"),
    )


def downgrade() -> None:
    op.drop_table("source_cursors")
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("sources")
