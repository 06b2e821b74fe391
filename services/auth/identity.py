"""Identities the server derives from a token, so a client never has to be trusted to name itself."""

from __future__ import annotations

import hashlib

_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def walker_id_for(name: str) -> str:
    """A stable pseudonymous floor-walker id derived from a token name.

    Letters only, so it can never look like a personal identity number, and the name cannot be
    read back from it.
    """
    digest = hashlib.sha256(f"hypercare-walker:{name}".encode()).digest()
    return "fw-" + "".join(_LETTERS[byte % len(_LETTERS)] for byte in digest[:12])
