"""Known issues and their linked tickets.

Revision ID: 0002
Revises: 0001
Create Date: 2024-11-13
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Types spelled out here, not imported from models, so this revision never changes after release.
TIMESTAMP = sa.DateTime(timezone=True)

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "known_issues",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("workaround", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_known_issues"),
    )

    op.create_table(
        "known_issue_tickets",
        sa.Column("known_issue_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.String(128), nullable=False),
        sa.Column("linked_by", sa.String(128), nullable=False),
        sa.Column("linked_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["known_issue_id"], ["known_issues.id"],
            name="fk_known_issue_tickets_known_issue_id_known_issues", ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("known_issue_id", "ticket_id", name="pk_known_issue_tickets"),
    )
    op.create_index("ix_known_issue_tickets_ticket_id", "known_issue_tickets", ["ticket_id"])


def downgrade() -> None:
    op.drop_index("ix_known_issue_tickets_ticket_id", table_name="known_issue_tickets")
    op.drop_table("known_issue_tickets")
    op.drop_table("known_issues")
