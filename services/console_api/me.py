"""``GET /api/v1/me``: who holds this token, so the console can show the views the role allows."""

from __future__ import annotations

import hashlib

from fastapi import APIRouter

from services.auth.dependencies import Anyone

router = APIRouter(prefix="/api/v1", tags=["console"])

_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def walker_id_for(name: str) -> str:
    """A stable pseudonymous floor-walker id derived from a token name.

    Letters only, so it can never look like a personal identity number, and the name cannot be
    read back from it.
    """
    digest = hashlib.sha256(f"hypercare-walker:{name}".encode()).digest()
    return "fw-" + "".join(_LETTERS[byte % len(_LETTERS)] for byte in digest[:12])


@router.get("/me", summary="The holder of the token: name, role and pseudonymous floor-walker id")
async def get_me(principal: Anyone) -> dict[str, str]:
    return {"name": principal.name, "role": principal.role.value, "walker_id": walker_id_for(principal.name)}
