"""``GET /api/v1/duties``: reporting duties with time left; opened and fulfilled as events (chief, admin)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from services.auth.dependencies import Reader
from services.dependencies import DatabaseDep, DutiesDep
from services.duties.register import duties_at

router = APIRouter(prefix="/api/v1", tags=["duties"])


@router.get("/duties", summary="Reporting duties (lex Maria, IMY, MSB, Läkemedelsverket) with deadlines and time left")
async def get_duties(
    _: Reader,
    db: DatabaseDep,
    config: DutiesDep,
    state: Annotated[Literal["open", "fulfilled", "all"], Query(alias="status")] = "all",
) -> dict[str, Any]:
    duties = await duties_at(db, config, datetime.now(UTC))
    if state != "all":
        duties = [d for d in duties if d["status"] == state]
    return {
        "items": duties,
        "count": len(duties),
        "kinds": {key: kind.model_dump() for key, kind in config.duties.items()},
    }
