"""The tickets connector's paging and cursor against an in-memory table: every record once per pass, also when
more records than a page share one ``sys_updated_on`` second, and a pass that fails leaves the cursor behind."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest

from hypercare.entrypoints.connectors.api import NotAcknowledged, Outcome
from hypercare.entrypoints.connectors.servicenow import Cursor, poll_once


class Table:
    def __init__(self, records: list[dict[str, Any]], size: int) -> None:
        self.records = records
        self.settings = SimpleNamespace(connector_batch_size=size)

    async def page(self, since: str, offset: int) -> list[dict[str, Any]]:
        chosen = sorted(
            (r for r in self.records if r["sys_updated_on"] >= since), key=lambda r: (r["sys_updated_on"], r["sys_id"])
        )
        return chosen[offset : offset + self.settings.connector_batch_size]


class Api:
    source = "servicenow"

    def __init__(self, fail_after: int | None = None) -> None:
        self.posted: list[str] = []
        self.saved: list[dict[str, Any]] = []
        self.fail_after = fail_after

    async def post(self, body: bytes, *, timezone: str | None = None) -> Outcome:
        if self.fail_after is not None and len(self.saved) >= self.fail_after:
            raise NotAcknowledged("the API is down")
        records = json.loads(body)
        self.posted.extend(r["sys_id"] for r in records)
        return Outcome(len(records), len(records), [])

    async def save(self, cursor: dict[str, Any], version: int) -> int:
        self.saved.append(json.loads(json.dumps(cursor)))
        return version + 1


def record(sys_id: str, second: int) -> dict[str, Any]:
    return {"sys_id": sys_id, "sys_updated_on": f"2026-02-18 07:45:{second:02d}"}


@pytest.mark.parametrize("size", [1, 2, 3, 5, 50])
async def test_every_record_once_also_with_more_ties_than_a_page(size: int) -> None:
    records = [record(f"a{n}", 1) for n in range(7)] + [record(f"b{n}", 2) for n in range(3)] + [record("c", 3)]
    table, api = Table(records, size), Api()
    cursor = Cursor("2026-02-18 07:45:00")
    version, posted = await poll_once(table, api, cursor, 0)  # type: ignore[arg-type]
    assert posted and sorted(api.posted) == sorted(r["sys_id"] for r in records)
    assert len(api.posted) == len(records)
    assert api.saved[-1] == {"since": "2026-02-18 07:45:03", "seen": ["c"]}
    # Nothing new: nothing posted again. A later version of a record is.
    again = Api()
    assert (await poll_once(table, again, cursor, version))[1] is False  # type: ignore[arg-type]
    table.records.append(record("a1", 4))
    await poll_once(table, again, cursor, version)  # type: ignore[arg-type]
    assert again.posted == ["a1"]


async def test_a_failed_post_leaves_the_cursor_at_the_last_acknowledged_page() -> None:
    records = [record(f"r{n}", n) for n in range(6)]
    table, api = Table(records, 2), Api(fail_after=1)
    cursor = Cursor("2026-02-18 07:45:00")
    with pytest.raises(NotAcknowledged):
        await poll_once(table, api, cursor, 0)  # type: ignore[arg-type]
    assert api.saved == [{"since": "2026-02-18 07:45:01", "seen": ["r1"]}]
    # Resumed from what was saved: the rest, nothing lost.
    resumed, retry = Cursor.from_json(api.saved[-1], "ignored"), Api()
    await poll_once(table, retry, resumed, 1)  # type: ignore[arg-type]
    assert retry.posted == ["r2", "r3", "r4", "r5"]
