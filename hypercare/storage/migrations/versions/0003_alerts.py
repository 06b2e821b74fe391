"""Alerts, with one unresolved alert per (rule, node) enforced by a partial unique index.

Revision ID: 0003
Revises: 0002
Create Date: 2024-11-14
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Types spelled out here, not imported from models, so this revision never changes after release.
TIMESTAMP = sa.DateTime(timezone=True)
UNRESOLVED = sa.text("resolved_at IS NULL")

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("rule", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("node_kind", sa.String(16), nullable=False),
        sa.Column("node_id", sa.String(128), nullable=False),
        sa.Column("node_name", sa.String(200), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("threshold", sa.Float(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("raised_at", TIMESTAMP, nullable=False),
        sa.Column("escalated_at", TIMESTAMP, nullable=True),
        sa.Column("acknowledged_at", TIMESTAMP, nullable=True),
        sa.Column("acknowledged_by", sa.String(128), nullable=True),
        sa.Column("assigned_to", sa.String(200), nullable=True),
        sa.Column("resolved_at", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_alerts"),
    )
    op.create_index(
        "uq_alerts_active_condition", "alerts", ["rule", "node_kind", "node_id"], unique=True,
        postgresql_where=UNRESOLVED, sqlite_where=UNRESOLVED,
    )
    op.create_index("ix_alerts_status_raised_at", "alerts", ["status", "raised_at"])


def downgrade() -> None:
    op.drop_index("ix_alerts_status_raised_at", table_name="alerts")
    op.drop_index("uq_alerts_active_condition", table_name="alerts")
    op.drop_table("alerts")
