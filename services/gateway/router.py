"""Read side: ``GET /api/v1/situation``, ``GET /api/v1/units/{unit_id}``, ``WS /ws/situation``.

The WebSocket authenticates by its first message, ``{"type": "auth", "token": "<token>"}``: a token never
goes in a URL. ``?token=`` is still accepted for one release, with a deprecation warning (without the value).

The REST routes declare the read models of :mod:`hypercare.situation.views` (the OpenAPI document shows
them) but send the roll-up's dicts as built, encoded once by pydantic-core like FastAPI's own fast path:
no per-request validation of the whole picture, and a field added to the roll-up reaches clients even
before its model has it. The tests validate real responses against the models (which forbid unknown keys).
``GET /api/v1/situation`` carries a weak ``ETag`` and answers ``If-None-Match`` with 304 (see :func:`situation_etag`).
The WebSocket messages are :class:`~hypercare.situation.views.SnapshotMessage`,
:class:`~hypercare.situation.views.DeltaMessage` and :class:`~hypercare.situation.views.PongMessage`; after a
``subscribe`` (:mod:`services.gateway.subscriptions`), :class:`~hypercare.situation.views.SubscribedSnapshotMessage`,
:class:`~hypercare.situation.views.PatchDeltaMessage` and :class:`~hypercare.situation.views.SubscribedMessage`;
a refused subscription gets an :class:`~hypercare.situation.views.ErrorMessage` and changes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, WebSocket, WebSocketDisconnect, status
from fastapi.responses import Response
from pydantic_core import to_json

from hypercare.org.registry import hours_since_go_live
from hypercare.situation.views import Situation
from hypercare.storage.errors import classify
from services.auth import session as sessions
from services.auth.dependencies import (
    WS_POLICY_VIOLATION,
    Reader,
    authenticate_websocket,
    principal_for,
    session_principal,
)
from services.auth.scope import filter_situation
from services.auth.scope import refusal as scope_refusal
from services.auth.tokens import Principal
from services.dependencies import DatabaseDep, HubDep, ReadinessDep
from services.gateway.hub import GatewayFull, SituationHub
from services.gateway.subscriptions import Subscription, resolve
from services.readiness.schemas import UnitDetailWithReadiness
from services.readiness.service import unit_readiness_at

router = APIRouter(tags=["situation"])
log = logging.getLogger(__name__)

AUTH_WAIT_SECONDS = 5.0
# RFC 6455 7.4.1 / IANA: "Try Again Later" (the server is overloaded or a dependency is down).
WS_TRY_AGAIN_LATER = 1013
# Clients send small control messages ({"type": "auth", "token": ...} first, then {"type": "resync"},
# {"type": "subscribe", "scopes": [...]} and {"type": "ping"}); longer ones are ignored.
MAX_CLIENT_MESSAGE_CHARS = 8192
# How often an open WebSocket's token is checked again (a revocation here wakes the check at once): a revoked or
# expired token's connections close within this plus the token cache TTL of the process that did not revoke it.
REVERIFY_SECONDS = 2.0


class PictureResponse(Response):
    """JSON of a read-side dict as it is (see the module docstring)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return to_json(content)


def situation_etag(body: bytes, as_of: str, scope: str | None) -> str:
    """A weak validator of a situation body: the same whenever the figures, health and ``seq`` are.

    Every object of a picture carries the read moment in ``as_of``, so the bytes change with each read; the tag
    is taken over the body with those values blanked (in compact JSON the bytes ``"as_of":"…"`` can only be
    that member: a quote inside a string is escaped), hence weak (RFC 9110 8.8.1). The scope is part of it, so a
    scoped principal's tag is its own even where its cut looks like another's.
    """
    blanked = body.replace(b'"as_of":' + to_json(as_of), b'"as_of":""')
    digest = hashlib.blake2b(blanked, digest_size=16, person=b"hc-situation")
    digest.update(b"\0scope:" + (scope or "").encode())
    return f'W/"{digest.hexdigest()}"'


