"""Console sign-in with the region's OpenID provider: authorization code flow with PKCE (S256), through Authlib.

Routes: ``GET /auth/login`` (to the provider), ``GET /auth/callback`` (back from it), ``POST /auth/logout`` (ends
the session server-side and answers the provider's ``end_session_endpoint`` URL, with ``id_token_hint`` and
``post_logout_redirect_uri``, for the browser to sign out there too) and ``GET /api/v1/auth/config``
(``{"oidc": true|false}``, for the console's sign-in).
Authlib discovers the provider (``<issuer>/.well-known/openid-configuration``), exchanges the code and validates
the ID token against the issuer's JWKS (signature, ``iss``, ``aud``, ``exp``, ``nonce``, ``at_hash``); claims the
ID token lacks are read from the userinfo endpoint (same ``sub``). The claims file
(``HYPERCARE_OIDC_CLAIMS_FILE``, shipped ``services/auth/oidc_claims.yaml``) maps them to a Hypercare role, a
name and an organisation scope. A user in no mapped group gets a page saying so (Swedish and English) and no
session. Sessions and their cookies: :mod:`services.auth.session`.

Nothing secret reaches a URL or a log: the code and state are in the callback's URL (the protocol), the
session id and CSRF token only in cookies, the ID token only in the sign-out URL of the provider that issued
it; failures are logged by exception type, never by message.
"""

from __future__ import annotations

import hmac
import html
import logging
import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from authlib.integrations.starlette_client import OAuth
from fastapi import APIRouter, Request, Response, status
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator

from hypercare.privacy.redact import contains_identity_number
from hypercare.rules.loader import ConfigFileError, Naming, read_yaml, validate
from hypercare.settings import Settings
from hypercare.storage.db import Database
from services.audit.service import record_sign_in
from services.auth import session as sessions
from services.auth.roles import Role

log = logging.getLogger(__name__)

CALLBACK_PATH = "/auth/callback"
CONSOLE_PATH = "/console/"
_MAX_NAME = 128
_MAX_SCOPE = 256
_ERROR_CODE = re.compile(r"[a-z_]{1,64}")


class ClaimsFileError(ConfigFileError):
    """An OIDC claims file that cannot be used."""


class ClaimsMap(BaseModel):
    """The claims file: which claims give the name, the role (from group values) and the organisation scope."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    scopes: list[str] = Field(default_factory=lambda: ["openid", "profile", "email"])
    name_claim: list[str] = Field(default_factory=lambda: ["preferred_username", "email"])
    roles_claim: str
    roles: dict[Role, list[str]]
    scope_claim: str | None = None

    @field_validator("name_claim", mode="before")
    @classmethod
    def _one_or_more(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("roles")
    @classmethod
    def _no_source(cls, value: dict[Role, list[str]]) -> dict[Role, list[str]]:
        if Role.SOURCE in value:
            raise ValueError("the source role is for machines (API tokens) and cannot be given by sign-in")
        if not any(value.values()):
            raise ValueError("map at least one group value to a role")
        return value

    @property
    def scope_parameter(self) -> str:
        return " ".join(dict.fromkeys(["openid", *self.scopes]))

    def claim_keys(self) -> set[str]:
        return {self.roles_claim, *([self.scope_claim] if self.scope_claim else [])}

    def role_for(self, claims: dict[str, Any]) -> Role | None:
        """The first role in the file's order whose group values the user has; None when none."""
        raw = claims.get(self.roles_claim)
        held = (
            {raw}
            if isinstance(raw, str)
            else {item for item in raw if isinstance(item, str)}
            if isinstance(raw, list)
            else set()
        )
        for role, values in self.roles.items():
            if held.intersection(values):
                return role
        return None

    def name_for(self, claims: dict[str, Any]) -> str:
        for key in [*self.name_claim, "sub"]:
            value = claims.get(key)
            if isinstance(value, str) and value.strip() and not contains_identity_number(value):
                return value.strip()[:_MAX_NAME]
        return f"oidc:{str(claims.get('sub', ''))[: _MAX_NAME - 5]}"

    def scope_for(self, claims: dict[str, Any]) -> str | None:
        if not self.scope_claim:
            return None
        value = claims.get(self.scope_claim)
        if isinstance(value, list):
            value = " ".join(item for item in value if isinstance(item, str))
        return value[:_MAX_SCOPE] if isinstance(value, str) and value else None


