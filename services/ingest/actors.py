"""Who submitted an event, as the server knows it: server-only fields refused on input, actor fields from the token.

Every accepted event is stamped with ``submitted_by`` (the token's name), ``submitted_role`` and ``received_at``
(server UTC); a client that sends one of these has the item refused with a reason. For people (the human roles
below) the actor field of a coordination record (``decided_by``, ``recorded_by``, ``opened_by``,
``fulfilled_by``) and of a readiness assessment (``assessor``) is who they are: left out, it is filled in with
the token's name; any other value is refused.
A source (an integration) may relay a record with the actor it names; the stamp still says which source sent it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any

from hypercare.contract.events import SERVER_FIELDS, Event, InvalidEvent
from services.auth.roles import Role
from services.auth.tokens import Principal

# The field of each type that names the person who took or recorded it.
ACTOR_FIELDS: Mapping[str, str] = MappingProxyType(
    {
        "ed.diversion_started": "decided_by",
        "ed.diversion_ended": "decided_by",
        "decision.recorded": "decided_by",
        "risk.recorded": "recorded_by",
        "duty.opened": "opened_by",
        "duty.fulfilled": "fulfilled_by",
        "readiness.assessed": "assessor",
    }
)
HUMAN_ROLES: frozenset[Role] = frozenset({Role.ADMIN, Role.CHIEF, Role.AGENT, Role.FLOORWALKER})


def with_actor(data: Any, principal: Principal) -> Any:
    """The submitted item, its actor field filled in for a person; refuses server-only fields (InvalidEvent)."""
    if not isinstance(data, dict):
        return data
    for name in SERVER_FIELDS:
        if name in data:
            raise InvalidEvent(f"{name}: is set by the server; leave it out")
    event_type = data.get("type")
    actor = ACTOR_FIELDS.get(event_type) if isinstance(event_type, str) else None
    if actor is not None and principal.role in HUMAN_ROLES and actor not in data:
        return {**data, actor: principal.name}
    return data


def actor_refusal(principal: Principal, event: Event) -> str | None:
    """Why a person may not submit ``event`` under the actor it names (someone else), or ``None``."""
    actor = ACTOR_FIELDS.get(event.type)
    if actor is None or principal.role not in HUMAN_ROLES:
        return None
    if getattr(event, actor) != principal.name:
        return f"{actor}: must be you ({principal.name}); leave it out to have it filled in"
    return None


def stamped(event: Event, principal: Principal, received_at: datetime) -> Event:
    """``event`` with the server's record of who submitted it and when."""
    return event.model_copy(
        update={"submitted_by": principal.name, "submitted_role": principal.role.value, "received_at": received_at}
    )
