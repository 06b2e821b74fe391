"""Keyed pseudonyms (HMAC-SHA256) for the fields of a source's record that name a person.

Applied to a record first, before it is mapped, quarantined or logged: a user principal name or a display name
is replaced by ``ps-`` and 28 letters derived from ``HMAC-SHA256(key, value)``. The same person gives the same
pseudonym under the same key (values are compared trimmed and case-folded: ``Anna@Region.se`` is
``anna@region.se``), and without the key the value cannot be recovered or confirmed by guessing. Letters only,
so a pseudonym can never read as a personal identity number.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import re
from collections.abc import Sequence
from typing import Any

PREFIX = "ps-"
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_LENGTH = 28  # 26**28 > 2**131: the first 16 bytes of the digest, all of them
# A path into a record: dotted keys, ``[]`` after a key for every item of a list (``deviceDetail.displayName``,
# ``authenticationDetails[].authenticationMethodDetail``).
_SEGMENT = re.compile(r"^[A-Za-z0-9_$@-]+(\[\])?$")


def valid_path(path: str) -> str | None:
    """Why ``path`` is not a record path, or ``None``."""
    parts = path.split(".")
    if not path or any(_SEGMENT.match(part) is None for part in parts):
        return f"{path!r} is not a path: dotted keys, with [] after a key that holds a list (a.b, a[].b)"
    return None


def pseudonym(key: bytes, value: str) -> str:
    digest = hmac.new(key, value.strip().casefold().encode("utf-8"), hashlib.sha256).digest()
    number = int.from_bytes(digest[:16], "big")
    letters = []
    for _ in range(_LENGTH):
        number, index = divmod(number, len(_LETTERS))
        letters.append(_LETTERS[index])
    return PREFIX + "".join(letters)


def _leaf(key: bytes, value: Any) -> Any:
    """Every string and number under ``value`` pseudonymised; null stays null (nothing to hide)."""
    if value is None:
        return None
    if isinstance(value, dict):
        return {name: _leaf(key, item) for name, item in value.items()}
    if isinstance(value, list):
        return [_leaf(key, item) for item in value]
    if isinstance(value, str):
        return pseudonym(key, value)
    return pseudonym(key, json.dumps(value))


def _apply(key: bytes, node: Any, parts: Sequence[str]) -> None:
    if not parts or not isinstance(node, dict):
        return
    name, many = parts[0].removesuffix("[]"), parts[0].endswith("[]")
    if name not in node:
        return
    if len(parts) == 1 and not many:
        node[name] = _leaf(key, node[name])
        return
    child = node[name]
    if many:
        if not isinstance(child, list):
            node[name] = _leaf(key, child)  # not the list the path expects: hide it whole
            return
        if len(parts) == 1:
            node[name] = _leaf(key, child)
            return
        for item in child:
            _apply(key, item, parts[1:])
    else:
        _apply(key, child, parts[1:])


def pseudonymise(record: Any, paths: Sequence[str], key: bytes | None) -> Any:
    """A copy of ``record`` with the values at ``paths`` pseudonymised (``record`` itself is left as it was).

    Without a key and with paths to apply, raises ``ValueError``: a record must never go on with them in clear.
    """
    if not paths:
        return record
    if key is None:
        raise ValueError("pseudonymise fields need HYPERCARE_PSEUDONYM_KEY")
    result = copy.deepcopy(record)
    for path in paths:
        _apply(key, result, path.split("."))
    return result


def drop(record: Any, paths: Sequence[str]) -> Any:
    """``record`` (already a copy of its own) without the values at ``paths``."""
    for path in paths:
        _remove(record, path.split("."))
    return record


def _remove(node: Any, parts: Sequence[str]) -> None:
    if not parts or not isinstance(node, dict):
        return
    name, many = parts[0].removesuffix("[]"), parts[0].endswith("[]")
    if len(parts) == 1:
        node.pop(name, None)
        return
    child = node.get(name)
    for item in child if many and isinstance(child, list) else [child]:
        _remove(item, parts[1:])
