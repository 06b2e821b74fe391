"""Readiness at a moment: the stored assessments scored by :mod:`services.readiness.evaluate`, rolled up.

Units are chosen by wave and/or an org node (a unit, site or administration); a principal scoped below the
region sees the units of its subtree, the sites and administrations in and above it, and the region-wide totals
(areas, each wave's gate and counts) with the blocking units outside its scope counted but not named.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from datetime import UTC, datetime

from hypercare.org.registry import OrgRegistry
from hypercare.rules.readiness import ReadinessChecklist
from hypercare.storage.db import Database
from hypercare.storage.errors import classify
from services.auth.scope import subtree
from services.readiness.evaluate import unit_readiness, wave_gate
from services.readiness.schemas import (
    ChecklistItemView,
    NodeReadiness,
    ReadinessCounts,
    ReadinessStatus,
    ReadinessView,
    UnitReadinessView,
    WaveGate,
)
from services.readiness.store import Assessments, assessments_at

log = logging.getLogger(__name__)
UNIT_VIEW_WAIT = 1.0  # seconds the unit view waits for a unit's readiness before serving the live figures without


class UnknownNode(LookupError):
    """A wave or node the registry lacks (the message names it)."""


def rolled_up(node_id: str, name: str, statuses: Iterable[ReadinessStatus]) -> NodeReadiness:
    counts: dict[ReadinessStatus, int] = {"green": 0, "yellow": 0, "red": 0}
    for status in statuses:
        counts[status] += 1
    worst: ReadinessStatus = "red" if counts["red"] else "yellow" if counts["yellow"] else "green"
    return NodeReadiness(id=node_id, name=name, status=worst, units=ReadinessCounts(**counts))


def values(assessments: Assessments) -> dict[str, dict[str, bool | float]]:
    return {unit_id: {item: a.value for item, a in items.items()} for unit_id, items in assessments.items()}


def unit_view(
    org: OrgRegistry, checklist: ReadinessChecklist, unit_id: str, assessments: Assessments
) -> UnitReadinessView:
    """One unit's readiness with its items' assessors and evidence."""
    own = assessments.get(unit_id, {})
    scored = unit_readiness(checklist, unit_id, {item: a.value for item, a in own.items()})
    items = []
    for item in scored.items:
        found = own.get(item.item_id)
        if found is not None:
            item = item.model_copy(
                update={"assessed_at": found.assessed_at, "assessor": found.assessor, "evidence": found.evidence}
            )
        items.append(item)
    placement = org.place(unit_id)
    return UnitReadinessView(
        unit_id=unit_id,
        status=scored.status,
        items=items,
        name=placement.name,
        site_id=placement.site_id,
        administration_id=placement.administration_id,
        area=placement.area,
        wave_id=placement.wave_id,
    )


def scoped_gate(gate: WaveGate, visible: frozenset[str] | None, administrations: set[str] | None) -> WaveGate:
    """The whole wave's gate, its blocking units named only inside the reader's scope."""
    if visible is None or administrations is None:
        return gate
    named = [unit_id for unit_id in gate.blocking_unit_ids if unit_id in visible]
    return gate.model_copy(
        update={
            "blocking_unit_ids": named,
            "blocking_elsewhere": len(gate.blocking_unit_ids) - len(named),
            "by_administration": {k: v for k, v in gate.by_administration.items() if k in administrations},
        }
    )


async def unit_readiness_at(
    db: Database, org: OrgRegistry, checklist: ReadinessChecklist, unit_id: str, *, at: datetime
) -> dict[str, object] | None:
    """One unit's readiness at ``at`` as JSON (for the unit view); None for a unit the registry lacks, and while
    the event store does not answer within :data:`UNIT_VIEW_WAIT`: the unit's live figures come from memory and
    are served through a database outage, so its readiness must not hold them up."""
    if not org.knows(unit_id):
        return None
    try:
        async with asyncio.timeout(UNIT_VIEW_WAIT):
            assessments = await assessments_at(db, at=at, unit_ids=[unit_id])
    except Exception as error:
        if not isinstance(error, TimeoutError) and classify(error) != "transient":
            raise
        log.warning("readiness of %s left out of the unit view: the event store did not answer", unit_id)
        return None
    return unit_view(org, checklist, unit_id, assessments).model_dump(mode="json")


async def wave_gates(
    db: Database, org: OrgRegistry, checklist: ReadinessChecklist, *, at: datetime, scope: str | None = None
) -> dict[str, WaveGate]:
    """Every wave's gate at ``at`` (for ``GET /api/v1/waves``)."""
    units = [unit_id for wave_units in org.wave_units.values() for unit_id in wave_units]
    assessed = values(await assessments_at(db, at=at, unit_ids=units))
    tree = subtree(org, scope)
    visible = None if tree is None else tree.node_ids
    admins = None if tree is None else {tree.administration_id}
    return {wave.id: scoped_gate(wave_gate(org, checklist, assessed, wave.id), visible, admins) for wave in org.waves}


