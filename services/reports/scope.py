"""A report read by a scoped principal: the region's totals as they are, every per-node row cut to its scope.

Cut at read time (the stored snapshot stays the region's), so JSON, HTML, PDF and Markdown render the same cut
content. A per-node row names the nodes it concerns in ``nodes`` (written by the snapshot); a row is kept when
one of them is readable (the scope's subtree or the region itself, :func:`services.auth.scope.readable`). Rows of
a per-node table without ``nodes`` (a snapshot older than this field) are dropped for a scoped reader: a report
must never show a scoped reader another administration's row because it cannot tell whose it is.
"""

from __future__ import annotations

from typing import Any

from hypercare.org.registry import OrgRegistry
from services.auth.scope import readable, subtree

# Tables of figures summed per administration: a scoped reader keeps its own administration's line (the
# administration above a site scope too, as the live picture keeps it: services.auth.scope.filter_flat).
AGGREGATE_TABLES = frozenset({"tickets", "access", "floorwalkers", "ed_load", "stop_breakdown"})
# Tables with a row per unit or per record of one (or of the region): the scope's subtree and the region's.
RECORD_TABLES = frozenset({"ed_units", "patient_safety_tickets", "decisions", "alerts", "duties", "risks"})
# Every other table (categories, roles, the stop criteria themselves), every figure and chart is the region's.


def scope_name(org: OrgRegistry, node_id: str) -> str:
    """The registry's name of an administration, site or unit (the id itself when it names none)."""
    if org.knows(node_id):
        return org.place(node_id).name
    for admin in org.administrations:
        if admin.id == node_id:
            return admin.name
        for site in admin.sites:
            if site.id == node_id:
                return site.name
    return node_id


def cut_rows(table: dict[str, Any], nodes: frozenset[str]) -> dict[str, Any]:
    """A table with only the rows naming one of ``nodes`` (its region total row kept)."""
    rows = [row for row in table["rows"] if any(node in nodes for node in row.get("nodes", ()))]
    return {**table, "rows": rows}


def cut_section(section: dict[str, Any], records: frozenset[str], aggregates: frozenset[str]) -> dict[str, Any]:
    """A section with its per-node tables cut (its figures, verdict and charts are the region's and stay)."""
    tables = []
    for table in section.get("tables", []):
        if table["key"] in AGGREGATE_TABLES:
            table = cut_rows(table, aggregates)
        elif table["key"] in RECORD_TABLES:
            table = cut_rows(table, records)
        tables.append(table)
    return {**section, "tables": tables}


def cut_content(org: OrgRegistry, scope: str | None, content: dict[str, Any]) -> dict[str, Any]:
    """The report content ``scope`` may read; the content itself for a region-scoped reader."""
    tree = subtree(org, scope)
    records = readable(org, scope)
    if tree is None or records is None:
        return content
    aggregates = tree.node_ids | {tree.administration_id}
    sections = [cut_section(section, records, aggregates) for section in content["sections"]]
    named = {"id": tree.scope, "name": scope_name(org, tree.scope)}
    return {**content, "scope": named, "sections": sections}
