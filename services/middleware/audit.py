"""One audit row per write (POST, PUT, PATCH, DELETE), sign-in (``POST /api/v1/sign-in``, the console's token
sign-in; the OIDC callback writes its own) and sign-out, every 401 and 403, and every refused WebSocket, written
after the response (``services.audit``). ``GET /api/v1/me``, read on every console load, is not a sign-in.

Outermost of the API's middleware, so it also sees the rate limiter's and the body limits' refusals. It
records the route's template as the action (``POST /api/v1/events``), the path as the object (never the query
string, which may carry a WebSocket token), the status and its outcome; never a header, a body or a token.
Every request gets an ``X-Request-ID`` (the client's, when it sent a plain one) in the answer and the row.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hypercare.observability import metrics
from services.audit.service import SCOPE_KEY, AuditNote, audit_row, request_id_of, sink_of

log = logging.getLogger(__name__)

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Routes whose action has a name of its own: the console's token sign-in and sign-out.
NAMED_ACTIONS = {("POST", "/api/v1/sign-in"): "sign_in", ("POST", "/api/v1/sign-out"): "sign_out"}
INGEST_PATH = "/api/v1/events"
WS_POLICY_VIOLATION = 1008
WS_TRY_AGAIN_LATER = 1013


def _outcome(status: int, note: AuditNote) -> str:
    if status == 401:
        return "unauthenticated"
    if status == 403:
        return "forbidden"
    if note.accepted is not None and note.rejected:
        return "rejected" if note.accepted == 0 else "partial"
    if status < 400:
        return "success"
    return "refused" if status < 500 else "error"


def _template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else str(scope.get("path", ""))


class AuditMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        note = AuditNote(request_id=request_id_of(headers.get(b"x-request-id")))
        scope[SCOPE_KEY] = note
        if scope["type"] == "websocket":
            await self._websocket(scope, receive, send, note)
            return
        status: int | None = None

        async def send_noting(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message = {
                    **message,
                    "headers": [*message.get("headers", []), (b"x-request-id", note.request_id.encode())],
                }
            await send(message)

        try:
            await self.app(scope, receive, send_noting)
        except Exception:
            self._record_http(scope, note, status or 500)
            raise
        self._record_http(scope, note, status or 500)

    def _record_http(self, scope: Scope, note: AuditNote, status: int) -> None:
        method = str(scope.get("method", "GET")).upper()
        template = _template(scope)
        named = NAMED_ACTIONS.get((method, template))
        if method not in WRITE_METHODS and status not in (401, 403) and named is None:
            return
        outcome = _outcome(status, note)
        if outcome in ("unauthenticated", "forbidden"):
            metrics.AUTH_FAILURES.labels(channel="http", outcome=outcome).inc()
        self._record(scope, note, action=named or f"{method} {template}", outcome=outcome, status=status)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send, note: AuditNote) -> None:
        accepted = False
        refusal: dict[str, Any] | None = None

        async def send_noting(message: Message) -> None:
            nonlocal accepted, refusal
            kind = message["type"]
            if kind == "websocket.accept":
                accepted = True
            elif kind == "websocket.close":
                code = int(message.get("code", 1000))
                if not accepted or code in (WS_POLICY_VIOLATION, WS_TRY_AGAIN_LATER):
                    refusal = {"code": code}
            elif kind == "websocket.http.response.start" and refusal is None:
                refusal = {"code": int(message["status"])}
            await send(message)

        try:
            await self.app(scope, receive, send_noting)
        finally:
            if refusal is not None:
                code = refusal["code"]
                if code in (WS_POLICY_VIOLATION, 401, 403):
                    outcome = "forbidden" if note.principal is not None else "unauthenticated"
                    metrics.AUTH_FAILURES.labels(channel="websocket", outcome=outcome).inc()
                else:
                    outcome = "refused"
                self._record(scope, note, action=f"WS {_template(scope)}", outcome=outcome, status=code)

    @staticmethod
    def _record(scope: Scope, note: AuditNote, *, action: str, outcome: str, status: int) -> None:
        sink = sink_of(scope)
        if sink is None:
            return
        try:
            sink.record(audit_row(scope=scope, note=note, action=action, outcome=outcome, status=status))
        except Exception as error:  # the audit log must never fail a request
            metrics.AUDIT_DROPPED.inc()
            log.error("an audit-log row could not be queued (%s)", type(error).__name__)
