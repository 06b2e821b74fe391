"""Sign-out at the identity provider too: a console session keeps the ID token it was signed in with.

``auth_sessions.id_token``: the provider's ID token, sent back to it only as ``id_token_hint`` when the person
signs out (RP-initiated logout), so the provider ends its own session and returns the browser to the console.
It is never accepted as a credential by Hypercare. Rows made before this revision have none.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("auth_sessions") as batch:
        batch.add_column(sa.Column("id_token", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("auth_sessions") as batch:
        batch.drop_column("id_token")
