"""FastAPI authentication: ``Authorization: Bearer <token>`` for HTTP, ``?token=`` for the WebSocket; and, when
sign-in with an OpenID provider is configured, the console's session cookie (:mod:`services.auth.session`): a
cookie-authenticated write needs ``Origin`` and the CSRF token, a cookie-authenticated WebSocket ``Origin``.
A request with an ``Authorization`` header is judged by its token alone.

Every role alias a router uses (``Reader``, ``Decider``, ``Admin``, ...) is declared here and nowhere else.
The app keeps ``app.state.db`` (Database) and ``app.state.token_cache`` (TokenCache).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, Security, WebSocket, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.datastructures import State
from starlette.requests import HTTPConnection

from hypercare.storage.db import Database
from services.audit.service import note_principal
from services.auth import session as sessions
from services.auth.roles import (
    ADMIN,
    ANY_ROLE,
    DECIDE,
    INGEST,
    KNOWN_ISSUES,
    READ_SITUATION,
    SOURCE_RECORDS,
    Role,
    describe,
)
from services.auth.tokens import Principal, TokenCache, verify_token

# Declared for the OpenAPI document ("Authorize" button); the header is parsed below for clearer errors.
bearer_scheme = HTTPBearer(auto_error=False, description="A Hypercare API token: `hypercare token issue`")

WS_POLICY_VIOLATION = 1008


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail=detail, headers={"WWW-Authenticate": "Bearer"})


def bearer_token(header: str | None) -> str:
    """The token of an ``Authorization`` header; 401 when it is missing or not ``Bearer <token>``."""
    if header is None or not header.strip():
        raise _unauthorized("missing Authorization header; send 'Authorization: Bearer <token>'")
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        raise _unauthorized("malformed Authorization header; expected 'Authorization: Bearer <token>'")
    return token


async def principal_for(state: State, token: str) -> Principal | None:
    db: Database = state.db
    cache: TokenCache | None = getattr(state, "token_cache", None)
    return await verify_token(db, token=token, cache=cache)


def _forbidden(principal: Principal, roles: frozenset[Role], action: str) -> HTTPException:
    return HTTPException(
        status.HTTP_403_FORBIDDEN,
        detail=f"role '{principal.role.value}' may not {action}; this needs one of: {describe(roles)}",
    )


def _session_auth(connection: HTTPConnection) -> tuple[str, str] | None:
    """``(session id, public origin)`` when OIDC sign-in is configured and the request carries a session cookie."""
    oidc = getattr(connection.app.state, "oidc", None)
    if oidc is None:
        return None
    session_id = sessions.cookie_value(connection, sessions.SESSION_COOKIE)
    return (session_id, oidc.origin) if session_id else None


async def session_principal(connection: HTTPConnection, session_id: str) -> sessions.SessionRecord | None:
    state = connection.app.state
    cache: sessions.SessionCache | None = getattr(state, "session_cache", None)
    return await sessions.find_session(state.db, session_id, cache)


async def _principal_of(request: Request) -> Principal:
    """The caller: by bearer token when there is an Authorization header, else by session cookie; 401 otherwise."""
    header = request.headers.get("authorization")
    cookie = _session_auth(request) if header is None else None
    if cookie is None:
        token = bearer_token(header)
        principal = await principal_for(request.app.state, token)
        if principal is None:
            raise _unauthorized("unknown or revoked token")
        return principal
    session_id, origin = cookie
    record = await session_principal(request, session_id)
    if record is None:
        raise _unauthorized("the session has ended or expired; sign in again")
    if request.method not in sessions.SAFE_METHODS:
        problem = sessions.csrf_problem(request, record, origin=origin)
        if problem is not None:
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail=problem)
    return record.principal


def require(
    roles: frozenset[Role], *, action: str = "do this", region: bool = False
) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """A dependency that returns the caller's :class:`Principal` when its role is in ``roles`` (and, with
    ``region``, when it acts for the whole region: region-wide decisions refuse a token scoped below it)."""

    async def dependency(
        request: Request,
        _credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)],
    ) -> Principal:
        principal = await _principal_of(request)
        note_principal(request.scope, principal)  # for the request's audit row
        if principal.role not in roles:
            raise _forbidden(principal, roles, action)
        if region and principal.scope is not None and principal.scope != request.app.state.org.region.id:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail=f"this token is scoped to {principal.scope!r} and may not {action}: that needs the whole region",
            )
        return principal

    return dependency


Reader = Annotated[Principal, Depends(require(READ_SITUATION, action="read the situation picture"))]
Ingester = Annotated[Principal, Depends(require(INGEST, action="submit events"))]
Decider = Annotated[Principal, Depends(require(DECIDE, action="take decisions"))]
SourcePoster = Annotated[Principal, Depends(require(SOURCE_RECORDS, action="post a source system's records"))]
# Tokens, the audit log and the quarantine are the whole region's: an admin scoped below it may not issue a
# region-wide token (or read every principal's actions), so administering needs a region-scoped admin.
Admin = Annotated[Principal, Depends(require(ADMIN, action="administer Hypercare", region=True))]
Anyone = Annotated[Principal, Depends(require(ANY_ROLE, action="use the API"))]
# The same roles as Decider; the action in the 403 message names what was refused.
AlertHandler = Annotated[Principal, Depends(require(DECIDE, action="acknowledge or assign alerts"))]
# The situation report is the region's document: a scoped principal reads it cut to its scope (the region's
# totals and its subtree's rows: services.reports.scope), but only a region-scoped one makes or releases it.
ReportReader = Annotated[Principal, Depends(require(READ_SITUATION, action="read situation reports"))]
ReportMaker = Annotated[
    Principal, Depends(require(DECIDE, action="create, approve or publish situation reports", region=True))
]
# Go/no-go decisions on the roll-out are the region's: a token scoped below the region may not take them.
RolloutDecider = Annotated[Principal, Depends(require(DECIDE, action="take go/no-go decisions", region=True))]
KnownIssueEditor = Annotated[Principal, Depends(require(KNOWN_ISSUES, action="manage known issues"))]


async def authenticate_websocket(websocket: WebSocket, token: str | None) -> Principal | None:
    """The reader behind ``token`` (or, without one, the session cookie, its Origin checked); otherwise closes the
    socket (1008, with the reason) and returns None."""
    reason: str
    cookie = _session_auth(websocket) if not token else None
    if cookie is not None:
        session_id, origin = cookie
        record = await session_principal(websocket, session_id)
        sent_origin = (websocket.headers.get("origin") or "").lower()
        if sent_origin != origin:
            reason = "cross-site WebSocket refused: the Origin header must be this console's origin"
        elif record is None:
            reason = "the session has ended or expired; sign in again"
        elif record.role not in READ_SITUATION:
            reason = f"role '{record.role.value}' may not read the situation picture"
        else:
            return record.principal
    elif not token:
        reason = 'missing token; connect with ?token=<token> or send {"token": "..."} first'
    else:
        principal = await principal_for(websocket.app.state, token)
        if principal is not None:
            note_principal(websocket.scope, principal)
        if principal is None:
            reason = "unknown or revoked token"
        elif principal.role not in READ_SITUATION:
            reason = f"role '{principal.role.value}' may not read the situation picture"
        else:
            return principal
    await websocket.close(code=WS_POLICY_VIOLATION, reason=reason)
    return None
