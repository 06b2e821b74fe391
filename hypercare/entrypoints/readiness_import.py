"""``hypercare readiness import FILE``: a readiness spreadsheet posted through the ingest API with a token.

Rows the sheet itself refuses (an empty cell, a value that is neither a number nor yes/no) and rows the API
refuses (an item not on the checklist, a value of the wrong kind, a unit outside the registry or the token's
scope) are reported alike, as ``line N: reason``; every other row is sent. The API keeps each refused item in
its quarantine, so nothing is lost silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx

from services.readiness.csv_import import ParsedSheet, ReadinessFileError, parse_sheet

BATCH = 1000  # rows per request, well under the API's default limit of 5000


class ImportFailed(Exception):
    """The API refused the whole request (bad token, role, or unreachable): the message says which."""


@dataclass
class ImportOutcome:
    rows: int = 0
    accepted: int = 0
    rejects: list[tuple[int, str]] = field(default_factory=list)  # (line, reason), in line order


def read_sheet(path: Path, *, now: datetime | None = None) -> ParsedSheet:
    """The file as UTF-8 (a byte order mark skipped); ``ReadinessFileError`` for a file that is not one."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ReadinessFileError(f"not UTF-8 text (byte {error.start}); save the sheet as CSV UTF-8") from None
    return parse_sheet(text, now=now or datetime.now(UTC))


async def post_sheet(
    sheet: ParsedSheet, *, base_url: str, token: str, transport: httpx.AsyncBaseTransport | None = None
) -> ImportOutcome:
    """Post the sheet's events in batches; the API's per-item refusals mapped back to their lines."""
    outcome = ImportOutcome(rows=len(sheet.events) + len(sheet.rejects), rejects=list(sheet.rejects))
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base_url, timeout=60.0, transport=transport, headers=headers) as client:
        for start in range(0, len(sheet.events), BATCH):
            batch = sheet.events[start : start + BATCH]
            try:
                response = await client.post("/api/v1/events", json=[row.event for row in batch])
            except httpx.TransportError as error:
                raise ImportFailed(f"the API at {base_url} did not answer ({type(error).__name__})") from None
            if response.status_code not in (200, 422) or "rejected" not in response.text:
                raise ImportFailed(f"the API answered HTTP {response.status_code}: {response.text[:200]}")
            body = response.json()
            outcome.accepted += int(body["accepted"])
            outcome.rejects.extend((batch[item["index"]].line, item["reason"]) for item in body["rejected"])
    outcome.rejects.sort()
    return outcome
