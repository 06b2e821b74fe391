"""Reporting duties from ``duty.opened`` / ``duty.fulfilled`` events, with deadlines and time left at ``now``."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from hypercare.contract.events import stored_fields
from hypercare.storage.db import Database
from services.duties import store
from services.duties.config import DutiesConfig


def _minutes_left(deadline: datetime, now: datetime) -> int:
    """Whole minutes left (rounded down; negative once the deadline has passed)."""
    return math.floor((deadline - now).total_seconds() / 60)


async def duties_at(
    db: Database, config: DutiesConfig, now: datetime, *, until: datetime | None = None
) -> list[dict[str, Any]]:
    """Every duty: open ones first, nearest deadline first; fulfilled ones after, newest first.

    ``until`` reads only events before it (a report's state at the end of a past day).
    """
    duties: dict[str, dict[str, Any]] = {}
    fulfilments: dict[str, dict[str, Any]] = {}
    for event in await store.duty_events(db, until=until):
        payload = stored_fields(event.payload)  # through the contract model: its defaults, one place
        if event.type == "duty.fulfilled":
            fulfilments.setdefault(
                payload["duty_id"],
                {
                    "fulfilled_at": event.occurred_at.isoformat(),
                    "reference": payload["reference"],
                    "fulfilled_by": payload["fulfilled_by"],
                },
            )
            continue
        if payload["duty_id"] in duties:
            continue  # the first opening counts; a resend with a new event_id changes nothing
        kind = config.duties.get(payload["duty"])
        deadline = event.occurred_at + timedelta(hours=kind.deadline_hours) if kind else None
        duties[payload["duty_id"]] = {
            "duty_id": payload["duty_id"],
            "duty": payload["duty"],
            "name": kind.name if kind else payload["duty"],
            "authority": kind.authority if kind else None,
            "known_duty": kind is not None,
            "trigger": payload["trigger"],
            "trigger_id": payload["trigger_id"],
            "description": payload["description"],
            "unit_id": event.unit_id,
            "opened_by": payload["opened_by"],
            "opened_at": event.occurred_at.isoformat(),
            "deadline": deadline.isoformat() if deadline else None,
            "_deadline": deadline,
        }
    result = []
    for duty_id, duty in duties.items():
        fulfilled = fulfilments.get(duty_id)
        deadline = duty.pop("_deadline")
        duty["status"] = "fulfilled" if fulfilled else "open"
        duty.update(fulfilled or {"fulfilled_at": None, "reference": "", "fulfilled_by": ""})
        open_ = fulfilled is None and deadline is not None
        duty["minutes_left"] = _minutes_left(deadline, now) if open_ and deadline else None
        duty["overdue"] = bool(open_ and deadline is not None and deadline <= now)
        result.append(duty)
    open_duties = sorted(
        (d for d in result if d["status"] == "open"), key=lambda d: (d["deadline"] or "9999", d["duty_id"])
    )
    done = sorted((d for d in result if d["status"] != "open"), key=lambda d: d["fulfilled_at"] or "", reverse=True)
    return open_duties + done
