"""Server-side console sessions after sign-in with the OpenID provider, and their CSRF protection.

The browser holds only opaque random ids in cookies; the database holds their SHA-256 (``auth_sessions``,
``auth_logins``, migration 0008), so a copy of the table signs nobody in.

- ``hc_session``: the session id. ``HttpOnly``, ``SameSite=Lax`` (the provider's redirect back to
  ``/auth/callback`` is a top-level navigation, which Lax allows), ``Path=/``, ``Secure`` when the public URL is
  https.
- ``hc_csrf``: the CSRF token, readable by the console (not ``HttpOnly``), which echoes it in ``X-CSRF-Token`` on
  every write (double submit). Its hash is on the session row too, so the cookie alone, or a token of another
  session, is not enough.
- ``hc_login``: the id of a login under way (state, nonce, PKCE verifier), ``Path=/auth``, ten minutes.

Every cookie-authenticated write must come with ``Origin`` equal to the public URL's origin and the CSRF token;
bearer-token requests need neither (a browser never adds the header by itself).

Lookups are cached per process for ``HYPERCARE_TOKEN_CACHE_SECONDS``: signing out ends the session at once in
the process that served it and within that many seconds in the others.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import delete, select
from starlette.requests import HTTPConnection

from hypercare.storage.db import Database
from hypercare.storage.models import AuthLogin, AuthSession, utcnow
from services.auth.roles import Role
from services.auth.tokens import Principal

SESSION_COOKIE = "hc_session"
CSRF_COOKIE = "hc_csrf"
LOGIN_COOKIE = "hc_login"
CSRF_HEADER = "x-csrf-token"
LOGIN_SECONDS = 600
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_MAX_COOKIE_LENGTH = 128
# Machines (source) use API tokens; a session never carries that role.
_SESSION_ROLES = frozenset(role.value for role in Role if role is not Role.SOURCE)


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """A live session: who, with which role and organisation scope (the provider's scope claim), until when."""

    name: str
    role: Role
    scope: str | None
    expires_at: datetime
    csrf_hash: str

    @property
    def principal(self) -> Principal:
        """The signed-in person; the organisation scope claim scopes their reads and writes like a token's."""
        return Principal(name=self.name, role=self.role, scope=self.scope)


@dataclass(frozen=True, slots=True)
class PendingLogin:
    state: str
    nonce: str
    code_verifier: str


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def public_origin(public_url: str) -> str:
    """``scheme://host[:port]`` of the public URL, as browsers send it in ``Origin``."""
    parts = urlsplit(public_url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def cookie_value(connection: HTTPConnection, name: str) -> str | None:
    value = connection.cookies.get(name)
    if not value or len(value) > _MAX_COOKIE_LENGTH:
        return None
    return value


class SessionCache:
    """Session-id hash → record (or None: unknown) for ``ttl`` seconds, bounded."""

    def __init__(self, ttl: float = 10.0, *, max_entries: int = 10_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: dict[str, tuple[float, SessionRecord | None]] = {}

    def get(self, id_hash: str) -> tuple[bool, SessionRecord | None]:
        entry = self._entries.get(id_hash)
        if entry is None or time.monotonic() >= entry[0]:
            self._entries.pop(id_hash, None)
            return False, None
        return True, entry[1]

    def put(self, id_hash: str, record: SessionRecord | None) -> None:
        if self.ttl <= 0:
            return
        while len(self._entries) >= self.max_entries:
            del self._entries[next(iter(self._entries))]
        self._entries[id_hash] = (time.monotonic() + self.ttl, record)

    def forget(self, id_hash: str) -> None:
        self._entries.pop(id_hash, None)


async def create_session(
    db: Database, *, name: str, role: Role, scope: str | None, lifetime: timedelta, id_token: str | None = None
) -> tuple[str, str, SessionRecord]:
    """A new session: ``(session id, CSRF token, record)``; the clear values exist only in the answer.

    ``id_token`` (the provider's) is kept for the sign-out at the provider (``id_token_hint``), nothing else."""
    session_id = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    now = utcnow()
    row = AuthSession(
        id_hash=_hash(session_id),
        csrf_hash=_hash(csrf),
        name=name,
        role=role.value,
        scope=scope,
        created_at=now,
        expires_at=now + lifetime,
        id_token=id_token,
    )
    async with db.sessions.begin() as session:
        session.add(row)
        # Housekeeping: expired sessions and logins go whenever someone signs in.
        await session.execute(delete(AuthSession).where(AuthSession.expires_at < now))
        await session.execute(delete(AuthLogin).where(AuthLogin.expires_at < now))
    record = SessionRecord(name=name, role=role, scope=scope, expires_at=row.expires_at, csrf_hash=row.csrf_hash)
    return session_id, csrf, record


async def find_session(db: Database, session_id: str, cache: SessionCache | None = None) -> SessionRecord | None:
    """The live session of ``session_id``, or None (unknown, ended or expired)."""
    id_hash = _hash(session_id)
    record: SessionRecord | None
    hit, record = cache.get(id_hash) if cache is not None else (False, None)
    if not hit:
        query = select(AuthSession).where(AuthSession.id_hash == id_hash)
        async with db.sessions() as session:
            row = (await session.execute(query)).scalar_one_or_none()
        record = None
        if row is not None and row.role in _SESSION_ROLES:
            record = SessionRecord(
                name=row.name, role=Role(row.role), scope=row.scope, expires_at=row.expires_at, csrf_hash=row.csrf_hash
            )
        if cache is not None:
            cache.put(id_hash, record)
    if record is None or record.expires_at <= utcnow():
        return None
    return record


async def end_session(db: Database, session_id: str, cache: SessionCache | None = None) -> str | None:
    """Deletes the session; returns the provider's ID token it was signed in with (for ``id_token_hint``)."""
    id_hash = _hash(session_id)
    async with db.sessions.begin() as session:
        id_token = (
            await session.execute(select(AuthSession.id_token).where(AuthSession.id_hash == id_hash))
        ).scalar_one_or_none()
        await session.execute(delete(AuthSession).where(AuthSession.id_hash == id_hash))
    if cache is not None:
        cache.forget(id_hash)
    return id_token


async def save_login(db: Database, pending: PendingLogin) -> str:
    """Keep a login under way; returns the id for the ``hc_login`` cookie."""
    login_id = secrets.token_urlsafe(32)
    row = AuthLogin(
        id_hash=_hash(login_id),
        state=pending.state,
        nonce=pending.nonce,
        code_verifier=pending.code_verifier,
        expires_at=utcnow() + timedelta(seconds=LOGIN_SECONDS),
    )
    async with db.sessions.begin() as session:
        session.add(row)
        await session.execute(delete(AuthLogin).where(AuthLogin.expires_at < utcnow()))  # abandoned logins
    return login_id


async def take_login(db: Database, login_id: str) -> PendingLogin | None:
    """The login under way of ``login_id``, removed (a callback is answered once); None when unknown or expired."""
    id_hash = _hash(login_id)
    async with db.sessions.begin() as session:
        row = (await session.execute(select(AuthLogin).where(AuthLogin.id_hash == id_hash))).scalar_one_or_none()
        if row is None:
            return None
        await session.execute(delete(AuthLogin).where(AuthLogin.id_hash == id_hash))
    if row.expires_at <= utcnow():
        return None
    return PendingLogin(state=row.state, nonce=row.nonce, code_verifier=row.code_verifier)


def csrf_problem(connection: HTTPConnection, record: SessionRecord, *, origin: str) -> str | None:
    """Why a cookie-authenticated write is refused (None: it may go on): Origin, then the double-submitted token."""
    sent_origin = connection.headers.get("origin")
    if sent_origin is None or sent_origin.lower() != origin:
        return "cross-site request refused: the Origin header must be this console's origin"
    header = connection.headers.get(CSRF_HEADER) or ""
    cookie = cookie_value(connection, CSRF_COOKIE) or ""
    if (
        not header
        or not hmac.compare_digest(header, cookie)
        or not hmac.compare_digest(_hash(header), record.csrf_hash)
    ):
        return "missing or wrong CSRF token: send the hc_csrf cookie's value in the X-CSRF-Token header"
    return None
