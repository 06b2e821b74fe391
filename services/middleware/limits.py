"""Request body limits for every route: size (413) and JSON nesting depth (422), before parsing and auth.

One mechanism for the whole API, ingest included: the body is read here, counted as it streams in
(``Content-Length`` is checked first, a chunked body is counted chunk by chunk) and refused as soon as
it passes ``HYPERCARE_MAX_BODY_BYTES``; a body within the limit is handed on whole, so routes read it
as usual. Then the nesting depth of any JSON in it (one document, an array, or NDJSON) is measured
without parsing: the standard library's parser recurses per level and a deep document would end in
``RecursionError`` (a 500) in the parser, a validator or an encoder further on.

WebSocket and lifespan traffic passes untouched.
"""

from __future__ import annotations

import asyncio
import json
import re
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hypercare.observability import metrics

# After a 413 the rest of the body is read and dropped, up to this much and this long ("lingering close"):
# a server that closes with unread data resets the connection, and the client may never see the 413.
DRAIN_BYTES = 8 * 1024 * 1024
DRAIN_SECONDS = 2.0

_ESCAPE = re.compile(rb"\\.", re.DOTALL)
# Brackets become parentheses; everything but brackets and quotes is dropped.
_BRACKETS = bytes.maketrans(b"[{]}", b"(())")
_NOT_BRACKET_OR_QUOTE = bytes(b for b in range(256) if b not in b'[]{}"')


def too_large_reason(limit: int) -> str:
    """The 413 reason (ingest has always answered this)."""
    return f"body larger than {limit} bytes"


def nesting_exceeds(body: bytes, limit: int) -> bool:
    """Whether JSON text (or NDJSON, or anything) nests arrays/objects deeper than ``limit``.

    Brackets inside strings do not count. Linear in the body per level, at C speed: escapes are
    removed, then everything but quotes and brackets, then the string contents (between quotes),
    then innermost ``()`` pairs level by level; a run of more opening brackets than levels left is
    too deep at once. Unbalanced leftovers are the parser's to refuse, not this check's.
    """
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    if b"\\" in body:
        body = _ESCAPE.sub(b"", body)
    skeleton = b"".join(body.translate(_BRACKETS, _NOT_BRACKET_OR_QUOTE).split(b'"')[0::2])
    for level in range(limit + 1):
        if b"(" * (limit - level + 1) in skeleton:
            return True
        inner = skeleton.replace(b"()", b"")
        if len(inner) == len(skeleton):
            return False
        skeleton = inner
    return False


def _json_response(status: int, detail: str, headers: dict[str, str] | None = None) -> tuple[Message, Message]:
    body = json.dumps({"detail": detail}).encode()
    raw_headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw_headers += [(name.lower().encode(), value.encode()) for name, value in (headers or {}).items()]
    return (
        {"type": "http.response.start", "status": status, "headers": raw_headers},
        {"type": "http.response.body", "body": body},
    )


async def send_json(send: Send, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
    """A small JSON answer ``{"detail": ...}`` straight from a middleware."""
    start, body = _json_response(status, detail, headers)
    await send(start)
    await send(body)


class BodyLimitMiddleware:
    """413 for a body over ``max_bytes``, 422 for JSON nested deeper than ``max_depth``; else the body, whole."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, max_depth: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_depth = max_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse_size(send, receive)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away while sending
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse_size(send, receive, more=message.get("more_body", False))
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if body and nesting_exceeds(body, self.max_depth):
            metrics.HTTP_REFUSED.labels(reason="too_deep").inc()
            await send_json(
                send, 422, f"JSON nested deeper than {self.max_depth} levels; flatten the document or split it"
            )
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: http.disconnect

        await self.app(scope, replay, send)

    async def _refuse_size(self, send: Send, receive: Receive, *, more: bool = True) -> None:
        metrics.HTTP_REFUSED.labels(reason="body_too_large").inc()
        start, body = _json_response(413, too_large_reason(self.max_bytes), {"Connection": "close"})
        await send(start)
        if not more:
            await send(body)
            return
        # The answer is written at once; it completes (and the server stops reading) after the drain.
        await send({**body, "more_body": True})
        await _drain(receive)
        await send({"type": "http.response.body", "body": b""})


async def _drain(receive: Receive) -> None:
    """Read and drop what the client is still sending, within :data:`DRAIN_BYTES` and :data:`DRAIN_SECONDS`."""
    deadline = time.monotonic() + DRAIN_SECONDS
    dropped = 0
    while dropped <= DRAIN_BYTES:
        left = deadline - time.monotonic()
        if left <= 0:
            return
        try:
            message = await asyncio.wait_for(receive(), left)
        except TimeoutError:
            return
        if message["type"] != "http.request" or not message.get("more_body", False):
            return
        dropped += len(message.get("body", b""))


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            if not text.isdigit():
                return None
            return int(text) if len(text) <= 18 else 10**18  # int() refuses thousands of digits
    return None
