"""Connectors' cursors (table ``source_cursors``): read, and saved only over the version the saver read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from hypercare.storage.db import Database
from hypercare.storage.models import SourceCursor, utcnow


@dataclass(frozen=True)
class Cursor:
    source: str
    cursor: dict[str, Any] | None
    version: int
    updated_at: datetime | None
    updated_by: str | None


class CursorConflict(Exception):
    """Saved by someone else since it was read: the message says which version stands."""


async def read_cursor(db: Database, source: str) -> Cursor:
    async with db.sessions() as session:
        row = await session.get(SourceCursor, source)
    if row is None:
        return Cursor(source, None, 0, None, None)
    return Cursor(source, row.cursor, row.version, row.updated_at, row.updated_by)


async def save_cursor(db: Database, source: str, *, cursor: dict[str, Any], version: int, by: str) -> Cursor:
    """Saves ``cursor`` as version ``version + 1`` when the stored one is ``version``; else :class:`CursorConflict`."""
    now = utcnow()
    try:
        async with db.sessions.begin() as session:
            if version == 0:
                session.add(SourceCursor(source=source, cursor=cursor, version=1, updated_at=now, updated_by=by))
            else:
                done = await session.execute(
                    update(SourceCursor)
                    .where(SourceCursor.source == source, SourceCursor.version == version)
                    .values(cursor=cursor, version=version + 1, updated_at=now, updated_by=by)
                    .execution_options(synchronize_session=False)
                )
                if getattr(done, "rowcount", 0) != 1:
                    raise CursorConflict(await _standing(session, source))
    except IntegrityError:
        async with db.sessions() as session:
            raise CursorConflict(await _standing(session, source)) from None
    return Cursor(source, cursor, version + 1, now, by)


async def _standing(session: Any, source: str) -> str:
    version = (await session.execute(select(SourceCursor.version).where(SourceCursor.source == source))).scalar()
    return f"the cursor of {source!r} is at version {version or 0}; read it again before saving"
