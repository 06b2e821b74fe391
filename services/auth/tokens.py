"""Bearer tokens: issued once in clear, stored only as SHA-256, verified through a short TTL cache.

Tokens are 32 random bytes, so a fast unsalted hash is enough: there is nothing to brute-force.
A revoked token stops working at once in the revoking process and within the cache TTL elsewhere.

A database outage does not lock out the clients already working: when looking a token up fails with a
transient database error, the cache serves the token's last successful verification for up to
``HYPERCARE_TOKEN_OUTAGE_GRACE_SECONDS`` (then, and for a token this process never verified, the lookup's
error stands and the API answers 503). After such a failure the database is not asked again for
:data:`OUTAGE_PROBE_SECONDS`, so requests do not queue behind connection attempts to a database that is down.
A token revoked during an outage keeps working until the grace ends (the revocation cannot be read).
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import select, update

from hypercare.contract.events import unsafe_character_problem
from hypercare.privacy.redact import contains_identity_number
from hypercare.storage.db import Database
from hypercare.storage.errors import classify
from hypercare.storage.models import ApiToken, utcnow
from services.auth.roles import SOURCE_FAMILIES, Role, parse_role

TOKEN_PREFIX = "hc_"
MAX_NAME_LENGTH = 128
# "hc_" + 43 characters of url-safe base64; anything much longer is not one of ours.
MAX_TOKEN_LENGTH = 256
_ROLE_VALUES = frozenset(role.value for role in Role)
# After a lookup failed on a transient database error, tokens are served from memory this long before
# the database is tried again.
OUTAGE_PROBE_SECONDS = 5.0


class TokenStoreUnavailable(ConnectionError):
    """The database is down (a recent lookup failed) and this token has no verification to fall back on."""


@dataclass(frozen=True, slots=True)
class Principal:
    """A token's holder. ``families`` and ``units`` narrow a source token (``None``: not narrowed)."""

    name: str
    role: Role
    families: frozenset[str] | None = None
    units: frozenset[str] | None = None


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class TokenCache:
    """Token hash → Principal (or ``None`` for unknown tokens) for ``ttl`` seconds, bounded in size.

    Besides, the last successful verification of each token (bounded, least recently used out first): served
    for up to ``outage_grace`` seconds while the database is unreachable, and used by the rate limiter to
    count a request against its principal without a lookup.
    """

    def __init__(
        self,
        ttl: float = 10.0,
        *,
        max_entries: int = 10_000,
        outage_grace: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self.outage_grace = outage_grace
        self._clock = clock
        self._entries: dict[str, tuple[float, Principal | None]] = {}
        self._known: OrderedDict[str, tuple[float, Principal]] = OrderedDict()
        self._outage_until = float("-inf")

    def get(self, token_hash: str) -> tuple[bool, Principal | None]:
        """``(hit, principal)``: a hit may carry ``None`` (known to be invalid)."""
        entry = self._entries.get(token_hash)
        if entry is None:
            return False, None
        expires, principal = entry
        if self._clock() >= expires:
            del self._entries[token_hash]
            return False, None
        return True, principal

    def put(self, token_hash: str, principal: Principal | None) -> None:
        if principal is not None:
            self._known.pop(token_hash, None)
            while len(self._known) >= self.max_entries:
                self._known.popitem(last=False)
            self._known[token_hash] = (self._clock(), principal)
        if self.ttl <= 0:
            return
        self._entries.pop(token_hash, None)
        while len(self._entries) >= self.max_entries:
            del self._entries[next(iter(self._entries))]  # oldest insertion first
        self._entries[token_hash] = (self._clock() + self.ttl, principal)

    def last_known(self, token_hash: str) -> Principal | None:
        """The token's last successful verification, if it is at most ``outage_grace`` seconds old."""
        entry = self._known.get(token_hash)
        if entry is None or self._clock() - entry[0] > self.outage_grace:
            return None
        return entry[1]

    def known_principal(self, token: str) -> str | None:
        """The principal's name of a token this process has verified (for counting, never for access)."""
        if not token.startswith(TOKEN_PREFIX) or len(token) > MAX_TOKEN_LENGTH:
            return None
        entry = self._known.get(hash_token(token))
        return entry[1].name if entry is not None else None

    def note_outage(self) -> None:
        """A lookup just failed on a transient database error: serve from memory for a while."""
        self._outage_until = self._clock() + OUTAGE_PROBE_SECONDS

    @property
    def in_outage(self) -> bool:
        return self._clock() < self._outage_until

    def clear(self) -> None:
        self._entries.clear()
        self._known.clear()

    def __len__(self) -> int:
        return len(self._entries)


def _valid_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise ValueError("token name must not be empty")
    if len(name) > MAX_NAME_LENGTH:
        raise ValueError(f"token name must be at most {MAX_NAME_LENGTH} characters")
    if contains_identity_number(name):
        raise ValueError("token name must not contain a personal identity number")
    return name


def _valid_scope(
    role: Role, families: Iterable[str] | None, units: Iterable[str] | None
) -> tuple[list[str] | None, list[str] | None]:
    """A source token's families (sorted, each one a source may submit) and unit ids; other roles have none."""
    if families is None and units is None:
        return None, None
    if role is not Role.SOURCE:
        raise ValueError(f"only source tokens are scoped to families and units (the role {role.value!r} decides)")
    checked_families = None
    if families is not None:
        checked_families = sorted({family.strip() for family in families if family.strip()})
        if not checked_families:
            raise ValueError("a source token needs at least one family")
        unknown = [family for family in checked_families if family not in SOURCE_FAMILIES]
        if unknown:
            raise ValueError(
                f"unknown or not allowed for a source: {', '.join(unknown)}; use {', '.join(sorted(SOURCE_FAMILIES))}"
            )
    checked_units = None
    if units is not None:
        checked_units = sorted({unit.strip() for unit in units if unit.strip()})
        if not checked_units:
            raise ValueError("--units needs at least one unit id")
        for unit in checked_units:
            problem = unsafe_character_problem(unit)
            if problem is not None or len(unit) > 128 or contains_identity_number(unit):
                raise ValueError(f"not a unit id: {problem or 'too long or holds a personal identity number'}")
    return checked_families, checked_units


async def issue_token(
    db: Database,
    *,
    role: Role | str,
    name: str,
    families: Iterable[str] | None = None,
    units: Iterable[str] | None = None,
) -> str:
    """Create a token and return it in clear; this is the only time the clear text exists.

    A source token may be narrowed to ``families`` (of :data:`SOURCE_FAMILIES`) and ``units``; without them it
    may submit every family a source may, for any unit.
    """
    checked_role = parse_role(role)
    checked_name = _valid_name(name)
    checked_families, checked_units = _valid_scope(checked_role, families, units)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(name=checked_name, role=checked_role.value, token_hash=hash_token(token))
    if checked_families is not None:
        row.families = checked_families
    if checked_units is not None:
        row.units = checked_units
    async with db.sessions.begin() as session:
        session.add(row)
    return token


def _scope(value: object) -> frozenset[str] | None:
    """A stored scope column; anything but a list of strings narrows to nothing (fails closed)."""
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        return frozenset()
    return frozenset(value)


async def _lookup(db: Database, token_hash: str) -> Principal | None:
    query = select(ApiToken.name, ApiToken.role, ApiToken.families, ApiToken.units).where(
        ApiToken.token_hash == token_hash, ApiToken.revoked_at.is_(None)
    )
    async with db.sessions() as session:
        row = (await session.execute(query)).first()
    if row is None or row.role not in _ROLE_VALUES:
        return None
    return Principal(name=row.name, role=Role(row.role), families=_scope(row.families), units=_scope(row.units))


async def verify_token(db: Database, *, token: str, cache: TokenCache | None = None) -> Principal | None:
    """The holder of ``token``, or ``None`` when it is unknown or revoked."""
    if not isinstance(token, str) or not token.startswith(TOKEN_PREFIX) or len(token) > MAX_TOKEN_LENGTH:
        return None
    token_hash = hash_token(token)
    if cache is None:
        return await _lookup(db, token_hash)
    hit, principal = cache.get(token_hash)
    if hit:
        return principal
    if cache.in_outage:
        principal = cache.last_known(token_hash)
        if principal is None:
            raise TokenStoreUnavailable("the token store (database) is unreachable and this token is not known here")
        return principal
    try:
        principal = await _lookup(db, token_hash)
    except Exception as error:
        if classify(error) != "transient":
            raise
        cache.note_outage()
        principal = cache.last_known(token_hash)
        if principal is None:
            raise
        return principal
    cache.put(token_hash, principal)
    return principal


async def revoke_token(db: Database, *, name: str, cache: TokenCache | None = None) -> int:
    """Revoke every active token called ``name``; returns how many were revoked."""
    async with db.sessions.begin() as session:
        result = await session.execute(
            update(ApiToken)
            .where(ApiToken.name == name.strip(), ApiToken.revoked_at.is_(None))
            .values(revoked_at=utcnow())
            .execution_options(synchronize_session=False)
        )
    if cache is not None:
        cache.clear()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def has_admin_token(db: Database) -> bool:
    """Whether an unrevoked admin token exists (``hypercare up`` issues the first one otherwise)."""
    query = select(ApiToken.id).where(ApiToken.role == Role.ADMIN.value, ApiToken.revoked_at.is_(None)).limit(1)
    async with db.sessions() as session:
        return (await session.execute(query)).first() is not None
