"""Drop the events table's index on ``unit_id`` alone: ``ix_events_unit_id_occurred_at`` starts with the same column
and answers every query by unit, so the single-column index only cost every stored event one more index entry.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_events_unit_id", table_name="events")


def downgrade() -> None:
    op.create_index("ix_events_unit_id", "events", ["unit_id"])
