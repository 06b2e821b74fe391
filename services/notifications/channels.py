"""Delivery by channel: a signed generic webhook, a Microsoft Teams incoming webhook, e-mail over SMTP.

Each delivery answers an :class:`Outcome`: delivered; retry (HTTP 5xx or 429, a timeout, a connection error,
an SMTP 4xx); or failed for good (any other HTTP 4xx, an SMTP 5xx, a refused certificate). Error texts name
a status code or an error's type, never a URL, an address or a secret (all of them stay out of logs and the
database).

The generic webhook's body is the alert document as JSON (UTF-8, keys sorted). Headers:

- ``X-Hypercare-Timestamp``: seconds since the epoch when the attempt was made;
- ``X-Hypercare-Signature``: ``sha256=`` + hex HMAC-SHA256 with the recipient's secret over
  ``timestamp + "." + body`` (a receiver recomputes it and refuses old timestamps against replays);
- ``X-Hypercare-Delivery``: the notification's id, the same on every retry (the receiver's idempotency key).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import smtplib
import ssl
import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from html import escape
from pathlib import Path
from typing import Any, Literal

import httpx

from hypercare.settings import Settings
from services.notifications.service import Recipient

SIGNATURE_HEADER = "X-Hypercare-Signature"
TIMESTAMP_HEADER = "X-Hypercare-Timestamp"
DELIVERY_HEADER = "X-Hypercare-Delivery"
ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"

TRANSITION_SV = {"raise": "nytt larm", "escalate": "eskalerat", "resolve": "åtgärdat"}
LEVEL_SV = {"team": "team", "multi": "multiprofessionell", "program": "programledning"}
SEVERITY_SV = {"info": "info", "warning": "varning", "critical": "kritisk"}
NODE_KIND_SV = {"unit": "enhet", "site": "sjukhus", "administration": "förvaltning", "region": "region"}
RESOLVE_REASON_SV = {
    "cleared": "villkoret gäller inte längre",
    "rule_removed": "regeln är borttagen",
    "node_gone": "noden finns inte längre",
}


@dataclass(frozen=True)
class Outcome:
    kind: Literal["delivered", "retry", "failed"]
    error: str | None = None


DELIVERED = Outcome("delivered")


@dataclass(frozen=True)
class Delivery:
    """What a channel sends: the alert document of one transition and the notification's id."""

    delivery_id: str
    document: dict[str, Any]


# --- generic webhook -------------------------------------------------------------------------------------


def body_of(document: dict[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=`` + the hex HMAC-SHA256 of ``timestamp + "." + body``."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def webhook_request(recipient: Recipient, delivery: Delivery, *, now: float) -> tuple[bytes, dict[str, str]]:
    body = body_of(delivery.document)
    timestamp = str(int(now))
    headers = {"Content-Type": "application/json", TIMESTAMP_HEADER: timestamp, DELIVERY_HEADER: delivery.delivery_id}
    if recipient.secret:
        headers[SIGNATURE_HEADER] = sign(recipient.secret, timestamp, body)
    return body, headers


def http_outcome(status: int) -> Outcome:
    """2xx delivered; 429 and 5xx worth retrying; any other answer (4xx, a redirect) fails for good."""
    if 200 <= status < 300:
        return DELIVERED
    if status == 429 or status >= 500:
        return Outcome("retry", f"HTTP {status}")
    return Outcome("failed", f"HTTP {status}")


async def _post(client: httpx.AsyncClient, url: str, body: bytes, headers: dict[str, str]) -> Outcome:
    try:
        response = await client.post(url, content=body, headers=headers)
    except (httpx.TimeoutException, httpx.TransportError) as error:
        return Outcome("retry", type(error).__name__)
    except httpx.HTTPError as error:  # a URL httpx cannot use: no retry helps
        return Outcome("failed", type(error).__name__)
    return http_outcome(response.status_code)


# --- Microsoft Teams ---------------------------------------------------------------------------------------


def title_of(document: dict[str, Any]) -> str:
    transition = TRANSITION_SV.get(str(document.get("transition")), str(document.get("transition")))
    severity = SEVERITY_SV.get(str(document.get("severity")), str(document.get("severity")))
    level = LEVEL_SV.get(str(document.get("level")), str(document.get("level")))
    return f"Hypercare [{severity}] {transition}, nivå {level}: {document.get('node_name')}"


def facts_of(document: dict[str, Any]) -> list[tuple[str, str]]:
    kind = NODE_KIND_SV.get(str(document.get("node_kind")), str(document.get("node_kind")))
    facts = [
        ("Nivå", LEVEL_SV.get(str(document.get("level")), str(document.get("level")))),
        ("Nod", f"{document.get('node_name')} ({kind} {document.get('node_id')})"),
        ("Orsak", str(document.get("message"))),
        ("Regel", str(document.get("rule"))),
        ("Tid", str(document.get("transition_at"))),
    ]
    if document.get("transition") == "resolve" and document.get("resolve_reason"):
        reason = str(document["resolve_reason"])
        facts.append(("Åtgärdat", RESOLVE_REASON_SV.get(reason, reason)))
    if document.get("previous_level"):
        facts.append(("Från nivå", LEVEL_SV.get(str(document["previous_level"]), str(document["previous_level"]))))
    return facts


def alert_link(console_url: str | None) -> str | None:
    return f"{console_url}/console/#/console" if console_url else None


def teams_card(document: dict[str, Any], *, console_url: str | None) -> dict[str, Any]:
    """An incoming webhook's message: one Adaptive Card attachment (Microsoft's documented format)."""
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.2",
        "body": [
            {"type": "TextBlock", "text": title_of(document), "weight": "Bolder", "size": "Medium", "wrap": True},
            {"type": "FactSet", "facts": [{"title": title, "value": value} for title, value in facts_of(document)]},
        ],
    }
    link = alert_link(console_url)
    if link:
        card["actions"] = [{"type": "Action.OpenUrl", "title": "Öppna i Hypercare", "url": link}]
    return {
        "type": "message",
        "attachments": [{"contentType": ADAPTIVE_CARD, "contentUrl": None, "content": card}],
    }


# --- e-mail -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    starttls: bool
    ca_file: Path | None
    username: str | None
    password: str | None
    sender: str
    timeout: float

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpServer | None:
        if not settings.smtp_host:
            return None
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            starttls=settings.smtp_starttls,
            ca_file=settings.smtp_ca_file,
            username=settings.smtp_username,
            password=settings.smtp_password,
            sender=settings.smtp_from,
            timeout=settings.notification_timeout,
        )