def load_claims_map(path: Path | None = None) -> ClaimsMap:
    data, source = read_yaml(
        path, package="services.auth", filename="oidc_claims.yaml", what="OIDC claims file", error=ClaimsFileError
    )
    return validate(ClaimsMap, data, source, Naming(), error=ClaimsFileError)


@dataclass
class OidcSignIn:
    """The provider's client (Authlib), the claims map and where the console is; built once at start."""

    client: Any  # authlib's StarletteOAuth2App (untyped)
    claims: ClaimsMap
    issuer: str
    public_url: str
    session_lifetime: timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> OidcSignIn | None:
        if not settings.oidc_issuer:
            return None
        assert settings.public_url is not None  # Settings refuses an issuer without it
        claims = load_claims_map(settings.oidc_claims_file)
        issuer = settings.oidc_issuer.rstrip("/")
        client = OAuth().register(
            "hypercare",
            client_id=settings.oidc_client_id,
            client_secret=settings.oidc_client_secret,
            server_metadata_url=f"{issuer}/.well-known/openid-configuration",
            client_kwargs={"scope": claims.scope_parameter, "code_challenge_method": "S256", "timeout": 10.0},
        )
        return cls(
            client=client,
            claims=claims,
            issuer=issuer,
            public_url=settings.public_url.rstrip("/"),
            session_lifetime=timedelta(hours=settings.session_hours),
        )

    @property
    def redirect_uri(self) -> str:
        return self.public_url + CALLBACK_PATH

    @property
    def post_logout_redirect_uri(self) -> str:
        """Where the provider returns the browser after signing out (register it at the provider)."""
        return self.public_url + CONSOLE_PATH

    @property
    def client_id(self) -> str:
        return str(self.client.client_id)

    @property
    def origin(self) -> str:
        return sessions.public_origin(self.public_url)

    @property
    def secure(self) -> bool:
        return self.public_url.startswith("https://")


def oidc_of(request: Request) -> OidcSignIn | None:
    oidc: OidcSignIn | None = getattr(request.app.state, "oidc", None)
    return oidc


router = APIRouter(tags=["auth"])

_PAGE = """<!doctype html>
<html lang="sv"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Hypercare – {title_sv}</title></head>
<body><main>
<h1>{title_sv}</h1><p>{text_sv}</p>
<div lang="en"><h2>{title_en}</h2><p>{text_en}</p></div>
<p><a href="{link}">{link_sv}</a> · <a href="{link}" lang="en">{link_en}</a></p>
</main></body></html>
"""


def _page(
    status_code: int, *, title: tuple[str, str], text: tuple[str, str], link: str, link_text: tuple[str, str]
) -> HTMLResponse:
    body = _PAGE.format(
        title_sv=html.escape(title[0]),
        title_en=html.escape(title[1]),
        text_sv=html.escape(text[0]),
        text_en=html.escape(text[1]),
        link=html.escape(link),
        link_sv=html.escape(link_text[0]),
        link_en=html.escape(link_text[1]),
    )
    return HTMLResponse(body, status_code=status_code, headers={"Cache-Control": "no-store"})


def _failed_page(status_code: int = status.HTTP_400_BAD_REQUEST) -> HTMLResponse:
    return _page(
        status_code,
        title=("Inloggningen misslyckades", "Sign-in failed"),
        text=(
            "Inloggningen kunde inte slutföras eller tog för lång tid. Försök igen.",
            "The sign-in could not be completed or took too long. Please try again.",
        ),
        link="/auth/login",
        link_text=("Logga in igen", "Sign in again"),
    )


def _no_role_page() -> HTMLResponse:
    return _page(
        status.HTTP_403_FORBIDDEN,
        title=("Ingen behörighet till Hypercare", "No access to Hypercare"),
        text=(
            "Du är inloggad hos regionen, men ditt konto tillhör ingen grupp som ger en roll i Hypercare. "
            "Kontakta den som samordnar driftstarten för att få behörighet.",
            "You are signed in with the region, but your account is in no group that gives a role in Hypercare. "
            "Ask the go-live coordination to grant you access.",
        ),
        link=CONSOLE_PATH,
        link_text=("Till startsidan", "To the start page"),
    )


