"""The ``api_tokens`` table, through :mod:`services.auth.tokens` (which owns issuing, verifying and revoking)."""

from __future__ import annotations

from services.auth.tokens import get_token, issue, list_tokens, revoke_token

__all__ = ["get_token", "issue", "list_tokens", "revoke_token"]
