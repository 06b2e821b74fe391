"""Bearer tokens: issued once in clear, stored only as SHA-256, verified through a short TTL cache.

Tokens are 32 random bytes, so a fast unsalted hash is enough: there is nothing to brute-force.
A revoked token stops working at once in the revoking process and within the cache TTL elsewhere.

A database outage does not lock out the clients already working: when looking a token up fails with a
transient database error, the cache serves the token's last successful verification for up to
``HYPERCARE_TOKEN_OUTAGE_GRACE_SECONDS`` (then, and for a token this process never verified, the lookup's
error stands and the API answers 503). After such a failure the database is not asked again for
:data:`OUTAGE_PROBE_SECONDS`, so requests do not queue behind connection attempts to a database that is down.
A token revoked during an outage keeps working until the grace ends (the revocation cannot be read), in every
process but the one that revoked it: revoking forgets the token there at once, grace included, and a process that
reads the revocation (``None`` from a lookup) forgets its last verification too.

Lifecycle: a token may expire (``expires_at``; an expired token is refused everywhere, from the cache and the
outage grace too), records when it was last used (``last_used_at``, written at most once a minute per token, so
reads do not write on every request) and may be scoped to a node of the org tree (``scope``; ``None``: the
region, see :mod:`services.auth.scope`). Names are unique.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.exc import IntegrityError

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
# ``last_used_at`` is written at most this often per token.
LAST_USED_RESOLUTION = timedelta(minutes=1)
_DURATION = re.compile(r"^\s*(\d{1,6})\s*([dhm])\s*$")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}

log = logging.getLogger(__name__)


class TokenNameTaken(ValueError):
    """A token of this name exists already (names are unique, revoked tokens' names included)."""


class TokenStoreUnavailable(ConnectionError):
    """The database is down (a recent lookup failed) and this token has no verification to fall back on."""


@dataclass(frozen=True, slots=True)
class Principal:
    """A token's holder. ``families`` and ``units`` narrow a source token (``None``: not narrowed)."""

    name: str
    role: Role
    families: frozenset[str] | None = None
    units: frozenset[str] | None = None
    # The org node the holder acts for (region, administration, site or unit id); None: the whole region.
    scope: str | None = None
    # The token's row and its expiry (None: never); session principals have neither.
    token_id: int | None = field(default=None, compare=False)
    expires_at: datetime | None = None
    # A source token's source systems (POST /api/v1/sources/{source}/records); None: none.
    sources: frozenset[str] | None = None

    def expired(self, now: datetime | None = None) -> bool:
        return self.expires_at is not None and (now or utcnow()) >= self.expires_at


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
        # Set (and replaced by a fresh one) when this process revokes a token: open WebSockets re-check theirs.
        self.revocation = asyncio.Event()

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
        if principal is None:
            self._known.pop(token_hash, None)  # revoked or expired: never served from the outage grace
        else:
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

    def forget(self, token_hash: str) -> None:
        """Drop a token (revoked here): neither the cache nor the outage grace serves it again."""
        self._entries.pop(token_hash, None)
        self._known.pop(token_hash, None)
        revocation, self.revocation = self.revocation, asyncio.Event()
        revocation.set()

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


_SOURCE_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")


def _valid_sources(role: Role, sources: Iterable[str] | None) -> list[str] | None:
    """A source token's source system names (sorted, each the ``source:`` of a mapping file); others have none."""
    if sources is None:
        return None
    if role is not Role.SOURCE:
        raise ValueError(f"only source tokens post a source system's records (the role {role.value!r} decides)")
    checked = sorted({name.strip() for name in sources if name.strip()})
    if not checked:
        raise ValueError("--sources needs at least one source name")
    bad = [name for name in checked if _SOURCE_NAME.match(name) is None]
    if bad:
        raise ValueError(f"not source names (a-z, 0-9, _ and -, 32 at most): {', '.join(repr(b[:40]) for b in bad)}")
    return checked


def parse_duration(value: str) -> timedelta:
    """``90d``, ``12h`` or ``30m`` as a timedelta; a ``ValueError`` says the form."""
    match = _DURATION.match(value)
    if match is None or int(match.group(1)) <= 0:
        raise ValueError(f"expires: {value!r} is not a duration; use a positive number and d, h or m (90d, 12h, 30m)")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def _valid_org_scope(scope: str | None, org_scope_ids: frozenset[str] | None) -> str | None:
    if scope is None:
        return None
    scope = scope.strip()
    problem = unsafe_character_problem(scope)
    if not scope or problem is not None or len(scope) > MAX_NAME_LENGTH:
        raise ValueError(f"scope: not an org node id{': ' + problem if problem else ''}")
    if org_scope_ids is not None and scope not in org_scope_ids:
        raise ValueError(f"scope: {scope!r} is not the region, an administration, a site or a unit of the org registry")
    return scope


async def issue_token(
    db: Database,
    *,
    role: Role | str,
    name: str,
    families: Iterable[str] | None = None,
    units: Iterable[str] | None = None,
    expires_in: timedelta | None = None,
    scope: str | None = None,
    org_scope_ids: frozenset[str] | None = None,
    sources: Iterable[str] | None = None,
) -> str:
    """Create a token and return it in clear; this is the only time the clear text exists.

    A source token may be narrowed to ``families`` (of :data:`SOURCE_FAMILIES`) and ``units``; without them it
    may submit every family a source may, for any unit. Any token may expire (``expires_in``) and be scoped to
    an org node (``scope``, checked against ``org_scope_ids`` when given). A name already taken raises
    :class:`TokenNameTaken`.
    """
    return (
        await issue(
            db,
            role=role,
            name=name,
            families=families,
            units=units,
            expires_in=expires_in,
            scope=scope,
            org_scope_ids=org_scope_ids,
            sources=sources,
        )
    )[0]


async def issue(
    db: Database,
    *,
    role: Role | str,
    name: str,
    families: Iterable[str] | None = None,
    units: Iterable[str] | None = None,
    expires_in: timedelta | None = None,
    scope: str | None = None,
    org_scope_ids: frozenset[str] | None = None,
    sources: Iterable[str] | None = None,
) -> tuple[str, ApiToken]:
    """:func:`issue_token`, returning the stored row as well (the admin API shows it)."""
    checked_role = parse_role(role)
    checked_name = _valid_name(name)
    checked_families, checked_units = _valid_scope(checked_role, families, units)
    checked_scope = _valid_org_scope(scope, org_scope_ids)
    checked_sources = _valid_sources(checked_role, sources)
    if expires_in is not None and expires_in <= timedelta(0):
        raise ValueError("expires: must be in the future")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(name=checked_name, role=checked_role.value, token_hash=hash_token(token), scope=checked_scope)
    row.created_at = utcnow()
    if expires_in is not None:
        row.expires_at = row.created_at + expires_in
    if checked_families is not None:
        row.families = checked_families
    if checked_units is not None:
        row.units = checked_units
    if checked_sources is not None:
        row.sources = checked_sources
    try:
        async with db.sessions.begin() as session:
            if (await session.execute(select(ApiToken.id).where(ApiToken.name == checked_name))).first():
                raise TokenNameTaken(f"a token named {checked_name!r} exists already; token names are unique")
            session.add(row)
    except IntegrityError:
        raise TokenNameTaken(f"a token named {checked_name!r} exists already; token names are unique") from None
    return token, row


async def free_name(db: Database, base: str) -> str:
    """``base``, or ``base-2``, ``base-3``, ... : the first name no token has (for tokens the system issues)."""
    async with db.sessions() as session:
        taken = set(
            (await session.execute(select(ApiToken.name).where(ApiToken.name.startswith(base)))).scalars().all()
        )
    if base not in taken:
        return base
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


def _scope(value: object) -> frozenset[str] | None:
    """A stored scope column; anything but a list of strings narrows to nothing (fails closed)."""
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        return frozenset()
    return frozenset(value)


async def _lookup(db: Database, token_hash: str) -> Principal | None:
    query = select(
        ApiToken.id,
        ApiToken.name,
        ApiToken.role,
        ApiToken.families,
        ApiToken.units,
        ApiToken.scope,
        ApiToken.expires_at,
        ApiToken.last_used_at,
        ApiToken.sources,
    ).where(ApiToken.token_hash == token_hash, ApiToken.revoked_at.is_(None))
    async with db.sessions() as session:
        row = (await session.execute(query)).first()
    if row is None or row.role not in _ROLE_VALUES:
        return None
    principal = Principal(
        name=row.name,
        role=Role(row.role),
        families=_scope(row.families),
        units=_scope(row.units),
        scope=row.scope,
        token_id=row.id,
        expires_at=row.expires_at,
        sources=_scope(row.sources),
    )
    if principal.expired():
        return None
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
        await _note_use(db, row.id, now)
    return principal


async def _note_use(db: Database, token_id: int, now: datetime) -> None:
    """Stamp ``last_used_at`` unless another process did within the minute; a failure never refuses the token."""
    try:
        async with db.sessions.begin() as session:
            await session.execute(
                update(ApiToken)
                .where(
                    ApiToken.id == token_id,
                    or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at < now - LAST_USED_RESOLUTION),
                )
                .values(last_used_at=now)
                .execution_options(synchronize_session=False)
            )
    except Exception as error:  # the lookup succeeded: the stamp is bookkeeping only
        log.info("could not record a token's last use (%s)", type(error).__name__)


