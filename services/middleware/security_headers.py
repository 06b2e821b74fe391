"""Security headers on every HTTP response: CSP, nosniff, no referrer, and HSTS behind https.

The Content-Security-Policy allows only the API's own origin: the console is plain ES modules, a
stylesheet, icons and a service worker, all served from ``/console/``, and it builds the DOM without
HTML strings (``console/js/dom.js``), so it needs no inline script or style, no ``eval`` and no CDN.
CSP 3 makes ``'self'`` match ``ws:``/``wss:`` of the same host (Chromium, Firefox and current Safari do);
with ``HYPERCARE_PUBLIC_URL`` the WebSocket's ``wss:`` origin is also named in ``connect-src`` for older
browsers. A response that sets its own ``Content-Security-Policy`` keeps it.

Pure ASGI: headers are added to ``http.response.start``; WebSocket and lifespan traffic passes untouched.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.types import ASGIApp, Message, Receive, Scope, Send

BASE_POLICY = "default-src 'self'; frame-ancestors 'none'; object-src 'none'; base-uri 'none'"
HSTS = "max-age=31536000"


def content_security_policy(public_url: str | None = None) -> str:
    """The policy; with a public URL, ``connect-src`` names its WebSocket origin too."""
    if not public_url:
        return BASE_POLICY
    parts = urlsplit(public_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return BASE_POLICY
    ws_scheme = "wss" if parts.scheme == "https" else "ws"
    return f"{BASE_POLICY}; connect-src 'self' {ws_scheme}://{parts.netloc}"


def security_headers(public_url: str | None = None) -> list[tuple[bytes, bytes]]:
    headers = [
        (b"content-security-policy", content_security_policy(public_url).encode("latin-1")),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
    ]
    if public_url and public_url.lower().startswith("https://"):
        headers.append((b"strict-transport-security", HSTS.encode("latin-1")))
    return headers


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, public_url: str | None = None) -> None:
        self.app = app
        self.headers = security_headers(public_url)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                existing = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(name, value) for name, value in self.headers if name not in existing]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install_security_headers(app: Starlette, *, public_url: str | None = None) -> None:
    """Wrap ``app``'s whole middleware stack, Starlette's error middleware included: its 500 carries them too."""
    build = app.build_middleware_stack

    def build_with_headers() -> ASGIApp:
        return SecurityHeadersMiddleware(build(), public_url=public_url)

    app.build_middleware_stack = build_with_headers  # type: ignore[method-assign]