def email_message(recipient: Recipient, delivery: Delivery, *, sender: str, console_url: str | None) -> EmailMessage:
    """Plain text and a short HTML part; the subject (Swedish) names the transition, the level and the node."""
    document = delivery.document
    facts = facts_of(document)
    link = alert_link(console_url)
    message = EmailMessage()
    message["Subject"] = title_of(document)
    message["From"] = sender
    message["To"] = ", ".join(recipient.to)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = f"<{delivery.delivery_id}@hypercare>"
    text = "\n".join([title_of(document), "", *(f"{title}: {value}" for title, value in facts)])
    if link:
        text += f"\n\nÖppna i Hypercare: {link}"
    message.set_content(text + "\n")
    rows = "".join(f"<tr><th align='left'>{escape(title)}</th><td>{escape(value)}</td></tr>" for title, value in facts)
    html = f"<p><strong>{escape(title_of(document))}</strong></p><table>{rows}</table>"
    if link:
        html += f"<p><a href='{escape(link)}'>Öppna i Hypercare</a></p>"
    message.add_alternative(f"<!doctype html><html><body>{html}</body></html>\n", subtype="html")
    return message


def _smtp_code_outcome(code: int) -> Outcome:
    return Outcome("retry" if 400 <= code < 500 else "failed", f"SMTP {code}")


def send_mail(server: SmtpServer, message: EmailMessage) -> Outcome:
    """One SMTP session (blocking; run in a thread)."""
    try:
        with smtplib.SMTP(server.host, server.port, timeout=server.timeout) as client:
            client.ehlo()
            if server.starttls:
                context = ssl.create_default_context(cafile=str(server.ca_file) if server.ca_file else None)
                client.starttls(context=context)
                client.ehlo()
            if server.username:
                client.login(server.username, server.password or "")
            refused = client.send_message(message)
    except smtplib.SMTPRecipientsRefused as error:
        codes = [code for code, _ in error.recipients.values()]
        return _smtp_code_outcome(min(codes) if codes else 550)
    except smtplib.SMTPResponseException as error:
        return _smtp_code_outcome(error.smtp_code)
    except (smtplib.SMTPNotSupportedError, ssl.SSLCertVerificationError, UnicodeEncodeError) as error:
        # No STARTTLS offered, a certificate refused, credentials smtplib cannot send (not ASCII): no retry helps.
        return Outcome("failed", type(error).__name__)
    except (OSError, smtplib.SMTPException) as error:  # refused, timed out, disconnected
        return Outcome("retry", type(error).__name__)
    if refused:
        return Outcome("failed", f"SMTP refused {len(refused)} of {len(recipient_list(message))} recipients")
    return DELIVERED


def recipient_list(message: EmailMessage) -> list[str]:
    return [part.strip() for part in str(message["To"] or "").split(",") if part.strip()]


# --- any channel ---------------------------------------------------------------------------------------------


@dataclass
class Channels:
    """What the dispatcher delivers with: one HTTP client, the SMTP server, the console's address."""

    client: httpx.AsyncClient
    smtp: SmtpServer | None
    console_url: str | None

    async def deliver(self, recipient: Recipient, delivery: Delivery) -> Outcome:
        if recipient.channel == "email":
            if self.smtp is None:
                return Outcome("failed", "no SMTP server configured")
            message = email_message(recipient, delivery, sender=self.smtp.sender, console_url=self.console_url)
            return await asyncio.to_thread(send_mail, self.smtp, message)
        if not recipient.url:
            return Outcome("failed", "no URL")
        if recipient.channel == "teams":
            card = teams_card(delivery.document, console_url=self.console_url)
            return await _post(self.client, recipient.url, body_of(card), {"Content-Type": "application/json"})
        body, headers = webhook_request(recipient, delivery, now=time.time())
        return await _post(self.client, recipient.url, body, headers)