def _matches(if_none_match: str | None, etag: str) -> bool:
    """``If-None-Match`` by weak comparison: ``*`` or any listed tag with the same opaque value."""
    if not if_none_match:
        return False
    opaque = etag.removeprefix("W/")
    return any(tag.strip() == "*" or tag.strip().removeprefix("W/") == opaque for tag in if_none_match.split(","))


@router.get(
    "/api/v1/situation",
    response_model=Situation,
    summary="The whole situation picture: region, administrations, sites, units",
    responses={304: {"description": "Not modified since the picture whose ETag was sent in If-None-Match"}},
)
async def get_situation(
    principal: Reader,
    hub: HubDep,
    if_none_match: Annotated[
        str | None, Header(description="ETag(s) of a picture the client holds: 304 while it is still the same")
    ] = None,
) -> Response:
    """A scoped principal gets the region block plus its scope's subtree only."""
    situation = filter_situation(hub.org, principal.scope, hub.situation())
    body = to_json(situation)
    etag = situation_etag(body, situation["as_of"], principal.scope)
    headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
    if _matches(if_none_match, etag):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


@router.get(
    "/api/v1/units/{unit_id}",
    response_model=UnitDetailWithReadiness,
    summary="One unit's live figures and health, its wave, the hours since its go-live and its readiness",
    responses={
        403: {"description": "The unit lies outside the token's scope"},
        404: {"description": "Neither in the org registry nor seen in any event"},
    },
)
async def get_unit(unit_id: str, principal: Reader, hub: HubDep, db: DatabaseDep, checklist: ReadinessDep) -> Response:
    refused = scope_refusal(hub.org, principal.scope, unit_id, "read the unit")
    if refused is not None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, refused)
    unit = hub.unit(unit_id)
    if unit is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"unit {unit_id!r} is not in the org registry and has sent no events"
        )
    # Hours since go-live change with every moment: computed here, not in the picture (or every delta would carry
    # every unit). Measured to the unit's as_of, the moment its figures are for.
    as_of = datetime.fromisoformat(unit["as_of"])
    since = hours_since_go_live(unit.get("go_live_at"), as_of)
    readiness = await unit_readiness_at(db, hub.org, checklist, unit_id, at=as_of)
    return PictureResponse({**unit, "hours_since_go_live": since, "readiness": readiness})


def _control_message(text: str) -> dict[str, Any] | None:
    """A client's JSON object, or None for anything else (too long, not JSON, nested too deep, not an object)."""
    if len(text) > MAX_CLIENT_MESSAGE_CHARS:
        return None
    try:
        message = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return message if isinstance(message, dict) else None


async def _first_message(websocket: WebSocket) -> dict[str, Any]:
    """The client's first message (``auth`` with a token, or ``hello`` with a session cookie), or ``{}``."""
    with contextlib.suppress(asyncio.TimeoutError, ValueError, KeyError, WebSocketDisconnect):
        message = _control_message(await asyncio.wait_for(websocket.receive_text(), AUTH_WAIT_SECONDS))
        if message is not None:
            return message
    return {}


def _subscription(hub: SituationHub, principal: Principal, scopes: Any) -> tuple[Subscription | None, str | None]:
    """(the subscription asked for, None) or (None, why it is refused)."""
    try:
        return resolve(hub.org, principal.scope, scopes, known=hub.knows), None
    except ValueError as refused:
        return None, str(refused)


def _refusal(request: str, detail: str) -> dict[str, str]:
    """An error message on the socket: the request is refused, the connection stays as it was."""
    return {"type": "error", "request": request, "detail": detail}


async def _authenticate(websocket: WebSocket, token: str | None) -> Principal | None:
    """The reader, or None after closing: 1008 for a bad token, 1013 when the token store is unreachable."""
    try:
        return await authenticate_websocket(websocket, token)
    except Exception as error:
        if classify(error) != "transient":
            raise
        await websocket.close(code=WS_TRY_AGAIN_LATER, reason="the token store is unreachable; try again later")
        return None


