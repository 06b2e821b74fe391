"""Per-token request budgets (the ``limits`` package), before auth and body parsing: 429 with ``Retry-After``.

Four budgets, each in ``limits`` notation (``HYPERCARE_RATE_LIMIT_INGEST``, ``…_READS``, ``…_RENDERS``,
``…_SIGN_IN``): ``ingest`` is ``POST /api/v1/events`` and a source's ``POST /api/v1/sources/{source}/records``;
``renders`` are the expensive answers (the daily report, which may be a preview computed on request, a stored
report as HTML, PDF or Markdown, taking or refreshing a report snapshot, the decision log as CSV); ``reads`` is
every other ``/api/`` call, writes included;
``sign_in`` is the identity provider's routes under ``/auth/`` (login, callback, logout), which anyone may call
without a credential and each of which writes a row or calls the provider, so they are always counted per
client address. Probes, metrics, the console's files and the OpenAPI document are not counted.

A budget belongs to the token's principal (its name): every token with that name shares it. The principal
is known here without a database query once the token has been verified in this process (the token
cache remembers it); a token not verified yet, a bad token and a request without one are counted against
the client address. Counts are kept in memory per process, so each API replica keeps its own (a client
spread over N replicas by a load balancer gets up to N times the budget). The window is a moving one (each
hit's time is kept until it is a window old): "1/minute" means one in any 60 s, also across a clock minute,
which the cheaper sliding-window counter only approximates.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs

from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter
from starlette.types import ASGIApp, Receive, Scope, Send

from hypercare.observability import metrics
from hypercare.settings import Settings
from services.auth.tokens import TokenCache
from services.middleware.limits import send_json

BUDGETS = ("ingest", "reads", "renders", "sign_in")
_STORED_REPORT = re.compile(r"^/api/v1/reports/\d+$")
_REFRESH_REPORT = re.compile(r"^/api/v1/reports/\d+/refresh$")
_SOURCE_RECORDS = re.compile(r"^/api/v1/sources/[^/]+/records$")

# Token text → the principal's name, when this process has verified the token (None otherwise).
KnownPrincipal = Callable[[Scope, str], str | None]


def budget_for(method: str, path: str, query: str) -> str | None:
    """Which budget a request counts against; None for what is not counted (probes, console files, docs)."""
    path = path.rstrip("/") or "/"
    if path.startswith("/auth/"):
        return "sign_in"
    if not path.startswith("/api/"):
        return None
    if method == "POST" and (path == "/api/v1/events" or _SOURCE_RECORDS.match(path)):
        return "ingest"
    if method == "GET" and path == "/api/v1/reports/daily":
        return "renders"
    if method == "POST" and (path == "/api/v1/reports" or _REFRESH_REPORT.match(path)):
        return "renders"
    if method == "GET" and (_STORED_REPORT.match(path) or path == "/api/v1/decisions"):
        formats = parse_qs(query).get("format", [])
        if any(value not in ("", "json") for value in formats):
            return "renders"
    return "reads"


@dataclass(frozen=True)
class Budgets:
    limits: dict[str, list[RateLimitItem]]

    @classmethod
    def from_settings(cls, settings: Settings) -> Budgets:
        notation = {
            "ingest": settings.rate_limit_ingest,
            "reads": settings.rate_limit_reads,
            "renders": settings.rate_limit_renders,
            "sign_in": settings.rate_limit_sign_in,
        }
        return cls({name: parse_many(text) if text else [] for name, text in notation.items()})


def bearer_token(scope: Scope) -> str | None:
    headers: list[tuple[bytes, bytes]] = scope.get("headers", [])
    for name, value in headers:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").strip().partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                return None
            return token.strip()
    return None


def _known_principal(scope: Scope, token: str) -> str | None:
    """The principal's name from the app's token cache (``app.state.token_cache``), if it knows the token."""
    app = scope.get("app")
    cache = getattr(getattr(app, "state", None), "token_cache", None)
    if not isinstance(cache, TokenCache):
        return None
    return cache.known_principal(token)


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, *, budgets: Budgets, known_principal: KnownPrincipal = _known_principal) -> None:
        self.app = app
        self.budgets = budgets
        self._known_principal = known_principal
        self._storage = MemoryStorage()
        self._limiter = MovingWindowRateLimiter(self._storage)

    def key(self, scope: Scope, budget: str) -> str:
        token = bearer_token(scope) if budget != "sign_in" else None
        name = self._known_principal(scope, token) if token else None
        if name is not None:
            return f"principal:{name}"
        client = scope.get("client")
        return f"address:{client[0] if client else 'unknown'}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        budget = budget_for(scope["method"], scope["path"], scope.get("query_string", b"").decode("latin-1"))
        items = self.budgets.limits.get(budget, []) if budget else []
        if items:
            assert budget is not None
            key = self.key(scope, budget)
            for item in items:
                if not await self._limiter.hit(item, budget, key):
                    stats = await self._limiter.get_window_stats(item, budget, key)
                    retry_after = max(1, math.ceil(stats.reset_time - time.time()))
                    metrics.HTTP_REFUSED.labels(reason=f"rate_limited_{budget}").inc()
                    await send_json(
                        send,
                        429,
                        f"rate limit of {item} for {budget} exceeded; retry in {retry_after} s",
                        {"Retry-After": str(retry_after)},
                    )
                    return
        await self.app(scope, receive, send)