async def readiness_at(
    db: Database,
    org: OrgRegistry,
    checklist: ReadinessChecklist,
    *,
    at: datetime,
    wave: str | None = None,
    node: str | None = None,
    scope: str | None = None,
) -> ReadinessView:
    """Readiness of the units of ``wave`` and/or under ``node`` as the stored assessments stood at ``at``."""
    at = at.astimezone(UTC)
    if wave is not None and wave not in org.waves_by_id:
        raise UnknownNode(f"wave {wave!r} is not a wave of the org registry")
    if node is not None and node not in org.node_ids:
        raise UnknownNode(f"unit_id {node!r} is not a unit, site or administration of the org registry")
    under = subtree(org, node)
    chosen = [
        placement
        for placement in org.placements.values()
        if (wave is None or placement.wave_id == wave) and (under is None or placement.unit_id in under.node_ids)
    ]
    gate_waves = [w.id for w in org.waves if w.id == wave or (wave is None and any(p.wave_id == w.id for p in chosen))]
    wanted = {p.unit_id for p in chosen} | {unit_id for wave_id in gate_waves for unit_id in org.wave_units[wave_id]}
    assessments = await assessments_at(db, at=at, unit_ids=wanted)
    scored = {p.unit_id: unit_view(org, checklist, p.unit_id, assessments) for p in chosen}

    tree = subtree(org, scope)
    visible = None if tree is None else tree.node_ids
    shown_nodes = None if tree is None else tree.node_ids | {tree.administration_id, tree.site_id}
    sites: dict[str, list[ReadinessStatus]] = {}
    administrations: dict[str, list[ReadinessStatus]] = {}
    areas: dict[str, list[ReadinessStatus]] = {}
    for p in chosen:
        status = scored[p.unit_id].status
        sites.setdefault(p.site_id, []).append(status)
        administrations.setdefault(p.administration_id, []).append(status)
        if p.area is not None:
            areas.setdefault(p.area, []).append(status)
    site_names = {site.id: site.name for admin in org.administrations for site in admin.sites}
    admin_names = {admin.id: admin.name for admin in org.administrations}
    assessed = values(assessments)
    admins_shown = None if tree is None else {tree.administration_id}
    return ReadinessView(
        as_of=at,
        wave=wave,
        unit_id=node,
        checklist=[
            ChecklistItemView(
                item_id=item.id,
                title=item.title,
                kind=item.kind,
                green_from=item.green_from,
                yellow_from=item.yellow_from,
            )
            for item in checklist.items
        ],
        units=[view for unit_id, view in scored.items() if visible is None or unit_id in visible],
        sites=[
            rolled_up(site_id, site_names[site_id], statuses)
            for site_id, statuses in sites.items()
            if shown_nodes is None or site_id in shown_nodes
        ],
        administrations=[
            rolled_up(admin_id, admin_names[admin_id], statuses)
            for admin_id, statuses in administrations.items()
            if shown_nodes is None or admin_id in shown_nodes
        ],
        areas=[rolled_up(area.id, area.name, areas[area.id]) for area in org.areas if area.id in areas],
        waves=[
            scoped_gate(wave_gate(org, checklist, assessed, wave_id), visible, admins_shown) for wave_id in gate_waves
        ],
    )
