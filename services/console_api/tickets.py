"""The current view of tickets for the service desk's ticket flow, from the one ticket fold every reader uses
(:mod:`hypercare.situation.facts.tickets`: the earliest opening, the latest priority and category, resolved
once resolved). The flow's queries are in :mod:`services.console_api.store`, its routes in ``router``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from hypercare.situation.facts.tickets import Ticket, TicketKey, fold_tickets
from hypercare.storage.db import Database
from services.console_api import store


async def ticket_states(db: Database, ticket_ids: Iterable[str]) -> dict[TicketKey, dict[str, Any]]:
    """The current view of each ticket, by ``(unit_id, ticket_id)``, from the shared ticket fold."""
    return {
        key: ticket_view(ticket) for key, ticket in fold_tickets(await store.ticket_history(db, ticket_ids)).items()
    }


def ticket_view(ticket: Ticket) -> dict[str, Any]:
    return {
        "status": ticket.status,
        "category": ticket.category,
        "priority": ticket.priority,
        "channel": ticket.channel,
        "summary": ticket.summary,
        "patient_safety": ticket.patient_safety,
        "opened_at": ticket.opened_at.isoformat() if ticket.opened_at else None,
        "resolved_at": ticket.resolved_at.isoformat() if ticket.resolved_at else None,
    }