def _live(principal: Principal | None) -> Principal | None:
    return None if principal is None or principal.expired() else principal


async def verify_token(db: Database, *, token: str, cache: TokenCache | None = None) -> Principal | None:
    """The holder of ``token``, or ``None`` when it is unknown, revoked or expired."""
    if not isinstance(token, str) or not token.startswith(TOKEN_PREFIX) or len(token) > MAX_TOKEN_LENGTH:
        return None
    token_hash = hash_token(token)
    if cache is None:
        return await _lookup(db, token_hash)
    hit, principal = cache.get(token_hash)
    if hit:
        return _live(principal)
    if cache.in_outage:
        principal = cache.last_known(token_hash)
        if principal is None:
            raise TokenStoreUnavailable("the token store (database) is unreachable and this token is not known here")
        return _live(principal)
    try:
        principal = await _lookup(db, token_hash)
    except Exception as error:
        if classify(error) != "transient":
            raise
        cache.note_outage()
        principal = cache.last_known(token_hash)
        if principal is None:
            raise
        return _live(principal)
    cache.put(token_hash, principal)
    return principal


def _target(name_or_id: str | int) -> ColumnElement[bool]:
    """The rows ``name_or_id`` names: a token's name, or its id (digits, when no token has that name)."""
    if isinstance(name_or_id, int):
        return ApiToken.id == name_or_id
    name = name_or_id.strip()
    if name.isdigit() and len(name) < 12:
        return or_(ApiToken.name == name, ApiToken.id == int(name))
    return ApiToken.name == name


