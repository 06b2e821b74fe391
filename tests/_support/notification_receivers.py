"""Real receivers for the notification tests: a signed-webhook receiver that verifies every signature with the
shared secret, a Teams-shaped receiver that checks the documented card, and an SMTP server (aiosmtpd) that
requires STARTTLS (a self-signed certificate made here) and a login."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import ipaddress
import json
import ssl
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from hypercare.entrypoints.embedded_broker import free_port

SMTP_USER, SMTP_PASSWORD = "hypercare", "smtp-pass-from-the-environment"


@dataclass
class Hook:
    """One POST the webhook receiver accepted as authentic."""

    name: str
    delivery_id: str
    document: dict[str, Any]


@dataclass
class HookReceiver:
    """Verifies X-Hypercare-Signature (HMAC-SHA256 over timestamp + "." + body) with each path's secret; answers
    the statuses queued per path (then 200)."""

    secrets: dict[str, str] = field(default_factory=dict)
    statuses: dict[str, list[int]] = field(default_factory=dict)
    delays: dict[str, float] = field(default_factory=dict)
    attempts: list[str] = field(default_factory=list)  # the path of every authentic request, accepted or not
    accepted: list[Hook] = field(default_factory=list)
    forged: int = 0
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        body = await request.read()
        timestamp = request.headers.get("X-Hypercare-Timestamp", "")
        expected = (
            "sha256="
            + hmac.new(self.secrets[name].encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        )
        signature = request.headers.get("X-Hypercare-Signature", "")
        if not hmac.compare_digest(expected, signature) or abs(time.time() - int(timestamp or 0)) > 300:
            self.forged += 1
            return web.Response(status=401)
        self.attempts.append(name)
        if name in self.delays:
            await asyncio.sleep(self.delays[name])
        queued = self.statuses.get(name, [])
        status = queued.pop(0) if queued else 200
        if status < 300:
            self.accepted.append(Hook(name, request.headers["X-Hypercare-Delivery"], json.loads(body)))
        return web.Response(status=status)

    def to(self, name: str) -> str:
        return f"{self.url}/{name}"


@dataclass
class TeamsReceiver:
    """Accepts only a message with one Adaptive Card attachment (Microsoft's incoming-webhook format)."""

    cards: list[dict[str, Any]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        payload = await request.json()
        problem = card_problem(payload)
        if problem:
            self.refused.append(problem)
            return web.Response(status=400, text=problem)
        self.cards.append(payload["attachments"][0]["content"])
        return web.Response(status=202)


def card_problem(payload: Any) -> str | None:
    if not isinstance(payload, dict) or payload.get("type") != "message":
        return "not a message"
    attachments = payload.get("attachments")
    if not isinstance(attachments, list) or len(attachments) != 1:
        return "not one attachment"
    attachment = attachments[0]
    if attachment.get("contentType") != "application/vnd.microsoft.card.adaptive" or "contentUrl" not in attachment:
        return "not an Adaptive Card attachment"
    card = attachment.get("content", {})
    if card.get("type") != "AdaptiveCard" or not str(card.get("version", "")).startswith("1."):
        return "not an AdaptiveCard"
    if card.get("$schema") != "http://adaptivecards.io/schemas/adaptive-card.json" or not card.get("body"):
        return "no schema or body"
    if not all(isinstance(element, dict) and element.get("type") for element in card["body"]):
        return "a body element without a type"
    return None


@pytest.fixture
async def receivers() -> AsyncIterator[tuple[HookReceiver, TeamsReceiver]]:
    hooks, teams = HookReceiver(), TeamsReceiver()
    app = web.Application()
    app.router.add_post("/hooks/{name}", hooks.handle)
    app.router.add_post("/teams", teams.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    hooks.url, teams.url = f"http://127.0.0.1:{port}/hooks", f"http://127.0.0.1:{port}/teams"
    try:
        yield hooks, teams
    finally:
        await runner.cleanup()


# --- SMTP -----------------------------------------------------------------------------------------------------


@dataclass
class Mail:
    rcpt_tos: list[str]
    message: EmailMessage
    tls: bool
    authenticated: bool


@dataclass
class MailBox:
    mails: list[Mail] = field(default_factory=list)
    host: str = "127.0.0.1"
    port: int = 0
    ca_file: Path | None = None

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        message = message_from_bytes(content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.mails.append(Mail(list(envelope.rcpt_tos), message, session.ssl is not None, bool(session.authenticated)))
        return "250 OK"


def authenticate(server: SMTPServer, session: Session, envelope: Envelope, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        SMTP_USER.encode(),
        SMTP_PASSWORD.encode(),
    )
    return AuthResult(success=ok)


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, signed by its own key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


@pytest.fixture
def mailbox(tmp_path: Path) -> Iterator[MailBox]:
    """An SMTP server that requires STARTTLS and a login before it takes a message."""
    cert_file, key_file = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    box = MailBox(port=free_port(), ca_file=cert_file)
    controller = Controller(
        box,
        hostname="127.0.0.1",
        port=box.port,
        tls_context=context,
        require_starttls=True,
        authenticator=authenticate,
        auth_required=True,
    )
    controller.start()
    try:
        yield box
    finally:
        controller.stop()
