"""The FastAPI application: ingest API, console gateway (REST + WebSocket), static console."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request, Response, WebSocket
from fastapi.responses import JSONResponse, RedirectResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import HTTPConnection

from hypercare.collector import freeze_what_start_built, tune_collector
from hypercare.observability import metrics
from hypercare.observability.logging import install as install_log_scrubber
from hypercare.observability.readiness import broker_problem, database_problem
from hypercare.org.registry import load_org
from hypercare.rules.file import load_rules_file
from hypercare.settings import Settings, get_settings
from hypercare.sources.config import load_translators
from hypercare.storage.db import Database
from hypercare.storage.errors import classify
from hypercare.storage.errors import describe as describe_db_error
from hypercare.topics import ensure_topics
from services.alerts import service as alert_service_module
from services.alerts.ownership import AlertOwnership
from services.alerts.router import router as alerts_router
from services.alerts.service import AlertService
from services.audit.router import router as audit_router
from services.audit.service import AuditSink
from services.auth import revocations as revocations_module
from services.auth.oidc import OidcSignIn
from services.auth.oidc import router as oidc_router
from services.auth.revocations import RevocationWatch
from services.auth.session import SessionCache
from services.auth.tokens import TokenCache
from services.console_api import router as console_api_router
from services.console_files import ConsoleStaticFiles
from services.decisions.router import router as decisions_router
from services.duties.config import load_duties
from services.duties.router import router as duties_router
from services.gateway import hub as hub_module
from services.gateway import situation_store as situation_store_module
from services.gateway.hub import SituationHub
from services.gateway.router import router as gateway_router
from services.gateway.situation_store import SituationStore
from services.ingest.producer import EventProducer
from services.ingest.quarantine_sink import QuarantineSink
from services.ingest.router import router as ingest_router
from services.middleware.audit import AuditMiddleware
from services.middleware.limits import BodyLimitMiddleware
from services.middleware.process import ProcessHeaderMiddleware
from services.middleware.ratelimit import Budgets, RateLimitMiddleware
from services.middleware.security_headers import install_security_headers
from services.notifications import runtime as notifications_runtime
from services.notifications.config import load_notifications
from services.notifications.runtime import Dispatcher
from services.readiness.router import router as readiness_router
from services.reports.context import ReportContext
from services.reports.router import router as reports_router
from services.risks.router import router as risks_router
from services.sources.router import router as sources_router
from services.stop_criteria.router import router as stop_criteria_router
from services.supervision import Supervisor
from services.tokens.router import router as tokens_router
from services.wave_exit.router import router as wave_exit_router
from services.waves.router import router as waves_router

log = logging.getLogger(__name__)

LIVE_TASKS = frozenset({hub_module.TASK, situation_store_module.TASK})
RECORD_TASKS = frozenset({alert_service_module.TASK, notifications_runtime.TASK, revocations_module.TASK})

# Responses of at least 1 KiB are gzipped for clients that accept it (the whole picture of 2,000 units: 3.5 MB of
# JSON, 78 KB at level 6 in 16 ms of CPU; level 9 saves another 12 % for 40 % more time). Bodies from 128 KiB on
# are compressed in a worker thread (Starlette's default), so a large picture does not stall the event loop.
GZIP_MINIMUM_BYTES = 1024
GZIP_LEVEL = 6
CONSOLE_DIR = Path(__file__).resolve().parent.parent / "console"

# A readiness check answers None when fine, else the problem (shown in /readyz's "problems").
ReadinessCheck = Callable[[], Awaitable[str | None]]


async def _run_checks(checks: dict[str, ReadinessCheck]) -> JSONResponse:
    problems = {name: problem for name, check in checks.items() if (problem := await check())}
    if problems:
        return JSONResponse({"status": "unready", "problems": problems}, status_code=503)
    return JSONResponse({"status": "ready"})


async def _out_of_range(request: Request, error: Exception) -> Response:
    """422 for a request value that overflows on the way (a date at the edge of the calendar minus a window, a
    number beyond what SQLite binds): the request's fault, not the server's."""
    metrics.HTTP_REFUSED.labels(reason="value_refused").inc()
    log.info("422 for %s: a value overflowed (%s)", request.url.path, type(error).__name__)
    return JSONResponse({"detail": f"a value in this request is out of range ({error})"}, status_code=422)


def _database_errors(settings: Settings) -> Callable[[Request, Exception], Awaitable[Response]]:
    """503 + Retry-After for a transient database error (an outage); 422 for a value of the request the
    database cannot take (a data exception, such as an id beyond its integer column); anything else stays a 500.

    The log line names the error's class and SQLSTATE only, never its message (it may quote a value).
    """

    async def handler(request: Request, error: Exception) -> Response:
        kind = classify(error)
        if kind == "permanent" and not isinstance(error, IntegrityError):
            metrics.HTTP_REFUSED.labels(reason="value_refused").inc()
            log.info(
                "422 for %s: the database refused a value (%s)",
                request.url.path,
                describe_db_error(error, message=False),
            )
            return JSONResponse(
                {"detail": "a value in this request is out of the range or form the database can store or compare"},
                status_code=422,
            )
        if kind != "transient":
            raise error
        metrics.HTTP_REFUSED.labels(reason="database_unavailable").inc()
        log.warning("503 for %s: database unavailable (%s)", request.url.path, describe_db_error(error, message=False))
        connection: HTTPConnection = request  # Starlette passes the WebSocket for a WebSocket route
        if isinstance(connection, WebSocket):
            await connection.close(code=1013, reason="the database is unreachable; try again later")
        return JSONResponse(
            {"detail": "the database is unreachable; try again shortly"},
            status_code=503,
            headers={"Retry-After": str(settings.database_retry_after_seconds)},
        )

    return handler


def serve_app() -> FastAPI:
    """The app as ``hypercare api`` serves it (uvicorn's factory, in every API process): settings from the
    environment, the garbage collector tuned for a long-running process (``hypercare.collector``)."""
    tune_collector()
    app = create_app()
    freeze_what_start_built()
    return app


def create_app(settings: Settings | None = None) -> FastAPI:
    """The app with every runtime object built once, here: a bad org, rules or duties file refuses to start.

    Routes reach these objects only through the aliases of :mod:`services.dependencies`.
    """
    settings = settings or get_settings()
    install_log_scrubber()  # also when served by another runner than `hypercare api` (uvicorn --factory)
    org = load_org(settings.org_file).with_go_live(settings.go_live_at)
    rules_file = load_rules_file(settings.rules_file)  # read once; a typo in the rules file stops the start here
    rules, alert_rules = rules_file.health, rules_file.alerts
    stop_criteria = rules_file.stop_criteria
    duties = load_duties(settings.duties_file)
    notifications = load_notifications(settings, org)  # a bad notifications file (or a missing secret) stops here
    report_context = ReportContext(
        org=org,
        zone=settings.zone,
        criteria=stop_criteria,
        duties=duties,
        alert_rules=alert_rules,
        presence_minutes=settings.floorwalker_presence_minutes,
    )
    supervisor = Supervisor(cap=settings.task_restart_backoff_max)  # restarts the long-running tasks below
    oidc = OidcSignIn.from_settings(settings)  # None without an issuer; a bad claims file refuses the start
    # The source mappings and unit tables; a mistake (or pseudonymised fields without HYPERCARE_PSEUDONYM_KEY)
    # refuses the start.
    sources = load_translators(
        settings, known_units=frozenset(org.placements) if settings.unknown_units == "reject" else None
    )

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
        dispatcher = Dispatcher(db, notifications, settings)  # delivers the outbox's rows, in every process
        dispatcher.start(supervisor=supervisor)
        alert_service = AlertService(
            db=db,
            hub=hub,
            rules=alert_rules,
            settings=settings,
            ready=store.caught_up,
            outbox=dispatcher.outbox(),
            ownership=AlertOwnership(db),  # one process of N evaluates and writes alerts
        )
        await alert_service.start(supervisor=supervisor)
        quarantine_sink = QuarantineSink(db)
        await quarantine_sink.start()
        app.state.audit_sink = audit_sink = AuditSink(db)
        await audit_sink.start()
        app.state.db = db
        app.state.token_cache = token_cache = TokenCache(
            ttl=settings.token_cache_seconds, outage_grace=settings.token_outage_grace_seconds
        )
        revocation_watch = RevocationWatch(db, token_cache)  # revocations made through other processes
        await revocation_watch.start(supervisor=supervisor)
        app.state.producer = producer
        app.state.store = store
        app.state.hub = hub
        app.state.alert_service = alert_service
        app.state.dispatcher = dispatcher
        app.state.quarantine_sink = quarantine_sink
        try:
            yield
        finally:
            await revocation_watch.stop()
            await alert_service.stop()
            await dispatcher.stop()
            await hub.stop()
            await store.stop()
            await quarantine_sink.stop()
            await audit_sink.stop()
            await producer.stop()
            await db.close()

    app = FastAPI(
        title="Hypercare",
        version="0.1.0",
        summary="Live situation picture for an EHR go-live",
        lifespan=lifespan,
        # No /docs or /redoc: FastAPI's pages load Swagger UI and ReDoc from a CDN at run time, which neither
        # the guide ("no CDN at run time") nor the CSP allows. The schema stays at /openapi.json.
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.supervisor = supervisor
    app.state.org = org
    app.state.rules = rules
    app.state.alert_rules = alert_rules
    app.state.stop_criteria = stop_criteria
    app.state.readiness = rules_file.readiness
    app.state.exit_criteria = rules_file.exit_criteria
    app.state.duties = duties
    app.state.notifications = notifications
    app.state.report_context = report_context
    app.state.oidc = oidc
    app.state.sources = sources
    app.state.session_cache = SessionCache(ttl=settings.token_cache_seconds)
    install_security_headers(app, public_url=settings.public_url)  # around everything, a 500 included
    # Outermost first: the audit log, the rate limit (429), then the body limits (413, 422), then compression of
    # large responses (closest to the routes: WebSockets pass through it untouched), then the routes.
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM_BYTES, compresslevel=GZIP_LEVEL)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes, max_depth=settings.max_json_depth)
    app.add_middleware(RateLimitMiddleware, budgets=Budgets.from_settings(settings))
    app.add_middleware(AuditMiddleware)  # audits the limits' refusals too
    app.add_middleware(ProcessHeaderMiddleware)  # outermost: names the answering process (--workers N)
    database_errors = _database_errors(settings)
    app.add_exception_handler(SQLAlchemyError, database_errors)
    app.add_exception_handler(OSError, database_errors)  # ConnectionError, TimeoutError, the token store's
    app.add_exception_handler(OverflowError, _out_of_range)
    app.include_router(ingest_router)
    app.include_router(sources_router)
    app.include_router(gateway_router)
    app.include_router(console_api_router)
    app.include_router(decisions_router)
    app.include_router(risks_router)
    app.include_router(duties_router)
    app.include_router(alerts_router)
    app.include_router(stop_criteria_router)
    app.include_router(waves_router)
    app.include_router(wave_exit_router)
    app.include_router(readiness_router)
    app.include_router(reports_router)
    app.include_router(oidc_router)
    app.include_router(tokens_router)
    app.include_router(audit_router)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        """The process is alive (liveness)."""
        return {"status": "ok"}

    async def broker_check() -> str | None:
        return await broker_problem(settings.bootstrap)

    async def situation_check() -> str | None:
        store: SituationStore | None = getattr(app.state, "store", None)
        if store is None:
            return "the situation store has not started"
        if not store.caught_up.is_set():
            return "the situation store is still reading the situation topic"
        return None

    async def database_check() -> str | None:
        db: Database | None = getattr(app.state, "db", None)
        return "no database configured yet" if db is None else await database_problem(db.engine)

    # /readyz is the live picture's readiness: what the WebSocket, the situation reads and ingest need.
    # The database is not in it: an outage must not pull every replica out of the load balancer (reads
    # of the live picture and ingest go on; database-backed routes answer 503 meanwhile). Add further
    # live checks here by name.
    def tasks_check(names: frozenset[str]) -> ReadinessCheck:
        """Supervised tasks among ``names`` that are failing (restarting with backoff) or dead."""

        async def check() -> str | None:
            failing = {name: problem for name, problem in supervisor.problems().items() if name in names}
            return "; ".join(f"{name}: {problem}" for name, problem in sorted(failing.items())) or None

        return check

    # The live picture's tasks make /readyz; the alert tasks need the database, so a database outage (which
    # makes them back off) shows under /readyz/records and never takes the live picture down.
    live_checks: dict[str, ReadinessCheck] = {
        "broker": broker_check,
        "situation": situation_check,
        "tasks": tasks_check(LIVE_TASKS),
    }
    record_checks: dict[str, ReadinessCheck] = {"database": database_check, "tasks": tasks_check(RECORD_TASKS)}
    app.state.live_checks = live_checks
    app.state.record_checks = record_checks

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        """The live picture is ready: the broker answers and the situation store has caught up."""
        return await _run_checks(live_checks)

    @app.get("/readyz/records", include_in_schema=False)
    async def readyz_records() -> JSONResponse:
        """The records are reachable: the database answers (decisions, reports, alerts, history, tokens)."""
        return await _run_checks(record_checks)

    @app.get("/metrics", include_in_schema=False)
    async def prometheus_metrics() -> Response:
        return Response(generate_latest(metrics.API_REGISTRY), media_type=CONTENT_TYPE_LATEST)

    if (CONSOLE_DIR / "index.html").exists():
        app.mount("/console", ConsoleStaticFiles(directory=CONSOLE_DIR, html=True), name="console")

        @app.get("/", include_in_schema=False)
        async def root() -> RedirectResponse:
            return RedirectResponse("/console/")

    return app