def _clear_login_cookie(response: Response, oidc: OidcSignIn) -> None:
    response.delete_cookie(sessions.LOGIN_COOKIE, path="/auth", secure=oidc.secure, httponly=True, samesite="lax")


def _clear_session_cookies(response: Response, oidc: OidcSignIn) -> None:
    response.delete_cookie(sessions.SESSION_COOKIE, path="/", secure=oidc.secure, httponly=True, samesite="lax")
    response.delete_cookie(sessions.CSRF_COOKIE, path="/", secure=oidc.secure, samesite="lax")


class AuthConfig(BaseModel):
    oidc: bool


@router.get("/api/v1/auth/config", summary="How the console signs in: with the OpenID provider, or by pasted token")
async def auth_config(request: Request) -> AuthConfig:
    return AuthConfig(oidc=oidc_of(request) is not None)


@router.get("/auth/login", include_in_schema=False)
async def login(request: Request) -> Response:
    oidc = oidc_of(request)
    if oidc is None:
        return JSONResponse({"detail": "sign-in with an identity provider is not configured"}, status_code=404)
    db: Database = request.app.state.db
    try:
        started = await oidc.client.create_authorization_url(oidc.redirect_uri)
    except Exception as error:  # the provider's discovery document could not be read
        log.warning("OIDC login: the provider could not be reached (%s)", type(error).__name__)
        return _failed_page(status.HTTP_502_BAD_GATEWAY)
    login_id = await sessions.save_login(
        db,
        sessions.PendingLogin(state=started["state"], nonce=started["nonce"], code_verifier=started["code_verifier"]),
    )
    response = RedirectResponse(
        started["url"], status_code=status.HTTP_302_FOUND, headers={"Cache-Control": "no-store"}
    )
    response.set_cookie(
        sessions.LOGIN_COOKIE,
        login_id,
        max_age=sessions.LOGIN_SECONDS,
        path="/auth",
        secure=oidc.secure,
        httponly=True,
        samesite="lax",
    )
    return response


async def _claims(oidc: OidcSignIn, token: dict[str, Any], nonce: str) -> dict[str, Any]:
    """The validated ID token's claims, completed from userinfo when it lacks the mapped ones."""
    metadata = await oidc.client.load_server_metadata()
    if str(metadata.get("issuer", "")).rstrip("/") != oidc.issuer:
        raise ValueError("the discovery document names another issuer")
    id_claims = await oidc.client.parse_id_token(token, nonce=nonce)
    if id_claims is None:
        raise ValueError("the provider answered without an ID token")
    claims: dict[str, Any] = dict(id_claims)
    missing = oidc.claims.claim_keys() - claims.keys()
    if missing and metadata.get("userinfo_endpoint"):
        info = dict(await oidc.client.userinfo(token=token))
        if info.get("sub") == claims.get("sub"):
            for key, value in info.items():
                claims.setdefault(key, value)
    return claims


