"""What a WebSocket client shows: its subscription, and the picture cut to it (pure functions).

A client sends ``{"type": "subscribe", "scopes": [...]}`` (or ``"scopes"`` in its first, ``auth``/``hello``
message). A scope is one of:

- ``"region"``: the region summary and the administrations' own objects (the overview's cards);
- an administration id: that administration, its sites and their units (the administration drill-down);
- a site id: that site and its units; a unit id: that unit;
- ``"emergency_departments"``: every ED unit (the diversion panel and form name them);
- ``"all"``: every object the principal may read.

Objects are those of the principal's own picture first (:func:`services.auth.scope.filter_flat`), so a scoped
principal's ``"region"``/``"all"`` never reach outside its scope, and a node id outside it is refused.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from hypercare.org.registry import OrgRegistry
from hypercare.situation.merge_patch import diff as merge_diff
from hypercare.situation.merge_patch import normalize
from services.auth.scope import covers

Flat = dict[str, dict[str, dict[str, Any]]]  # services.gateway.hub.Flat: kind -> id -> object
Key = tuple[str, str]  # (kind, id): ("units", "SE...") or ("region", "region")

REGION = "region"
ALL = "all"
EDS = "emergency_departments"
NAMED = (REGION, ALL, EDS)
KINDS = ("region", "administrations", "sites", "units")
MAX_SCOPES = 200


@dataclass(frozen=True, slots=True)
class Subscription:
    """A set of scopes (order and repeats do not matter: equal sets share one encoding)."""

    scopes: frozenset[str]

    def listed(self) -> list[str]:
        return sorted(self.scopes)

    def holds(self, kind: str, obj: dict[str, Any]) -> bool:
        """Whether ``obj`` (of ``kind``) belongs to this subscription."""
        scopes = self.scopes
        if ALL in scopes:
            return True
        if kind == "region":
            return REGION in scopes
        if kind == "administrations":
            return REGION in scopes or obj.get("administration_id") in scopes
        if kind == "sites":
            return obj.get("site_id") in scopes or obj.get("administration_id") in scopes
        if kind == "units":
            return (
                obj.get("unit_id") in scopes
                or obj.get("site_id") in scopes
                or obj.get("administration_id") in scopes
                or (EDS in scopes and obj.get("kind") == "ed")
            )
        return False


def resolve(
    org: OrgRegistry, principal_scope: str | None, scopes: Any, *, known: Callable[[str], bool]
) -> Subscription:
    """The subscription ``scopes`` asks for, or a ``ValueError`` with a reason the client can show.

    ``known`` says whether an id is an administration, site or unit of the picture (the registry's, plus the
    unmapped ones). A scoped principal may name nodes inside its scope only (the named scopes are cut to it).
    """
    if not isinstance(scopes, list) or not scopes or not all(isinstance(scope, str) for scope in scopes):
        raise ValueError('"scopes" must be a non-empty list of strings')
    if len(scopes) > MAX_SCOPES:
        raise ValueError(f'"scopes" may list at most {MAX_SCOPES} scopes; subscribe to their parents instead')
    for scope in scopes:
        if scope in NAMED:
            continue
        if scope == org.region.id:
            raise ValueError(f'{scope!r} is the region: subscribe to "region" for its summary or "all" for everything')
        if not known(scope):
            raise ValueError(
                f'{scope!r} is not "region", "all", "emergency_departments" or an administration, site or unit'
            )
        if not covers(org, principal_scope, scope):
            raise ValueError(
                f"this token is scoped to {principal_scope!r} and may not subscribe to {scope!r} (outside its scope)"
            )
    return Subscription(frozenset(scopes))


def members(flat: Flat, subscription: Subscription) -> Iterator[tuple[Key, dict[str, Any]]]:
    """((kind, id), object) of each object of ``flat`` the subscription holds."""
    for kind in KINDS:
        for key, obj in flat.get(kind, {}).items():
            if subscription.holds(kind, obj):
                yield (kind, key), obj


def document(objects: Iterable[tuple[Key, dict[str, Any]]]) -> dict[str, Any]:
    """The subscribed picture's JSON: ``{"region": {...}, "administrations": {id: {...}}, "sites", "units"}``.

    Null members are left out (:func:`hypercare.situation.merge_patch.normalize`); kinds without objects are
    left out too (except the three maps, always present).
    """
    picture: dict[str, Any] = {"administrations": {}, "sites": {}, "units": {}}
    for (kind, key), obj in objects:
        if kind == "region":
            picture["region"] = normalize(obj)
        else:
            picture[kind][key] = normalize(obj)
    return picture


def cut(flat: Flat, subscription: Subscription) -> dict[str, Any]:
    """``flat`` (already cut to the principal's scope) as the subscribed picture of ``subscription``."""
    return document(members(flat, subscription))


def change(flat: Flat, before: Subscription, after: Subscription) -> tuple[list[Key], list[Key]]:
    """(added, dropped) object keys when a client's subscription goes from ``before`` to ``after``."""
    added: list[Key] = []
    dropped: list[Key] = []
    for kind in KINDS:
        for key, obj in flat.get(kind, {}).items():
            was, now = before.holds(kind, obj), after.holds(kind, obj)
            if now and not was:
                added.append((kind, key))
            elif was and not now:
                dropped.append((kind, key))
    return added, dropped


def place(patch: dict[str, Any], key: Key, value: Any) -> None:
    """Put one object's patch (or ``None``: removed) into a picture patch."""
    kind, ident = key
    if kind == "region":
        patch["region"] = value
    else:
        patch.setdefault(kind, {})[ident] = value


def object_patch(before: dict[str, Any] | None, after: dict[str, Any] | None) -> Any:
    """One object's entry in a picture patch: the whole (normalized) object when it appears, ``None`` when it
    goes, its merge patch when it changed; :data:`UNCHANGED` when there is nothing to send."""
    if after is None:
        return None if before is not None else UNCHANGED
    if before is None:
        return normalize(after)
    patch = merge_diff(before, after)
    return patch if patch else UNCHANGED


UNCHANGED: Any = object()  # object_patch's "nothing to send"


def picture_patch(pairs: Iterable[tuple[Key, dict[str, Any] | None, dict[str, Any] | None]]) -> dict[str, Any]:
    """The merge patch of the subscribed picture from (key, object the client has, object it should have)."""
    patch: dict[str, Any] = {}
    for key, before, after in pairs:
        value = object_patch(before, after)
        if value is not UNCHANGED:
            place(patch, key, value)
    return patch


class Index:
    """Objects by where they sit, so a subscription picks its share of a change without testing every object
    (a minute's tick changes most of a 2,000-unit picture, and tablets make many distinct subscriptions)."""

    def __init__(self, objects: Mapping[Key, dict[str, Any]]) -> None:
        self.keys = list(objects)
        self._by_node: dict[str, list[Key]] = {}  # administration, site or unit id -> the keys in its subtree
        self._region: list[Key] = []
        self._administrations: list[Key] = []
        self._eds: list[Key] = []
        for key, obj in objects.items():
            kind = key[0]
            if kind == "region":
                self._region.append(key)
                continue
            nodes: tuple[Any, ...]
            if kind == "administrations":
                self._administrations.append(key)
                nodes = (obj.get("administration_id"),)
            elif kind == "sites":
                nodes = (obj.get("site_id"), obj.get("administration_id"))
            else:
                nodes = (obj.get("unit_id"), obj.get("site_id"), obj.get("administration_id"))
                if obj.get("kind") == "ed":
                    self._eds.append(key)
            for node in nodes:
                if isinstance(node, str):
                    self._by_node.setdefault(node, []).append(key)

    def select(self, subscription: Subscription) -> list[Key]:
        """The keys ``subscription`` holds (:meth:`Subscription.holds`), each once."""
        scopes = subscription.scopes
        if ALL in scopes:
            return self.keys
        picked: dict[Key, None] = {}
        if REGION in scopes:
            picked.update(dict.fromkeys(self._region))
            picked.update(dict.fromkeys(self._administrations))
        if EDS in scopes:
            picked.update(dict.fromkeys(self._eds))
        for scope in scopes:
            picked.update(dict.fromkeys(self._by_node.get(scope, ())))
        return list(picked)
