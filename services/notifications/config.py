"""The notifications file (``HYPERCARE_NOTIFICATIONS_FILE``): recipients per escalation level and org scope.

Read and validated once at start; a mistake stops the API with the file, the line and the reason
(:mod:`hypercare.rules.loader`), e.g. ``notifications.yaml:12: recipient 'ort-team'.scope: no node 'X' …``.
Secrets never stand in the file: a webhook's signing secret, and optionally a URL (a Teams URL is a
credential), are read from environment variables the file names, which must be set at start.

``HYPERCARE_ALERT_WEBHOOK_URL`` (from before this file) becomes one more generic webhook recipient,
``alert-webhook``, of every transition at every level in the whole region.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from hypercare.org.registry import OrgRegistry
from hypercare.rules.alerts import ESCALATION_LEVELS, EscalationLevel
from hypercare.rules.loader import ConfigFileError, Loc, Naming, read_yaml, validate
from hypercare.rules.validators import unique_ids
from hypercare.settings import Settings
from services.auth.scope import subtree
from services.notifications.service import NOTIFIED_TRANSITIONS, NotifiedTransition, Recipient

LEGACY_WEBHOOK = "alert-webhook"
RecipientId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")]
EnvName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")]
Address = Annotated[str, Field(pattern=r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$", max_length=254)]
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


class NotificationsFileError(ConfigFileError):
    """A notifications file that cannot be used; the message names the file, the line and the reason."""


def _all_transitions() -> list[NotifiedTransition]:
    return ["raise", "escalate", "resolve"]


def check_url(url: str) -> str:
    """An https URL (http only to this host, for a local receiver)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url
    if parts.scheme == "http" and parts.hostname in _LOOPBACK:
        return url
    raise ValueError("must be an https:// URL (http:// only to 127.0.0.1 or localhost)")


