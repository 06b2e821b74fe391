"""Org scopes: a principal scoped to a node of the org tree (region, administration, site or unit).

``None`` (or the region's id) is the whole region. A scoped principal reads the region's totals plus its
scope's subtree only, and may write (decide, acknowledge, divert) only for nodes inside that subtree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hypercare.org.registry import OrgRegistry


@dataclass(frozen=True, slots=True)
class Subtree:
    """Where a scope sits: its administration, site and unit (``None`` above the scope's level)."""

    scope: str
    administration_id: str
    site_id: str | None
    unit_id: str | None
    node_ids: frozenset[str]


def subtree(org: OrgRegistry, scope: str | None) -> Subtree | None:
    """The subtree of ``scope``; ``None`` for the whole region. An id the registry lacks has an empty subtree."""
    if scope is None or scope == org.region.id:
        return None
    for admin in org.administrations:
        for site in admin.sites:
            units = frozenset(unit.id for unit in site.units)
            if scope == site.id:
                return Subtree(scope, admin.id, site.id, None, frozenset({site.id}) | units)
            if scope in units:
                return Subtree(scope, admin.id, site.id, scope, frozenset({scope}))
        if scope == admin.id:
            nodes = {admin.id}
            for site in admin.sites:
                nodes.add(site.id)
                nodes.update(unit.id for unit in site.units)
            return Subtree(scope, admin.id, None, None, frozenset(nodes))
    return Subtree(scope, "", None, None, frozenset())


def covers(org: OrgRegistry, scope: str | None, node_id: str) -> bool:
    """Whether ``node_id`` (a unit, site, administration or the region) lies inside ``scope``."""
    tree = subtree(org, scope)
    return tree is None or node_id in tree.node_ids


def readable(org: OrgRegistry, scope: str | None) -> frozenset[str] | None:
    """The node ids whose records ``scope`` may read: its subtree and the region itself (region-wide records such
    as a go/no-go decision concern everyone); ``None`` for the whole region. Computed once per request."""
    tree = subtree(org, scope)
    return None if tree is None else tree.node_ids | {org.region.id}


def readable_units(org: OrgRegistry, scope: str | None) -> list[str] | None:
    """The registry's units inside ``scope`` (for a SQL condition); ``None`` for the whole region."""
    tree = subtree(org, scope)
    return None if tree is None else sorted(tree.node_ids & org.placements.keys())


def filter_by_node(
    org: OrgRegistry, scope: str | None, items: list[dict[str, Any]], key: str = "unit_id"
) -> list[dict[str, Any]]:
    """The records (risks, duties, ...) whose ``key`` names a node ``scope`` may read (see :func:`readable`)."""
    nodes = readable(org, scope)
    return items if nodes is None else [item for item in items if item[key] in nodes]


def refusal(org: OrgRegistry, scope: str | None, node_id: str, action: str) -> str | None:
    """Why a principal scoped to ``scope`` may not ``action`` for ``node_id`` (a clear reason), or ``None``."""
    if covers(org, scope, node_id):
        return None
    return f"this token is scoped to {scope!r} and may not {action} for {node_id!r} (outside its scope)"


def valid_scope(org: OrgRegistry, scope: str | None) -> str | None:
    """``scope`` stripped, or a ``ValueError`` when it is not a node of the org registry."""
    if scope is None:
        return None
    scope = scope.strip()
    if scope not in org.node_ids:
        raise ValueError(f"scope: {scope!r} is not the region, an administration, a site or a unit of the org registry")
    return scope


def filter_situation(org: OrgRegistry, scope: str | None, situation: dict[str, Any]) -> dict[str, Any]:
    """The picture ``scope`` may read: the region block as it is, the administrations cut to the subtree."""
    tree = subtree(org, scope)
    if tree is None:
        return situation
    administrations = []
    for admin in situation["administrations"]:
        if admin["administration_id"] != tree.administration_id:
            continue
        if tree.site_id is not None:
            sites = []
            for site in admin.get("sites", []):
                if site["site_id"] != tree.site_id:
                    continue
                if tree.unit_id is not None:
                    site = {**site, "units": [u for u in site.get("units", []) if u["unit_id"] == tree.unit_id]}
                sites.append(site)
            admin = {**admin, "sites": sites}
        administrations.append(admin)
    return {**situation, "administrations": administrations}


Flat = dict[str, dict[str, dict[str, Any]]]  # services.gateway.hub.Flat: kind -> id -> object


def filter_flat(org: OrgRegistry, scope: str | None, flat: Flat) -> Flat:
    """A flattened picture or delta (``services.gateway.hub.Flat``) cut to ``scope`` (region kept).

    Administrations and sites above the scope keep their own figures, with their child id lists cut to it.
    Alerts are kept for nodes inside the scope and for the region.
    """
    tree = subtree(org, scope)
    if tree is None:
        return flat
    nodes = tree.node_ids | {tree.administration_id}
    if tree.site_id is not None:
        nodes |= {tree.site_id}
    cut: Flat = {}
    for kind, objects in flat.items():
        if kind == "region":
            cut[kind] = objects
        elif kind == "alerts":
            cut[kind] = {
                key: alert
                for key, alert in objects.items()
                if alert.get("node_id") in tree.node_ids or alert.get("node_id") == org.region.id
            }
        else:
            kept: dict[str, dict[str, Any]] = {}
            for key, obj in objects.items():
                if key not in nodes:
                    continue
                if kind == "administrations" and tree.site_id is not None:
                    obj = {**obj, "site_ids": [s for s in obj.get("site_ids", []) if s == tree.site_id]}
                elif kind == "sites" and tree.unit_id is not None:
                    obj = {**obj, "unit_ids": [u for u in obj.get("unit_ids", []) if u == tree.unit_id]}
                kept[key] = obj
            cut[kind] = kept
    return cut


def filter_alerts(org: OrgRegistry, scope: str | None, alerts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The alerts ``scope`` may read: of nodes inside it, and the region's."""
    if subtree(org, scope) is None:
        return alerts
    kept = filter_flat(org, scope, {"alerts": {str(index): alert for index, alert in enumerate(alerts)}})
    return list(kept["alerts"].values())
