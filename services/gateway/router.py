"""Read side: ``GET /api/v1/situation``, ``GET /api/v1/units/{unit_id}``, ``WS /ws/situation``."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from fastapi import APIRouter, HTTPException, WebSocket, WebSocketDisconnect, status

from services.auth.dependencies import Reader, authenticate_websocket
from services.dependencies import HubDep

router = APIRouter(tags=["situation"])

AUTH_WAIT_SECONDS = 5.0


@router.get("/api/v1/situation", summary="The whole situation picture: region, administrations, sites, units")
async def get_situation(_: Reader, hub: HubDep) -> dict[str, Any]:
    return hub.situation()


@router.get("/api/v1/units/{unit_id}", summary="One unit's live figures and health")
async def get_unit(unit_id: str, _: Reader, hub: HubDep) -> dict[str, Any]:
    unit = hub.unit(unit_id)
    if unit is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"unit {unit_id!r} is not in the org registry and has sent no events"
        )
    return unit


async def _token_from_first_message(websocket: WebSocket) -> str | None:
    with contextlib.suppress(asyncio.TimeoutError, ValueError, WebSocketDisconnect):
        message = json.loads(await asyncio.wait_for(websocket.receive_text(), AUTH_WAIT_SECONDS))
        if isinstance(message, dict) and isinstance(message.get("token"), str):
            return str(message["token"])
    return None


@router.websocket("/ws/situation")
async def situation_socket(websocket: WebSocket) -> None:
    hub = websocket.app.state.hub
    await websocket.accept()
    token = websocket.query_params.get("token") or await _token_from_first_message(websocket)
    principal = await authenticate_websocket(websocket, token)
    if principal is None:
        return  # authenticate_websocket closed the socket with the reason
    client = hub.connect(websocket.send_text)
    sender = asyncio.create_task(client.run())
    try:
        while not client.closed.is_set():
            receive = asyncio.create_task(websocket.receive_text())
            done, _ = await asyncio.wait({receive, sender}, return_when=asyncio.FIRST_COMPLETED)
            if receive not in done:
                receive.cancel()
                break
            try:
                message = json.loads(receive.result())
            except ValueError:
                continue
            if isinstance(message, dict) and message.get("type") == "resync":
                hub.resync(client)
            elif isinstance(message, dict) and message.get("type") == "ping":
                await websocket.send_json({"type": "pong"})
    except WebSocketDisconnect:
        pass
    finally:
        hub.disconnect(client)
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await sender
        with contextlib.suppress(Exception):
            await websocket.close()