async def _still_signed_in(websocket: WebSocket, token: str | None) -> bool:
    """The bearer token still verifies, or (without one) the console's session cookie still names a session."""
    if token is not None:
        return await principal_for(websocket.app.state, token) is not None
    session_id = sessions.cookie_value(websocket, sessions.SESSION_COOKIE)
    return session_id is not None and await session_principal(websocket, session_id) is not None


async def _token_withdrawn(websocket: WebSocket, token: str | None) -> str:
    """Returns (the close reason) once ``token`` (or the session) is revoked, expired or signed out: checked every
    :data:`REVERIFY_SECONDS` and at once when this process revokes a token (the token cache's signal). An
    unreachable token store does not close the connection (the outage grace decides, as for every request)."""
    cache = getattr(websocket.app.state, "token_cache", None)
    while True:
        with contextlib.suppress(asyncio.TimeoutError):
            if cache is None:
                await asyncio.sleep(REVERIFY_SECONDS)
            else:
                await asyncio.wait_for(cache.revocation.wait(), REVERIFY_SECONDS)
        try:
            if not await _still_signed_in(websocket, token):
                return "the token was revoked or has expired, or the session ended"
        except Exception as error:
            if classify(error) != "transient":
                raise


@router.websocket("/ws/situation")
async def situation_socket(websocket: WebSocket) -> None:
    hub = websocket.app.state.hub
    await websocket.accept()
    token = websocket.query_params.get("token")
    first: dict[str, Any] = {}
    if token:
        # Deprecated: a token in the URL ends up in access logs and proxies. Accepted for one more release.
        log.warning('deprecated: a WebSocket token in the URL (?token=); send {"type": "auth", "token": ...} first')
    else:
        first = await _first_message(websocket)
        token = str(first["token"]) if isinstance(first.get("token"), str) else None
    # Authenticated first: a connection counts against HYPERCARE_MAX_WEBSOCKETS only once it is a reader's.
    principal = await _authenticate(websocket, token)
    if principal is None:
        return  # closed with the reason
    subscription, refused = (None, None) if "scopes" not in first else _subscription(hub, principal, first["scopes"])
    try:
        client = hub.connect(websocket.send_text, scope=principal.scope, subscription=subscription)
    except GatewayFull as full:
        await websocket.close(code=WS_TRY_AGAIN_LATER, reason=f"{full}; try again later")
        return
    if refused is not None:
        await websocket.send_json(_refusal("subscribe", refused))
    sender = asyncio.create_task(client.run())
    watcher = asyncio.create_task(_token_withdrawn(websocket, token))
    try:
        while not client.closed.is_set():
            receive = asyncio.create_task(websocket.receive_text())
            done, _ = await asyncio.wait({receive, sender, watcher}, return_when=asyncio.FIRST_COMPLETED)
            if receive not in done:
                receive.cancel()
                if watcher in done and not watcher.cancelled() and watcher.exception() is None:
                    with contextlib.suppress(Exception):
                        await websocket.close(code=WS_POLICY_VIOLATION, reason=watcher.result())
                break
            try:
                text = receive.result()
            except KeyError:  # a binary frame: not one of ours
                continue
            message = _control_message(text)
            if message is None:
                continue
            if message.get("type") == "resync":
                hub.resync(client)
            elif message.get("type") == "subscribe":
                subscription, refused = _subscription(hub, principal, message.get("scopes"))
                if subscription is not None:
                    hub.subscribe(client, subscription)
                else:
                    await websocket.send_json(_refusal("subscribe", refused or "refused"))
            elif message.get("type") == "ping":
                await websocket.send_json(hub.pong(client))
    except WebSocketDisconnect:
        pass
    finally:
        hub.disconnect(client)
        sender.cancel()
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await sender
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await watcher
        with contextlib.suppress(Exception):
            await websocket.close()
