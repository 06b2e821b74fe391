"""``hypercare export --from ISO --to ISO [--out FILE]``: stored events as NDJSON, in event time.

Each line is an event as the event store holds it: redacted at ingest, with the server's stamp (who submitted
it and when it was received). Streamed from one query, so an export of millions of events needs no more memory
than one of a hundred. With ``--out`` the file appears whole or not at all (written aside, then renamed).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from typing import TextIO

from hypercare.storage.db import Database
from hypercare.storage.events_store import stream_payloads


def parse_instant(option: str, value: str) -> datetime:
    """An RFC 3339 / ISO 8601 time with its offset (``2026-12-01T00:00:00+01:00``); ``ValueError`` otherwise."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{option}: {value!r} is not an ISO time (e.g. 2026-12-01T00:00:00+01:00)") from None
    if moment.tzinfo is None:
        raise ValueError(f"{option}: {value!r} has no offset; give one (e.g. +01:00 or Z)")
    return moment


async def export_events(database_url: str, *, since: datetime, until: datetime, out: TextIO) -> int:
    """Write the events of ``[since, until)`` to ``out`` as NDJSON; how many."""
    db = Database.from_url(database_url)
    count = 0
    try:
        async for payload in stream_payloads(db, since=since, until=until):
            out.write(json.dumps(payload, ensure_ascii=False, separators=(",", ":")))
            out.write("\n")
            count += 1
    finally:
        await db.close()
    return count


def export_to(database_url: str, *, since: datetime, until: datetime, path: Path | None) -> int:
    """To standard output, or to ``path`` whole or not at all."""
    if path is None:
        count = asyncio.run(export_events(database_url, since=since, until=until, out=sys.stdout))
        sys.stdout.flush()
        return count
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
            count = asyncio.run(export_events(database_url, since=since, until=until, out=out))
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return count


__all__ = ["export_events", "export_to", "parse_instant"]