async def revoke_token(
    db: Database, *, name: str | None = None, token_id: int | None = None, cache: TokenCache | None = None
) -> int:
    """Revoke the active token called ``name`` (or a name that is all digits: that id) or with ``token_id``.

    Returns how many were revoked (0 or 1). The revoking process forgets the token at once (its cache and its
    outage grace); other processes refuse it within their cache TTL.
    """
    if token_id is not None:
        condition = ApiToken.id == token_id
    elif name is not None:
        condition = _target(name)
    else:
        raise ValueError("revoke: give a token's name or id")
    async with db.sessions.begin() as session:
        hashes = (
            (await session.execute(select(ApiToken.token_hash).where(condition, ApiToken.revoked_at.is_(None))))
            .scalars()
            .all()
        )
        if hashes:
            await session.execute(
                update(ApiToken)
                .where(ApiToken.token_hash.in_(hashes))
                .values(revoked_at=utcnow())
                .execution_options(synchronize_session=False)
            )
    if cache is not None:
        for token_hash in hashes:
            cache.forget(token_hash)
    return len(hashes)


async def list_tokens(db: Database) -> list[ApiToken]:
    """Every token, oldest first (the rows: callers show anything but ``token_hash``)."""
    async with db.sessions() as session:
        return list((await session.execute(select(ApiToken).order_by(ApiToken.id))).scalars().all())


async def get_token(db: Database, token_id: int) -> ApiToken | None:
    async with db.sessions() as session:
        return await session.get(ApiToken, token_id)


async def has_admin_token(db: Database) -> bool:
    """Whether an unrevoked admin token exists (``hypercare up`` issues the first one otherwise)."""
    query = select(ApiToken.id).where(ApiToken.role == Role.ADMIN.value, ApiToken.revoked_at.is_(None)).limit(1)
    async with db.sessions() as session:
        return (await session.execute(query)).first() is not None
