"""An index on the ticket id of ticket events (PostgreSQL): finding a ticket's events is a lookup, not a scan.

The readers of tickets (the stop criteria's open priority-1 and patient-safety tickets, the console's ticket
filters, the daily report) read every event of a set of tickets, ``payload ->> 'ticket_id' IN (subquery)``.
Without statistics on the events table (a day's events bulk-stored before any ANALYZE, autovacuum off or
behind) PostgreSQL estimates one row on each side and joins the two by a nested loop that compares every
ticket event with every candidate: quadratic, 60 s for a 100,000-event day. With this index the inner side
of any such join is an index lookup. SQLite needs none: it answers ``IN (subquery)`` from a temporary
index of the subquery's rows.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Spelled out here, not imported from models, so this revision never changes after release.
_CREATE = (
    "CREATE INDEX IF NOT EXISTS ix_events_ticket_id ON events ((payload ->> 'ticket_id')) "
    "WHERE type IN ('ticket.opened', 'ticket.updated', 'ticket.resolved')"
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_CREATE)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_events_ticket_id")
