"""Role aliases of the console API, on top of ``services.auth.dependencies``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from services.auth.dependencies import require
from services.auth.roles import Role
from services.auth.tokens import Principal

# Known issues are written by the service desk and the coordination group.
AGENT_ROLES: frozenset[Role] = frozenset({Role.ADMIN, Role.CHIEF, Role.AGENT})
ANY_ROLE: frozenset[Role] = frozenset(Role)

Agent = Annotated[Principal, Depends(require(AGENT_ROLES, action="manage known issues"))]
Anyone = Annotated[Principal, Depends(require(ANY_ROLE, action="use the API"))]
