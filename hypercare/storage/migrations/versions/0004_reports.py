"""Daily situation reports, with a trigger that keeps published reports unchanged.

Revision ID: 0004
Revises: 0003
Create Date: 2024-11-15
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# Types spelled out here, not imported from models, so this revision never changes after release.
TIMESTAMP = sa.DateTime(timezone=True)
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
PUBLISHED_DAILY = sa.text("status = 'published' AND kind = 'daily'")
UNPUBLISHED = sa.text("status <> 'published'")
# The message both databases raise; services.reports.store recognises it.
IMMUTABLE_MESSAGE = "published reports are immutable"

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PG_FUNCTION = f"""
CREATE FUNCTION reports_published_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '{IMMUTABLE_MESSAGE}: report %', OLD.id;
END;
$$ LANGUAGE plpgsql
"""
_PG_TRIGGER = """
CREATE TRIGGER reports_published_immutable
BEFORE UPDATE OR DELETE ON reports
FOR EACH ROW WHEN (OLD.status = 'published')
EXECUTE FUNCTION reports_published_immutable()
"""
_SQLITE_TRIGGERS = [
    f"""
    CREATE TRIGGER reports_published_immutable_{action.lower()}
    BEFORE {action} ON reports
    FOR EACH ROW WHEN OLD.status = 'published'
    BEGIN
        SELECT RAISE(ABORT, '{IMMUTABLE_MESSAGE}');
    END
    """
    for action in ("UPDATE", "DELETE")
]


def upgrade() -> None:
    op.create_table(
        "reports",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("period_start", TIMESTAMP, nullable=False),
        sa.Column("period_end", TIMESTAMP, nullable=False),
        sa.Column("snapshot_at", TIMESTAMP, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("content", JSON_DOCUMENT, nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("approved_by", sa.String(128), nullable=True),
        sa.Column("approved_at", TIMESTAMP, nullable=True),
        sa.Column("published_by", sa.String(128), nullable=True),
        sa.Column("published_at", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_reports"),
    )
    op.create_index(
        "uq_reports_published_daily_day", "reports", ["day"], unique=True,
        postgresql_where=PUBLISHED_DAILY, sqlite_where=PUBLISHED_DAILY,
    )
    op.create_index(
        "uq_reports_open_kind_day", "reports", ["kind", "day"], unique=True,
        postgresql_where=UNPUBLISHED, sqlite_where=UNPUBLISHED,
    )
    op.create_index("ix_reports_status_snapshot_at", "reports", ["status", "snapshot_at"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
        op.execute(_PG_TRIGGER)
    else:
        for trigger in _SQLITE_TRIGGERS:
            op.execute(trigger)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS reports_published_immutable ON reports")
        op.execute("DROP FUNCTION IF EXISTS reports_published_immutable()")
    else:
        for action in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS reports_published_immutable_{action}")
    op.drop_index("ix_reports_status_snapshot_at", table_name="reports")
    op.drop_index("uq_reports_open_kind_day", table_name="reports")
    op.drop_index("uq_reports_published_daily_day", table_name="reports")
    op.drop_table("reports")
