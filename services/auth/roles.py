"""Roles and the permission sets the API checks (DESIGN.md, "Who uses it")."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    CHIEF = "chief"
    AGENT = "agent"
    FLOORWALKER = "floorwalker"
    VIEWER = "viewer"
    SOURCE = "source"


# Read the situation picture (REST and WebSocket). Sources only write.
READ_SITUATION: frozenset[Role] = frozenset({Role.ADMIN, Role.CHIEF, Role.AGENT, Role.FLOORWALKER, Role.VIEWER})
# Submit events to POST /api/v1/events. Viewers only read.
INGEST: frozenset[Role] = frozenset({Role.ADMIN, Role.CHIEF, Role.AGENT, Role.FLOORWALKER, Role.SOURCE})
# Decisions: the only roles that may submit ed.diversion_started / ed.diversion_ended.
DECIDE: frozenset[Role] = frozenset({Role.ADMIN, Role.CHIEF})
# Administration: quarantine, tokens.
ADMIN: frozenset[Role] = frozenset({Role.ADMIN})
# Known issues are written by the service desk and the coordination group.
KNOWN_ISSUES: frozenset[Role] = frozenset({Role.ADMIN, Role.CHIEF, Role.AGENT})
# Any valid token (``GET /api/v1/me``).
ANY_ROLE: frozenset[Role] = frozenset(Role)


def parse_role(value: Role | str) -> Role:
    """The role named by ``value``; a ``ValueError`` lists the valid ones."""
    try:
        return Role(value)
    except ValueError:
        raise ValueError(f"unknown role {value!r}; use one of {', '.join(r.value for r in Role)}") from None


def describe(roles: frozenset[Role]) -> str:
    """Roles in the order of :class:`Role`, for error messages."""
    return ", ".join(role.value for role in Role if role in roles)
