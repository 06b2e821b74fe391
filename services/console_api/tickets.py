"""The fold of a ticket's stored events into its current view (category, priority, summary from its
opening, status from its latest update or resolution), for the service desk's ticket flow.

The flow's other queries are in :mod:`services.console_api.store`, its routes in ``router``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select

from hypercare.storage.db import Database
from hypercare.storage.models import StoredEvent
from services.console_api.sql import TICKET_TYPES, payload_text

_MAX_IDS_PER_QUERY = 5_000


async def ticket_states(db: Database, ticket_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The current view of each ticket, folded from all its stored events in time order."""
    ids = list(dict.fromkeys(ticket_ids))
    states: dict[str, dict[str, Any]] = {}
    if not ids:
        return states
    ticket_id = payload_text("ticket_id")
    async with db.sessions() as session:
        for start in range(0, len(ids), _MAX_IDS_PER_QUERY):
            chunk = ids[start : start + _MAX_IDS_PER_QUERY]
            query = (
                select(StoredEvent.type, StoredEvent.occurred_at, StoredEvent.payload)
                .where(StoredEvent.type.in_(TICKET_TYPES), ticket_id.in_(chunk))
                .order_by(StoredEvent.occurred_at, StoredEvent.stored_at)
            )
            for type_, occurred_at, payload in await session.execute(query):
                state = states.setdefault(
                    str(payload.get("ticket_id")),
                    {
                        "status": "open",
                        "category": None,
                        "priority": None,
                        "channel": None,
                        "summary": None,
                        "patient_safety": False,
                        "opened_at": None,
                        "resolved_at": None,
                    },
                )
                if type_ == "ticket.opened":
                    for key in ("category", "priority", "channel", "summary", "patient_safety"):
                        if key in payload and (key in ("summary", "channel", "patient_safety") or state[key] is None):
                            state[key] = payload[key]
                    state["opened_at"] = state["opened_at"] or occurred_at.isoformat()
                elif type_ == "ticket.updated":
                    if state["status"] != "resolved":
                        state["status"] = payload.get("status", state["status"])
                    for key in ("category", "priority"):
                        if payload.get(key) is not None:
                            state[key] = payload[key]
                else:
                    state["status"] = "resolved"
                    state["resolved_at"] = occurred_at.isoformat()
    return states
