"""Token lifecycle and org scope: expires_at, last_used_at, scope on api_tokens; token names unique.

Tokens issued before this revision never expire and are scoped to the whole region (NULL). Names were not
unique before: a later token of a name already taken is renamed ``<name>#<id>`` (the first one keeps it), then
the name index becomes unique. A downgrade keeps every token (and the renamed names).

Revision ID: 0006
Revises: 0005
Create Date: 2024-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Spelled out here, not imported from models, so this revision never changes after release.
TIMESTAMP = sa.DateTime(timezone=True)

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("expires_at", TIMESTAMP, nullable=True))
        batch.add_column(sa.Column("last_used_at", TIMESTAMP, nullable=True))
        batch.add_column(sa.Column("scope", sa.String(128), nullable=True))
    op.execute(
        "UPDATE api_tokens SET name = SUBSTR(name, 1, 100) || '#' || CAST(id AS VARCHAR(20))"
        " WHERE id NOT IN (SELECT MIN(id) FROM api_tokens GROUP BY name)"
    )
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_index("ix_api_tokens_name")
        batch.create_index("ix_api_tokens_name", ["name"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_index("ix_api_tokens_name")
        batch.create_index("ix_api_tokens_name", ["name"], unique=False)
        batch.drop_column("scope")
        batch.drop_column("last_used_at")
        batch.drop_column("expires_at")
