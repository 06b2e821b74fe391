"""JSON Merge Patch (RFC 7386) between two read-side objects: what the subscribed WebSocket sends.

A merge patch cannot set a member to ``null`` (``null`` means "delete"), and the picture has null members
(``oldest_open_minutes``, ``ed.diversion``, ``wave``...). So the subscribed picture reads a null member as an
absent one: :func:`normalize` leaves null members out of objects (not inside arrays, which a merge patch
replaces whole), :func:`diff` never tells a null member from a missing one, and for any two objects
``apply(normalize(a), diff(a, b)) == normalize(b)``.

Merge patches do not compose in general (``{"x": null}`` then ``{"x": {"a": 1}}`` replaces ``x``, while the
merged ``{"x": {"a": 1}}`` merges into the old ``x``), so a client's pending change is kept as the object it
last had and the newest one, and diffed once when sent (:mod:`services.gateway.hub`).
"""

from __future__ import annotations

from typing import Any


def normalize(value: Any) -> Any:
    """``value`` without null members in its objects (arrays are kept as they are)."""
    if isinstance(value, dict):
        return {key: normalize(item) for key, item in value.items() if item is not None}
    return value


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The merge patch that turns ``normalize(before)`` into ``normalize(after)``; ``{}`` when they are equal.

    Values compare as Python compares them (C-speed for the many equal blocks of a picture), so numbers equal
    in value are equal (``0 == 0.0``): the picture never switches a field between types, and a client reading
    JSON numbers cannot tell them apart either.
    """
    patch: dict[str, Any] = {}
    for key, old in before.items():
        if old is not None and after.get(key) is None:
            patch[key] = None
    for key, new in after.items():
        if new is None:
            continue
        old = before.get(key)
        if old == new:
            continue
        if isinstance(new, dict):
            if isinstance(old, dict):
                inner = diff(old, new)
                if inner:
                    patch[key] = inner
            else:
                patch[key] = normalize(new)
        else:
            patch[key] = new
    return patch


def apply(target: Any, patch: Any) -> Any:
    """RFC 7386 section 2, MergePatch(Target, Patch): a new value; ``target`` is not changed."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = apply(result.get(key), value)
    return result
