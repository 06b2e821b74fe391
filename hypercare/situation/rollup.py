"""The live situation picture, computed at read time from the per-unit family states.

Windows are cut against the reader's wall clock (``now``), so the same states read a minute later
give a picture a minute later, with no event needed. Roll-ups (site, administration, region) merge
the children's raw summaries rather than their rendered numbers: counts add up, rates are
recomputed from the summed counts, distinct users are counted over the union, the median is taken
over all resolve times — never an average of averages.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from hypercare.org.registry import UNMAPPED_ID, UNMAPPED_NAME, OrgRegistry, UnitPlacement, exact_hours_since
from hypercare.situation.health import STATUSES, HealthRules, evaluate
from hypercare.situation.state import access as access_state
from hypercare.situation.state import ed as ed_state
from hypercare.situation.state import floorwalkers as floorwalkers_state
from hypercare.situation.state import tickets as tickets_state

UnitStates = Mapping[str, Mapping[str, Mapping[str, Any]]]


@dataclass
class Summary:
    """The mergeable figures behind one object of the picture."""

    tickets: tickets_state.TicketsSummary = field(default_factory=tickets_state.TicketsSummary)
    access: access_state.AccessSummary = field(default_factory=access_state.AccessSummary)
    floorwalkers: floorwalkers_state.FloorwalkersSummary = field(default_factory=floorwalkers_state.FloorwalkersSummary)
    ed: ed_state.EdSummary = field(default_factory=ed_state.EdSummary)
    unit_health: list[str] = field(default_factory=list)  # statuses of every unit below (roll-ups)
    # The earliest actual go-live (epoch seconds) among the units below: a roll-up's hours since go-live.
    first_go_live: float | None = None

    def merge(self, other: Summary) -> None:
        if other.first_go_live is not None and (self.first_go_live is None or other.first_go_live < self.first_go_live):
            self.first_go_live = other.first_go_live
        self.tickets.merge(other.tickets)
        self.access.merge(other.access)
        self.floorwalkers.merge(other.floorwalkers)
        self.ed.merge(other.ed)
        self.unit_health.extend(other.unit_health)

    def blocks(self, *, rollup: bool) -> dict[str, Any]:
        return {
            "tickets": self.tickets.block(),
            "access": self.access.block(),
            "floorwalkers": self.floorwalkers.block(rollup=rollup),
            "ed": self.ed.block(rollup=rollup),
        }


def _utc(now: datetime) -> datetime:
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    return now.astimezone(UTC)


def _unit_summary(
    unit_id: str,
    families: Mapping[str, Any] | None,
    now: float,
    present: set[str] | None,
    go_live: datetime | None = None,
    actual_go_live: datetime | None = None,
) -> Summary:
    families = families or {}
    go_live_ts = go_live.timestamp() if go_live is not None else None
    return Summary(
        tickets=tickets_state.summarize(families.get("tickets"), now),
        access=access_state.summarize(families.get("access"), now),
        floorwalkers=floorwalkers_state.summarize(families.get("floorwalkers"), now, present, go_live_ts),
        ed=ed_state.summarize(families.get("ed"), now, unit_id),
        first_go_live=actual_go_live.timestamp() if actual_go_live is not None else None,
    )


@lru_cache(maxsize=256)
def _hours(first_go_live: float | None, now: float) -> float | None:
    """Hours since go-live as a threshold phase is chosen by (epoch seconds in).

    Cached: every unit of a wave asks with the same go-live and the tick's ``now``, and two datetimes a unit
    were a visible part of computing it.
    """
    if first_go_live is None:
        return None
    return exact_hours_since(datetime.fromtimestamp(first_go_live, UTC), datetime.fromtimestamp(now, UTC))


def _go_live_text(first_go_live: float | None) -> str | None:
    return None if first_go_live is None else datetime.fromtimestamp(first_go_live, UTC).isoformat()


def _unit_object(
    placement: UnitPlacement, summary: Summary, *, as_of: str, rules: HealthRules, now: float
) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "unit_id": placement.unit_id,
        "name": placement.name,
        "kind": placement.kind,
        "site_id": placement.site_id,
        "administration_id": placement.administration_id,
        "wave_id": placement.wave_id,
        "area": placement.area,
        "go_live_at": placement.go_live_at,
        "as_of": as_of,
        **summary.blocks(rollup=False),
    }
    obj["health"] = evaluate(rules, "unit", obj, hours_since_go_live=_hours(summary.first_go_live, now))
    summary.unit_health.append(obj["health"]["status"])
    return obj


def _rollup(
    level: str,
    head: dict[str, Any],
    children: Sequence[tuple[Summary, dict[str, Any]]],
    *,
    rules: HealthRules,
    now: float,
) -> tuple[Summary, dict[str, Any]]:
    summary = Summary()
    for child_summary, _ in children:
        summary.merge(child_summary)
    # The earliest go-live below: what the roll-up's hours since go-live (a threshold phase) count from.
    obj = {**head, "go_live_at": _go_live_text(summary.first_go_live), **summary.blocks(rollup=True)}
    obj["health"] = evaluate(
        rules,
        level,
        obj,
        children=[child["health"]["status"] for _, child in children],
        units=summary.unit_health,
        hours_since_go_live=_hours(summary.first_go_live, now),
    )
    obj["units_by_health"] = {status: summary.unit_health.count(status) for status in STATUSES}
    return summary, obj


def build_situation(
    unit_states: UnitStates,
    *,
    org: OrgRegistry,
    rules: HealthRules,
    now: datetime,
    presence_minutes: int = 240,
) -> dict[str, Any]:
    """The whole picture: ``{"as_of", "region", "administrations": [... "sites": [... "units"]], "data_quality"}``.

    Every unit of the registry appears (zeros when it has no events); units with state that the
    registry does not know are placed under an "unmapped" administration and site.
    """
    now = _utc(now)
    ts = now.timestamp()
    as_of = now.isoformat()
    present = floorwalkers_state.presence(unit_states, ts, presence_minutes * 60)

    def unit(placement: UnitPlacement) -> tuple[Summary, dict[str, Any]]:
        unit_id = placement.unit_id
        go_live = org.go_live.get(placement.unit_id)
        actual = org.actual_go_live.get(unit_id)
        summary = _unit_summary(unit_id, unit_states.get(unit_id), ts, present.get(unit_id), go_live, actual)
        return summary, _unit_object(placement, summary, as_of=as_of, rules=rules, now=ts)

    # (administration head, [(site head, [placements])])
    tree: list[tuple[dict[str, Any], list[tuple[dict[str, Any], list[UnitPlacement]]]]] = []
    for admin in org.administrations:
        sites = [
            (
                {"site_id": site.id, "name": site.name, "administration_id": admin.id},
                [org.place(u.id) for u in site.units],
            )
            for site in admin.sites
        ]
        tree.append(
            ({"administration_id": admin.id, "name": admin.name, "wave_ids": org.administration_waves[admin.id]}, sites)
        )
    unmapped = sorted(unit_id for unit_id in unit_states if not org.knows(unit_id))
    if unmapped:
        site_head = {"site_id": UNMAPPED_ID, "name": UNMAPPED_NAME, "administration_id": UNMAPPED_ID}
        tree.append(
            (
                {"administration_id": UNMAPPED_ID, "name": UNMAPPED_NAME, "wave_ids": []},
                [(site_head, [org.place(unit_id) for unit_id in unmapped])],
            )
        )

    admin_parts: list[tuple[Summary, dict[str, Any]]] = []
    for admin_head, sites in tree:
        site_parts: list[tuple[Summary, dict[str, Any]]] = []
        for site_head, placements in sites:
            unit_parts = [unit(placement) for placement in placements]
            site_summary, site_obj = _rollup("site", {**site_head, "as_of": as_of}, unit_parts, rules=rules, now=ts)
            site_obj["units"] = [obj for _, obj in unit_parts]
            site_parts.append((site_summary, site_obj))
        admin_summary, admin_obj = _rollup(
            "administration", {**admin_head, "as_of": as_of}, site_parts, rules=rules, now=ts
        )
        admin_obj["sites"] = [obj for _, obj in site_parts]
        admin_parts.append((admin_summary, admin_obj))
    region_head = {"region_id": org.region.id, "name": org.region.name, "as_of": as_of}
    _, region_obj = _rollup("region", region_head, admin_parts, rules=rules, now=ts)

    return {
        "as_of": as_of,
        "region": region_obj,
        "administrations": [obj for _, obj in admin_parts],
        "data_quality": {"unmapped_units": unmapped},
    }


def summarize_unit(
    unit_id: str,
    unit_states: UnitStates,
    *,
    org: OrgRegistry,
    rules: HealthRules,
    now: datetime,
    presence_minutes: int = 240,
) -> dict[str, Any]:
    """One unit object (``GET /api/v1/units/{unit_id}``) without building the whole picture.

    Takes all unit states because floor-walker presence is decided across units.
    """
    now = _utc(now)
    ts = now.timestamp()
    present = floorwalkers_state.presence(unit_states, ts, presence_minutes * 60)
    go_live = org.go_live.get(unit_id)
    actual = org.actual_go_live.get(unit_id)
    summary = _unit_summary(unit_id, unit_states.get(unit_id), ts, present.get(unit_id), go_live, actual)
    return _unit_object(org.place(unit_id), summary, as_of=now.isoformat(), rules=rules, now=ts)