@router.get(CALLBACK_PATH, include_in_schema=False)
async def callback(request: Request) -> Response:
    oidc = oidc_of(request)
    if oidc is None:
        return JSONResponse({"detail": "sign-in with an identity provider is not configured"}, status_code=404)
    db: Database = request.app.state.db
    login_id = sessions.cookie_value(request, sessions.LOGIN_COOKIE)
    pending = await sessions.take_login(db, login_id) if login_id else None
    state = request.query_params.get("state")
    code = request.query_params.get("code")
    if pending is None or not state or not hmac.compare_digest(state, pending.state) or not code:
        error = request.query_params.get("error", "")
        if error:
            # An OAuth error code is [a-z_]; anything else is not logged as sent.
            log.info(
                "OIDC callback: the provider answered an error (%s)", error if _ERROR_CODE.fullmatch(error) else "?"
            )
        else:
            log.info("OIDC callback refused: no login under way in this browser, or a state that does not match")
        record_sign_in(request, None, outcome="unauthenticated", method="oidc")
        response: Response = _failed_page()
        _clear_login_cookie(response, oidc)
        return response
    try:
        token = await oidc.client.fetch_access_token(
            redirect_uri=oidc.redirect_uri, code=code, code_verifier=pending.code_verifier
        )
        claims = await _claims(oidc, token, pending.nonce)
    except Exception as error:  # Authlib's OAuth/JOSE errors, the network: never log the message (may hold a code)
        log.warning("OIDC callback: token exchange or ID token validation failed (%s)", type(error).__name__)
        record_sign_in(request, None, outcome="unauthenticated", method="oidc")
        response = _failed_page()
        _clear_login_cookie(response, oidc)
        return response
    role = oidc.claims.role_for(claims)
    if role is None:
        log.info("OIDC sign-in refused: the user is in no group mapped to a Hypercare role")
        response = _no_role_page()
        _clear_login_cookie(response, oidc)
        return response
    name = oidc.claims.name_for(claims)
    id_token = token.get("id_token")
    session_id, csrf, record = await sessions.create_session(
        db,
        name=name,
        role=role,
        scope=oidc.claims.scope_for(claims),
        lifetime=oidc.session_lifetime,
        id_token=id_token if isinstance(id_token, str) else None,
    )
    log.info("OIDC sign-in: a session for role %s", role.value)
    record_sign_in(request, record.principal, method="oidc")
    response = RedirectResponse(
        CONSOLE_PATH, status_code=status.HTTP_303_SEE_OTHER, headers={"Cache-Control": "no-store"}
    )
    max_age = int(oidc.session_lifetime.total_seconds())
    response.set_cookie(
        sessions.SESSION_COOKIE,
        session_id,
        max_age=max_age,
        path="/",
        secure=oidc.secure,
        httponly=True,
        samesite="lax",
    )
    response.set_cookie(
        sessions.CSRF_COOKIE, csrf, max_age=max_age, path="/", secure=oidc.secure, httponly=False, samesite="lax"
    )
    _clear_login_cookie(response, oidc)
    return response


class SignedOut(BaseModel):
    """The session has ended here; ``provider_logout_url`` is where the console sends the browser next to end
    the provider's session too (RP-initiated logout), ``None`` when the provider offers none."""

    signed_out: bool = True
    provider_logout_url: str | None = None


async def provider_logout_url(oidc: OidcSignIn, id_token: str | None) -> str | None:
    """The provider's ``end_session_endpoint`` with ``id_token_hint``, ``post_logout_redirect_uri`` (the console)
    and ``client_id``, when its discovery document advertises one; ``None`` otherwise or when it cannot be read."""
    try:
        metadata = await oidc.client.load_server_metadata()
    except Exception as error:  # the provider is unreachable: the session here has ended all the same
        log.warning("OIDC sign-out: the provider's discovery document could not be read (%s)", type(error).__name__)
        return None
    endpoint = metadata.get("end_session_endpoint")
    if not isinstance(endpoint, str) or not endpoint.startswith(("https://", "http://")):
        return None
    query = {"post_logout_redirect_uri": oidc.post_logout_redirect_uri, "client_id": oidc.client_id}
    if id_token:
        query = {"id_token_hint": id_token, **query}
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{urlencode(query)}"


@router.post("/auth/logout", include_in_schema=False)
async def logout(request: Request) -> Response:
    """Ends the cookie's session server-side (Origin and CSRF token checked), clears the cookies and answers where
    the browser goes to sign out at the provider too (the console navigates there)."""
    oidc = oidc_of(request)
    if oidc is None:
        return JSONResponse({"detail": "sign-in with an identity provider is not configured"}, status_code=404)
    db: Database = request.app.state.db
    cache: sessions.SessionCache | None = getattr(request.app.state, "session_cache", None)
    session_id = sessions.cookie_value(request, sessions.SESSION_COOKIE)
    answer = SignedOut()
    if session_id:
        record = await sessions.find_session(db, session_id, cache)
        if record is not None:
            problem = sessions.csrf_problem(request, record, origin=oidc.origin)
            if problem is not None:
                return JSONResponse({"detail": problem}, status_code=status.HTTP_403_FORBIDDEN)
            id_token = await sessions.end_session(db, session_id, cache)
            record_sign_in(request, record.principal, action="sign_out", method="oidc")
            answer = SignedOut(provider_logout_url=await provider_logout_url(oidc, id_token))
    response = JSONResponse(answer.model_dump(), headers={"Cache-Control": "no-store"})
    _clear_session_cookies(response, oidc)
    return response
