"""``X-Hypercare-Process`` on every HTTP response and WebSocket handshake: which API process answered.

With ``hypercare api --workers N`` (or N replicas behind a load balancer) each process serves its own clients
from its own copy of the picture; the header names the process (its id on its host) so an operator, a probe
or a test can tell which one a client is on, and match it with that process's ``/metrics`` and memory.

Pure ASGI: the header is added to ``http.response.start`` and ``websocket.accept``.
"""

from __future__ import annotations

import os

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = b"x-hypercare-process"


def process_id() -> str:
    """This process's id (the pid: unique on its host while it runs)."""
    return str(os.getpid())


class ProcessHeaderMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        value = process_id().encode()

        async def send_with_header(message: Message) -> None:
            if message["type"] in ("http.response.start", "websocket.accept"):
                headers = list(message.get("headers") or [])
                headers.append((HEADER, value))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_header)
