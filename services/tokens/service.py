"""List, issue and revoke API tokens for the admin API; the clear token exists only in the issue answer."""

from __future__ import annotations

from datetime import datetime

from hypercare.org.registry import OrgRegistry
from hypercare.storage.db import Database
from hypercare.storage.models import ApiToken
from services.auth.tokens import TokenCache, TokenNameTaken, parse_duration
from services.tokens import store
from services.tokens.schemas import TokenIn, TokenIssued, TokenList, TokenOut

__all__ = ["TokenNameTaken", "TokenNotFound", "issue", "list_tokens", "revoke"]


class TokenNotFound(LookupError):
    pass


def _when(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _listed(value: object) -> list[str] | None:
    """A stored families/units column as verification reads it: anything but a list of strings narrows to nothing."""
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        return []
    return list(value)


def _out(row: ApiToken) -> TokenOut:
    return TokenOut(
        id=row.id,
        name=row.name,
        role=row.role,
        scope=row.scope,
        families=_listed(row.families),
        units=_listed(row.units),
        sources=_listed(row.sources),
        created_at=row.created_at.isoformat(),
        expires_at=_when(row.expires_at),
        last_used_at=_when(row.last_used_at),
        revoked_at=_when(row.revoked_at),
    )


async def list_tokens(*, db: Database) -> TokenList:
    return TokenList(items=[_out(row) for row in await store.list_tokens(db)])


async def issue(*, db: Database, org: OrgRegistry, body: TokenIn) -> TokenIssued:
    """Raises ``ValueError`` (a readable reason) for a bad request, :class:`TokenNameTaken` for a taken name."""
    if body.units:
        unknown = [unit for unit in body.units if not org.knows(unit.strip())]
        if unknown:
            raise ValueError(f"units: not units of the org registry: {', '.join(unknown[:5])}")
    expires_in = None if body.expires is None else parse_duration(body.expires)
    token, row = await store.issue(
        db,
        role=body.role,
        name=body.name,
        families=body.families,
        units=body.units,
        expires_in=expires_in,
        scope=body.scope,
        org_scope_ids=org.node_ids,
        sources=body.sources,
    )
    return TokenIssued(token=token, **_out(row).model_dump())


async def revoke(*, db: Database, token_id: int, cache: TokenCache | None) -> TokenOut:
    """Revoke (kept once: revoking a revoked token answers it as it is); :class:`TokenNotFound` for no such id."""
    await store.revoke_token(db, token_id=token_id, cache=cache)
    row = await store.get_token(db, token_id)
    if row is None:
        raise TokenNotFound(f"no token {token_id}")
    return _out(row)
