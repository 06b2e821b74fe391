"""Console API: the read and write endpoints the web console needs beyond the situation picture.

One module per concern; :data:`router` bundles them for ``services.app``.
"""

from __future__ import annotations

from fastapi import APIRouter

from services.console_api.known_issues import router as known_issues_router
from services.console_api.me import router as me_router
from services.console_api.tickets import router as tickets_router
from services.console_api.trends import router as trends_router
from services.console_api.unit_events import router as unit_events_router

router = APIRouter()
for _sub in (me_router, trends_router, tickets_router, unit_events_router, known_issues_router):
    router.include_router(_sub)

__all__ = ["router"]
