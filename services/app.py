"""The FastAPI application: ingest API, console gateway (REST + WebSocket), static console."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from hypercare.observability import metrics
from hypercare.observability.readiness import broker_problem, database_problem
from hypercare.org.registry import load_org
from hypercare.rules.file import load_rules_file
from hypercare.settings import Settings, get_settings
from hypercare.storage.db import Database
from hypercare.topics import ensure_topics
from services.alerts.router import router as alerts_router
from services.alerts.service import AlertService
from services.auth.tokens import TokenCache
from services.console_api import router as console_api_router
from services.decisions.router import router as decisions_router
from services.duties.config import load_duties
from services.duties.router import router as duties_router
from services.gateway.hub import SituationHub
from services.gateway.router import router as gateway_router
from services.gateway.situation_store import SituationStore
from services.ingest.producer import EventProducer
from services.ingest.router import router as ingest_router
from services.reports.context import ReportContext
from services.reports.router import router as reports_router
from services.risks.router import router as risks_router
from services.stop_criteria.router import router as stop_criteria_router
from services.supervision import Supervisor

log = logging.getLogger(__name__)

CONSOLE_DIR = Path(__file__).resolve().parent.parent / "console"


def create_app(settings: Settings | None = None) -> FastAPI:
    """The app with every runtime object built once, here: a bad org, rules or duties file refuses to start.

    Routes reach these objects only through the aliases of :mod:`services.dependencies`.
    """
    settings = settings or get_settings()
    org = load_org(settings.org_file)
    rules_file = load_rules_file(settings.rules_file)  # read once; a typo in the rules file stops the start here
    rules, alert_rules = rules_file.health, rules_file.alerts
    stop_criteria = rules_file.stop_criteria
    duties = load_duties(settings.duties_file)
    report_context = ReportContext(
        org=org,
        zone=settings.zone,
        criteria=stop_criteria,
        duties=duties,
        alert_rules=alert_rules,
        presence_minutes=settings.floorwalker_presence_minutes,
    )
    supervisor = Supervisor(cap=settings.task_restart_backoff_max)  # restarts the long-running tasks below

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await ensure_topics(settings)
        db = Database.from_url(settings.effective_database_url)
        producer = EventProducer(settings)
        await producer.start()
        store = SituationStore(settings)
        await store.start(supervisor=supervisor)
        hub = SituationHub(store=store, org=org, rules=rules, settings=settings)
        await hub.start(supervisor=supervisor)
        alert_service = AlertService(db=db, hub=hub, rules=alert_rules, settings=settings, ready=store.caught_up)
        await alert_service.start(supervisor=supervisor)
        app.state.db = db
        app.state.token_cache = TokenCache(ttl=settings.token_cache_seconds)
        app.state.producer = producer
        app.state.store = store
        app.state.hub = hub
        app.state.alert_service = alert_service
        try:
            yield
        finally:
            await alert_service.stop()
            await hub.stop()
            await store.stop()
            await producer.stop()
            await db.close()

    app = FastAPI(
        title="Hypercare",
        version="0.1.0",
        summary="Live situation picture for an EHR go-live",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.supervisor = supervisor
    app.state.org = org
    app.state.rules = rules
    app.state.alert_rules = alert_rules
    app.state.stop_criteria = stop_criteria
    app.state.duties = duties
    app.state.report_context = report_context
    app.include_router(ingest_router)
    app.include_router(gateway_router)
    app.include_router(console_api_router)
    app.include_router(decisions_router)
    app.include_router(risks_router)
    app.include_router(duties_router)
    app.include_router(alerts_router)
    app.include_router(stop_criteria_router)
    app.include_router(reports_router)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        """The process is alive (liveness)."""
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        """Broker and database answer (readiness): a load balancer sends traffic only then."""
        problems = {
            name: problem
            for name, problem in (
                ("broker", await broker_problem(settings.bootstrap)),
                ("database", await database_problem(app.state.db.engine)),
                *supervisor.problems().items(),  # a task failing (restarting with backoff) or dead
            )
            if problem
        }
        if problems:
            return JSONResponse({"status": "unready", "problems": problems}, status_code=503)
        return JSONResponse({"status": "ready"})

    @app.get("/metrics", include_in_schema=False)
    async def prometheus_metrics() -> Response:
        return Response(generate_latest(metrics.API_REGISTRY), media_type=CONTENT_TYPE_LATEST)

    if (CONSOLE_DIR / "index.html").exists():
        app.mount("/console", StaticFiles(directory=CONSOLE_DIR, html=True), name="console")

        @app.get("/", include_in_schema=False)
        async def root() -> RedirectResponse:
            return RedirectResponse("/console/")

    return app
