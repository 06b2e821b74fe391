"""Roles and the permission sets the API checks (DESIGN.md, "Who uses it")."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

from hypercare.contract.events import FAMILIES


class Role(StrEnum):
    ADMIN = "admin"
    CHIEF = "chief"
    AGENT = "agent"
    FLOORWALKER = "floorwalker"
    VIEWER = "viewer"
    SOURCE = "source"


# Read the situation picture (REST and WebSocket). Sources only write.
READ_SITUATION: frozenset[Role] = frozenset({Role.ADMIN, Role.CHIEF, Role.AGENT, Role.FLOORWALKER, Role.VIEWER})
# The event families a source token may be issued for, and what a source token issued without families (before
# tokens were scoped) may submit: every family but the coordination group's own records (readiness included: a
# training system's or permission matcher's export is a source, best issued for ``readiness`` alone).
SOURCE_FAMILIES: frozenset[str] = frozenset(FAMILIES) - {"coordination"}
# Decisions: the only roles that may submit the coordination types (services.auth.families.DECISION_TYPES:
# ED diversions, decisions, risks, reporting duties), whatever the table below says.
DECIDE: frozenset[Role] = frozenset({Role.ADMIN, Role.CHIEF})
# THE table of which event families each role may submit to POST /api/v1/events (services.auth.families checks
# it per item). A source token may be narrowed further to the families (and units) it was issued for.
SUBMIT_FAMILIES: Mapping[Role, frozenset[str]] = MappingProxyType(
    {
        Role.ADMIN: frozenset(FAMILIES),
        Role.CHIEF: frozenset(FAMILIES),
        Role.AGENT: frozenset({"tickets"}),
        Role.FLOORWALKER: frozenset({"floorwalkers"}),
        Role.VIEWER: frozenset(),
        Role.SOURCE: SOURCE_FAMILIES,
    }
)
# Submit events to POST /api/v1/events: every role that may submit some family. Viewers only read.
INGEST: frozenset[Role] = frozenset(role for role, families in SUBMIT_FAMILIES.items() if families)
# Post a source system's raw records (POST /api/v1/sources/{source}/records) and keep its connector's cursor: a
# source token issued for that source (services.sources.service.source_refusal), or an admin.
SOURCE_RECORDS: frozenset[Role] = frozenset({Role.SOURCE, Role.ADMIN})
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
