"""``GET /api/v1/tokens``, ``POST /api/v1/tokens`` (the clear token, once), ``DELETE /api/v1/tokens/{id}`` (admin).

A revoked token is refused at once by this process (its cache and outage grace forget it), by others within
their token cache TTL; this gateway's WebSockets of that token close at once (1008), other gateways' within
their periodic re-check.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status

from services.auth.dependencies import Admin
from services.dependencies import DatabaseDep, OrgDep, TokenCacheDep
from services.tokens import service
from services.tokens.schemas import TokenIn, TokenIssued, TokenList, TokenOut

router = APIRouter(prefix="/api/v1/tokens", tags=["tokens"])


@router.get("", summary="Every API token: name, role, scope, created, expires, last used, revoked (never the token)")
async def list_tokens(_: Admin, db: DatabaseDep) -> TokenList:
    return await service.list_tokens(db=db)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Issue a token; the answer holds it in clear, this once",
    responses={409: {"description": "A token of this name exists already"}, 422: {"description": "Invalid request"}},
)
async def issue_token(body: TokenIn, _: Admin, db: DatabaseDep, org: OrgDep) -> TokenIssued:
    try:
        return await service.issue(db=db, org=org, body=body)
    except service.TokenNameTaken as error:
        raise HTTPException(status.HTTP_409_CONFLICT, str(error)) from None
    except ValueError as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(error)) from None


@router.delete(
    "/{token_id}",
    summary="Revoke a token: refused everywhere, its open WebSockets closed",
    responses={404: {"description": "No such token"}},
)
async def revoke_token(token_id: int, _: Admin, db: DatabaseDep, cache: TokenCacheDep) -> TokenOut:
    try:
        return await service.revoke(db=db, token_id=token_id, cache=cache)
    except service.TokenNotFound as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(error)) from None
