"""Who may submit which event to ``POST /api/v1/events``: one check per item, from the table in ``roles.py``.

In order: the coordination group's own records need a chief or admin; the event's family must be one the
role may submit (``SUBMIT_FAMILIES``), narrowed for a source token to the families it was issued for (a source
token without families, issued before tokens were scoped, may submit every family a source may); a source token
issued for units only submits events of those units; a floor walker only reports as itself (the walker id
``GET /api/v1/me`` shows).
"""

from __future__ import annotations

from hypercare.contract.events import Event, FloorwalkerCheckin, FloorwalkerCheckout
from services.auth.identity import walker_id_for
from services.auth.roles import DECIDE, SUBMIT_FAMILIES, Role
from services.auth.tokens import Principal

# The coordination group's records: only chiefs and admins (DECIDE) may submit them.
DECISION_TYPES = frozenset(
    {
        "ed.diversion_started",
        "ed.diversion_ended",
        "decision.recorded",
        "risk.recorded",
        "duty.opened",
        "duty.fulfilled",
    }
)
_UNITS_SHOWN = 5


def allowed_families(principal: Principal) -> frozenset[str]:
    """The families ``principal`` may submit: its role's row, narrowed by a scoped token."""
    families = SUBMIT_FAMILIES.get(principal.role, frozenset())
    if principal.families is not None:
        families &= principal.families
    return families


def refusal(principal: Principal, event: Event) -> str | None:
    """Why ``principal`` may not submit ``event`` (a per-item reason naming the field), or ``None``."""
    role = principal.role.value
    if event.type in DECISION_TYPES and principal.role not in DECIDE:
        return f"type: role {role!r} may not submit {event.type} (needs chief or admin)"
    allowed = allowed_families(principal)
    if event.family not in allowed:
        scoped = " for this token" if principal.families is not None else ""
        listed = ", ".join(sorted(allowed)) or "none"
        return f"type: role {role!r} may not submit {event.type} (allowed{scoped}: {listed})"
    if principal.units is not None and event.unit_id not in principal.units:
        shown = sorted(principal.units)
        listed = ", ".join(shown[:_UNITS_SHOWN]) + (
            f" and {len(shown) - _UNITS_SHOWN} more" if len(shown) > _UNITS_SHOWN else ""
        )
        return f"unit_id: this token may not submit events for {event.unit_id!r} (allowed: {listed or 'none'})"
    if principal.role is Role.FLOORWALKER and isinstance(event, FloorwalkerCheckin | FloorwalkerCheckout):
        own = walker_id_for(principal.name)
        if event.walker_id != own:
            return f"walker_id: must be your own: {own} (as GET /api/v1/me shows), not {event.walker_id!r}"
    return None
