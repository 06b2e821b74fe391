"""Quarantine store against real PostgreSQL and a SQLite file."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from hypercare.storage.db import Database
from hypercare.storage.quarantine import QuarantineRow, add_quarantined, count_quarantined, list_quarantined


def ingest_row(marker: str, index: int) -> QuarantineRow:
    return QuarantineRow(
        stage="ingest",
        reason=f"channel: invalid ({marker})",
        item_index=index,
        raw=f'{{"event_id": "{marker}-{index}"}}',
        submitted_by="test-source",
    )


def stream_row(marker: str, offset: int) -> QuarantineRow:
    return QuarantineRow(
        stage="stream",
        reason="undecodable",
        raw=f"\\x00{marker}",
        src_topic="hc.tickets",
        src_partition=2,
        src_offset=offset,
    )


async def test_items_are_listed_newest_first_with_every_field(db: Database) -> None:
    marker = uuid.uuid4().hex
    before = {stage: await count_quarantined(db, stage=stage) for stage in ("ingest", "stream")}
    total_before = await count_quarantined(db)
    started = datetime.now(UTC)
    await add_quarantined(db, items=[ingest_row(marker, 0), ingest_row(marker, 3)])
    await add_quarantined(db, items=[stream_row(marker, 77)])
    await add_quarantined(db, items=[ingest_row(marker, 5)])

    assert await count_quarantined(db, stage="ingest") == before["ingest"] + 3
    assert await count_quarantined(db, stage="stream") == before["stream"] + 1
    assert await count_quarantined(db) == total_before + 4

    newest = await list_quarantined(db, stage=None, limit=4, offset=0)
    assert [item["raw"] for item in newest] == [
        f'{{"event_id": "{marker}-5"}}',
        f"\\x00{marker}",
        f'{{"event_id": "{marker}-3"}}',
        f'{{"event_id": "{marker}-0"}}',
    ]
    ingest = await list_quarantined(db, stage="ingest", limit=2, offset=1)
    assert [item["item_index"] for item in ingest] == [3, 0]
    assert {item["stage"] for item in ingest} == {"ingest"}

    first = newest[0]
    assert set(first) == {
        "id",
        "stage",
        "received_at",
        "reason",
        "item_index",
        "raw",
        "submitted_by",
        "src_topic",
        "src_partition",
        "src_offset",
    }
    assert first["reason"] == f"channel: invalid ({marker})" and first["submitted_by"] == "test-source"
    assert (first["src_topic"], first["src_partition"], first["src_offset"]) == (None, None, None)
    received = datetime.fromisoformat(first["received_at"])
    assert received.utcoffset() == timedelta(0)
    assert started - timedelta(seconds=1) <= received <= datetime.now(UTC) + timedelta(seconds=1)

    dead = newest[1]
    assert (dead["stage"], dead["src_topic"], dead["src_partition"], dead["src_offset"]) == (
        "stream",
        "hc.tickets",
        2,
        77,
    )
    assert dead["item_index"] is None and dead["submitted_by"] is None


async def test_a_large_batch_and_an_empty_one(db: Database) -> None:
    marker = uuid.uuid4().hex
    count = await count_quarantined(db, stage="ingest")
    await add_quarantined(db, items=[])
    await add_quarantined(db, items=[ingest_row(marker, i) for i in range(3000)])
    assert await count_quarantined(db, stage="ingest") == count + 3000
    newest = await list_quarantined(db, stage="ingest", limit=1000, offset=0)
    assert len(newest) == 1000 and all(marker in item["raw"] for item in newest)


def test_stage_is_checked() -> None:
    with pytest.raises(ValueError, match="stage"):
        QuarantineRow(stage="elsewhere", reason="x", raw="y")
