"""Reporting duties: deadlines from the configured hours, time left at an exact now, fulfilment, overdue."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from stored_events import at, store

from hypercare.contract.events import new_id
from hypercare.storage.db import Database
from services.duties.config import load_duties
from services.duties.register import duties_at

T0 = datetime(2024, 11, 12, 8, 0, tzinfo=UTC)
CONFIG = load_duties()


def opened(duty_id: str, duty: str, **fields: Any) -> dict[str, Any]:
    return {
        "event_id": new_id("d"),
        "type": "duty.opened",
        "occurred_at": at(T0),
        "unit_id": "SE2321000131-ESASBORAKM",
        "duty_id": duty_id,
        "duty": duty,
        "trigger": "ticket",
        "trigger_id": "T-77",
        "opened_by": "produktionschef",
        **fields,
    }


async def test_deadlines_time_left_fulfilment_and_overdue(db: Database) -> None:
    p = uuid.uuid4().hex[:6]
    imy, msb, maria, custom = f"{p}-imy", f"{p}-msb", f"{p}-maria", f"{p}-x"
    await store(
        db,
        opened(imy, "personal_data_breach"),
        opened(msb, "nis_incident"),
        opened(maria, "lex_maria"),
        opened(custom, "no_such_duty"),
    )
    now = T0 + timedelta(hours=6)
    duties = {d["duty_id"]: d for d in await duties_at(db, CONFIG, now) if d["duty_id"].startswith(p)}
    assert duties[imy]["deadline"] == at(T0 + timedelta(hours=72))
    assert duties[imy]["minutes_left"] == 66 * 60
    assert duties[imy]["authority"].startswith("IMY")
    assert (duties[msb]["minutes_left"], duties[msb]["overdue"]) == (0, True)  # due at exactly 6 h
    one_second_before = {d["duty_id"]: d for d in await duties_at(db, CONFIG, now - timedelta(seconds=1))}
    assert (one_second_before[msb]["minutes_left"], one_second_before[msb]["overdue"]) == (0, False)
    assert duties[custom]["known_duty"] is False and duties[custom]["deadline"] is None

    await store(
        db,
        {
            "event_id": new_id("f"),
            "type": "duty.fulfilled",
            "occurred_at": at(T0 + timedelta(hours=2)),
            "unit_id": "SE2321000131-ESASBORAKM",
            "duty_id": msb,
            "reference": "MSB-2024-123",
            "fulfilled_by": "CISO",
        },
    )
    duties = [d for d in await duties_at(db, CONFIG, now) if d["duty_id"].startswith(p)]
    by_id = {d["duty_id"]: d for d in duties}
    assert by_id[msb]["status"] == "fulfilled" and by_id[msb]["overdue"] is False
    assert by_id[msb]["reference"] == "MSB-2024-123"
    assert [d["duty_id"] for d in duties if d["status"] == "open"] == [imy, maria, custom]  # nearest deadline first