class _Recipient(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: RecipientId
    levels: list[EscalationLevel] = Field(min_length=1)
    scope: str | None = None  # a node of the org registry: alerts of its subtree; unset: the whole region
    transitions: list[NotifiedTransition] = Field(default_factory=_all_transitions, min_length=1)


class _Posted(_Recipient):
    url: str | None = None
    url_env: EnvName | None = None

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return None if value is None else check_url(value)

    @model_validator(mode="after")
    def _one_url(self) -> _Posted:
        if (self.url is None) == (self.url_env is None):
            raise ValueError("give url or url_env (the name of an environment variable holding the URL), not both")
        return self


class WebhookRecipient(_Posted):
    """A generic webhook: the alert document as JSON, signed with HMAC-SHA256."""

    channel: Literal["webhook"]
    secret_env: EnvName


class TeamsRecipient(_Posted):
    """A Microsoft Teams incoming webhook (a workflow's URL): an Adaptive Card."""

    channel: Literal["teams"]


class EmailRecipient(_Recipient):
    """E-mail through the SMTP server of the settings (``HYPERCARE_SMTP_*``)."""

    channel: Literal["email"]
    to: list[Address] = Field(min_length=1, max_length=100)


AnyRecipient = Annotated[WebhookRecipient | TeamsRecipient | EmailRecipient, Field(discriminator="channel")]


class NotificationsFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    # The console's address in Teams cards and e-mails; unset: HYPERCARE_PUBLIC_URL.
    console_url: str | None = None
    recipients: list[AnyRecipient] = Field(default_factory=list)

    @field_validator("console_url")
    @classmethod
    def _console_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError("must start with https:// (or http:// for a local test)")
        return value

    @model_validator(mode="after")
    def _unique(self) -> NotificationsFile:
        unique_ids((recipient.id for recipient in self.recipients), "recipient")
        return self


@dataclass(frozen=True)
class Notifications:
    """The resolved recipients and the console's address for links."""

    recipients: tuple[Recipient, ...] = ()
    console_url: str | None = None

    def recipient(self, recipient_id: str) -> Recipient | None:
        return next((r for r in self.recipients if r.id == recipient_id), None)

    @property
    def channels(self) -> frozenset[str]:
        return frozenset(recipient.channel for recipient in self.recipients)


_NAMING = Naming(items=("recipients",), noun="recipient", tags=("webhook", "teams", "email"))


def load_notifications(
    settings: Settings, org: OrgRegistry, *, environ: Mapping[str, str] | None = None
) -> Notifications:
    """The recipients of ``settings.notifications_file`` (none without one) and the legacy webhook recipient."""
    environ = os.environ if environ is None else environ
    recipients: list[Recipient] = []
    console_url = settings.public_url
    if settings.notifications_file is not None:
        data, source = read_yaml(
            Path(settings.notifications_file),
            package="services.notifications",
            filename="",
            what="notifications file",
            error=NotificationsFileError,
        )
        parsed = validate(NotificationsFile, data or {}, source, _NAMING, error=NotificationsFileError)
        found = _problems(parsed, org, environ, smtp=settings.smtp_host is not None)
        problems = [f"{source.where(loc)}: {where}: {reason}" for loc, where, reason in found]
        if problems:
            raise NotificationsFileError("\n".join(dict.fromkeys(problems)))
        recipients = [_resolve(entry, org, environ) for entry in parsed.recipients]
        console_url = parsed.console_url or console_url
    if settings.alert_webhook_url:
        if any(recipient.id == LEGACY_WEBHOOK for recipient in recipients):
            raise NotificationsFileError(
                f"{settings.notifications_file}: recipient id {LEGACY_WEBHOOK!r} is HYPERCARE_ALERT_WEBHOOK_URL's;"
                " name yours otherwise"
            )
        recipients.append(
            Recipient(
                id=LEGACY_WEBHOOK,
                channel="webhook",
                levels=frozenset(ESCALATION_LEVELS),
                url=settings.alert_webhook_url,
                secret=settings.alert_webhook_secret,
            )
        )
    return Notifications(recipients=tuple(recipients), console_url=console_url.rstrip("/") if console_url else None)


def _problems(
    parsed: NotificationsFile, org: OrgRegistry, environ: Mapping[str, str], *, smtp: bool
) -> Iterator[tuple[Loc, str, str]]:
    """What the file's shape cannot say: scopes the org registry lacks, environment variables not set, e-mail
    recipients without an SMTP server."""
    for index, entry in enumerate(parsed.recipients):
        where = f"recipient {entry.id!r}"
        if entry.channel == "email" and not smtp:
            yield (("recipients", index, "channel"), f"{where}.channel", "e-mail needs HYPERCARE_SMTP_HOST")
        if entry.scope is not None and entry.scope not in org.node_ids:
            yield (("recipients", index, "scope"), f"{where}.scope", f"no node {entry.scope!r} in the org registry")
        for key in ("url_env", "secret_env"):
            name = getattr(entry, key, None)
            if name is not None and not environ.get(name):
                yield (("recipients", index, key), f"{where}.{key}", f"the environment variable {name} is not set")
        url_env = getattr(entry, "url_env", None)
        if url_env is not None and environ.get(url_env):
            try:
                check_url(environ[url_env])
            except ValueError as error:
                yield (("recipients", index, "url_env"), f"{where}.url_env", f"{url_env} {error}")


def _resolve(entry: AnyRecipient, org: OrgRegistry, environ: Mapping[str, str]) -> Recipient:
    tree = subtree(org, entry.scope)
    url = secret = None
    to: tuple[str, ...] = ()
    if isinstance(entry, WebhookRecipient | TeamsRecipient):
        url = entry.url if entry.url is not None else environ[entry.url_env or ""]
    if isinstance(entry, WebhookRecipient):
        secret = environ[entry.secret_env]
    if isinstance(entry, EmailRecipient):
        to = tuple(entry.to)
    return Recipient(
        id=entry.id,
        channel=entry.channel,
        levels=frozenset(entry.levels),
        transitions=frozenset(entry.transitions) & frozenset(NOTIFIED_TRANSITIONS),
        scope=entry.scope,
        nodes=None if tree is None else tree.node_ids,
        url=url,
        secret=secret,
        to=to,
    )
