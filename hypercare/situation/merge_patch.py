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


def same(a: Any, b: Any) -> bool:
    """JSON equality (``True`` is not ``1``, ``1`` is not ``1.0``: they encode differently)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[key], b[key]) for key in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The merge patch that turns ``normalize(before)`` into ``normalize(after)``; ``{}`` when they are equal."""
    patch: dict[str, Any] = {}
    for key, old in before.items():
        if old is not None and after.get(key) is None:
            patch[key] = None
    for key, new in after.items():
        if new is None:
            continue
        old = before.get(key)
        if isinstance(new, dict):
            if isinstance(old, dict):
                inner = diff(old, new)
                if inner:
                    patch[key] = inner
            else:
                patch[key] = normalize(new)
        elif old is None or not same(old, new):
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
