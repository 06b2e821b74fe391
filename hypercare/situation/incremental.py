"""The situation picture kept up to date: each tick computes again only what can have changed.

:func:`hypercare.situation.rollup.build_situation` computes the whole picture from every unit's state; at
2,000 units that costs the gateway 0.2–0.8 s per tick. :class:`IncrementalPicture` gives exactly the same
picture (a property test compares the two after every step) while computing again only

- the units whose state arrived since the last :meth:`~IncrementalPicture.advance` (``touched``);
- the units one of whose figures moves with the clock alone (a window edge passed, the next whole minute of
  an "oldest open" or "minutes since" figure): each unit's next such moment is its families' ``changes_at``,
  kept in a heap;
- the units a floor walker was counted on before a touched unit's state and is counted on now (presence is a
  join across units: a walker's latest record anywhere decides where they are);
- above them, each site, administration and the region with a child whose summary or object changed.

State::

    units:       {unit_id: (Summary, object)}        # unit_health = [its status]; the object's "as_of" is blank
    rollups:     {(level, id): (Summary, object)}     # level "site" | "administration" | "region"
    children:    {(level, id): [child ids]}           # registry order; the unmapped site's units sorted
    due:         {unit_id: moment}, heap [(moment, unit_id)]   # stale heap entries (moment moved) are skipped
    walkers:     {walker_id: {unit_id: walker record}} # the presence join's input, by walker
    unit_walkers {unit_id: set[walker_id]}
    present:     {unit_id: set[walker_id]}, present_at {walker_id: unit_id}   # where the picture counts them
    changed:     {kind: set[id]}                      # objects changed since the last take_changed()

Roll-ups are merged again from their children's kept summaries, in registry order, with the summaries' own
``merge``, never kept by subtraction: distinct users (sets), the median of resolve times (a list), the oldest
open ticket (a maximum) cannot be taken back out of a total, and merging in the full build's order settles
ties (the stalest ED report) the same way. So a figure added to :class:`~hypercare.situation.rollup.Summary`
and its ``merge`` flows through unchanged; a figure that moves with the clock needs its moment in its family's
``changes_at`` (the property test finds one that is missing). A tick costs the changed units, the units of
each touched site, the sites of each touched administration and the region's administrations.

Moments come from the same float expressions the summaries use and are asked :data:`EARLY` seconds early: a
unit computed a millisecond before its figure moves finds nothing changed and stays due until it has. A clock
that stepped back, or ``touched=None`` (the caller cannot say which units changed), computes everything again.
"""

from __future__ import annotations

import heapq
import math
from bisect import insort
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from hypercare.org.registry import UNMAPPED_ID, UNMAPPED_NAME, OrgRegistry, UnitPlacement
from hypercare.situation.facts import presence as presence_facts
from hypercare.situation.health import HealthRules
from hypercare.situation.rollup import Summary, UnitStates, _rollup, _unit_object, _unit_summary
from hypercare.situation.state import access as access_state
from hypercare.situation.state import ed as ed_state
from hypercare.situation.state import floorwalkers as floorwalkers_state
from hypercare.situation.state import tickets as tickets_state

EARLY = 0.001  # seconds: a unit is computed again this much before its next moment (float rounding)
KINDS = ("units", "sites", "administrations", "region")
Flat = dict[str, dict[str, dict[str, Any]]]  # kind -> id -> object (services.gateway.hub.Flat)
Node = tuple[str, str]  # (level, id) of a roll-up
REGION: Node = ("region", "region")
_KIND = {"site": "sites", "administration": "administrations", "region": "region"}
_CHILD_LEVEL = {"region": "administration", "administration": "site"}


def _utc_ts(now: datetime) -> tuple[float, str]:
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    now = now.astimezone(UTC)
    return now.timestamp(), now.isoformat()


class IncrementalPicture:
    """The live picture of ``org``; :meth:`advance` it to a moment, read it with :meth:`situation`."""

    def __init__(self, *, org: OrgRegistry, rules: HealthRules, presence_minutes: int = 240) -> None:
        self._org = org
        self._rules = rules
        self._presence_seconds = presence_minutes * 60.0
        self._now: float | None = None
        self._as_of = ""
        self.computed = [0, 0]  # units and roll-ups computed by the last advance (for the benchmark)
        self._reset()

    def _reset(self) -> None:
        org = self._org
        self._heads: dict[Node, dict[str, Any]] = {
            REGION: {"region_id": org.region.id, "name": org.region.name, "as_of": ""}
        }
        self._children: dict[Node, list[str]] = {REGION: []}
        self._site_of: dict[str, Node] = {}  # unit id -> its site
        self._parent: dict[Node, Node] = {}  # site -> its administration, administration -> the region
        for admin in org.administrations:
            self._add_node(
                ("administration", admin.id),
                {
                    "administration_id": admin.id,
                    "name": admin.name,
                    "wave_ids": list(org.administration_waves[admin.id]),
                    "as_of": "",
                },
                REGION,
            )
            for site in admin.sites:
                node = ("site", site.id)
                head = {"site_id": site.id, "name": site.name, "administration_id": admin.id, "as_of": ""}
                self._add_node(node, head, ("administration", admin.id))
                for unit in site.units:
                    self._children[node].append(unit.id)
                    self._site_of[unit.id] = node
        self._unmapped: list[str] = []
        self._placements: dict[str, UnitPlacement] = {}
        self._units: dict[str, tuple[Summary, dict[str, Any]]] = {}
        self._rollups: dict[Node, tuple[Summary, dict[str, Any]]] = {}
        self._due: dict[str, float] = {}
        self._heap: list[tuple[float, str]] = []
        self._walkers: dict[str, dict[str, Mapping[str, Any]]] = {}
        self._unit_walkers: dict[str, set[str]] = {}
        self._present: dict[str, set[str]] = {}
        self._present_at: dict[str, str] = {}
        self._where: dict[str, str | None] = {}  # presence memo of the current advance
        self._changed: dict[str, set[str]] = {kind: set() for kind in KINDS}

    def _add_node(self, node: Node, head: dict[str, Any], parent: Node) -> None:
        self._heads[node] = head
        self._children[node] = []
        self._children[parent].append(node[1])
        self._parent[node] = parent

    # --- advancing ---------------------------------------------------------------------------------

    def advance(self, unit_states: UnitStates, now: datetime, touched: Iterable[str] | None) -> None:
        """Bring the picture to ``now``; ``touched``: the units whose state may have changed since the last
        advance (``None``: unknown, everything is computed again). The changes accumulate for
        :meth:`take_changed`."""
        ts, as_of = _utc_ts(now)
        self._as_of = as_of
        self._where = {}
        self.computed = [0, 0]
        units = None if touched is None else set(touched)
        if units is not None and any(u not in unit_states and not self._org.knows(u) for u in units):
            units = None  # an unmapped unit's state vanished: only a caller's own dict does that
        if units is None or self._now is None or ts < self._now:
            self._now = ts
            self._rebuild(unit_states, ts)
            return
        self._now = ts
        dirty: set[str] = set()
        sites: set[Node] = set()
        affected: set[str] = set()
        for unit_id in units:
            if unit_id not in self._site_of:
                self._add_unmapped(unit_id)
                sites.add(("site", UNMAPPED_ID))
            dirty.add(unit_id)
            affected |= self._index(unit_id, unit_states.get(unit_id))
        for walker_id in affected:
            before, now_at = self._present_at.get(walker_id), self._where_is(walker_id, ts)
            if before != now_at:
                dirty.update(unit for unit in (before, now_at) if unit is not None)
        while self._heap and self._heap[0][0] <= ts:
            moment, unit_id = heapq.heappop(self._heap)
            if self._due.get(unit_id) == moment:
                del self._due[unit_id]
                dirty.add(unit_id)
        for unit_id in dirty:
            if self._compute_unit(unit_id, unit_states.get(unit_id), ts):
                sites.add(self._site_of[unit_id])
        self._roll_up(sites)

    def _rebuild(self, unit_states: UnitStates, ts: float) -> None:
        self._reset()
        for unit_id in sorted(u for u in unit_states if not self._org.knows(u)):
            self._add_unmapped(unit_id)
        for unit_id in unit_states:
            self._index(unit_id, unit_states[unit_id])
        for unit_id in self._site_of:
            self._compute_unit(unit_id, unit_states.get(unit_id), ts)
        for level in ("site", "administration", "region"):
            for node in [node for node in self._children if node[0] == level]:
                self._compute_rollup(node)

    def _add_unmapped(self, unit_id: str) -> None:
        site: Node = ("site", UNMAPPED_ID)
        if site not in self._children:
            admin: Node = ("administration", UNMAPPED_ID)
            head = {"administration_id": UNMAPPED_ID, "name": UNMAPPED_NAME, "wave_ids": [], "as_of": ""}
            self._add_node(admin, head, REGION)
            self._add_node(
                site,
                {"site_id": UNMAPPED_ID, "name": UNMAPPED_NAME, "administration_id": UNMAPPED_ID, "as_of": ""},
                admin,
            )
        insort(self._children[site], unit_id)
        insort(self._unmapped, unit_id)
        self._site_of[unit_id] = site

    def _roll_up(self, sites: set[Node]) -> None:
        """Sites, then their administrations, then the region: each merged again when a child changed."""
        level_nodes = sites
        while level_nodes:
            parents: set[Node] = set()
            for node in level_nodes:
                if self._compute_rollup(node) and node != REGION:
                    parents.add(self._parent[node])
            level_nodes = parents

    # --- presence ----------------------------------------------------------------------------------

    def _index(self, unit_id: str, families: Mapping[str, Any] | None) -> set[str]:
        """Re-read a unit's walker records; the walkers it named before or names now."""
        state = (families or {}).get(floorwalkers_state.FAMILY)
        walkers: Mapping[str, Mapping[str, Any]] = state.get("walkers", {}) if state else {}
        before = self._unit_walkers.pop(unit_id, set())
        for walker_id in before - walkers.keys():
            records = self._walkers[walker_id]
            del records[unit_id]
            if not records:
                del self._walkers[walker_id]
        for walker_id, record in walkers.items():
            self._walkers.setdefault(walker_id, {})[unit_id] = record
        if walkers:
            self._unit_walkers[unit_id] = set(walkers)
        return before | set(walkers)

    def _where_is(self, walker_id: str, ts: float) -> str | None:
        """The unit a walker is present on at ``ts`` (on the unit or on a break), by the shared join's rules."""
        if walker_id not in self._where:
            records = self._walkers.get(walker_id, {})
            joined = presence_facts.join(
                {unit_id: {walker_id: record} for unit_id, record in records.items()}, ts, self._presence_seconds
            )
            self._where[walker_id] = next(iter(joined), None)
        return self._where[walker_id]

    def _present_here(self, unit_id: str, ts: float) -> set[str]:
        here = {w for w in self._unit_walkers.get(unit_id, ()) if self._where_is(w, ts) == unit_id}
        for walker_id in self._present.pop(unit_id, set()) - here:
            if self._present_at.get(walker_id) == unit_id:
                del self._present_at[walker_id]
        for walker_id in here:
            self._present_at[walker_id] = unit_id
        if here:
            self._present[unit_id] = here
        return here

    # --- computing ---------------------------------------------------------------------------------

    def _placement(self, unit_id: str) -> UnitPlacement:
        placement = self._placements.get(unit_id)
        if placement is None:
            placement = self._placements[unit_id] = self._org.place(unit_id)
        return placement

    def _compute_unit(self, unit_id: str, families: Mapping[str, Any] | None, ts: float) -> bool:
        """Compute a unit at ``ts`` and schedule its next moment; True when its summary or object changed."""
        self.computed[0] += 1
        go_live = self._org.go_live.get(unit_id)
        actual = self._org.actual_go_live.get(unit_id)
        summary = _unit_summary(unit_id, families, ts, self._present_here(unit_id, ts), go_live, actual)
        obj = _unit_object(self._placement(unit_id), summary, as_of="", rules=self._rules, now=ts)
        before = self._units.get(unit_id)
        self._units[unit_id] = (summary, obj)
        self._schedule(unit_id, self._changes_at(families, ts, go_live.timestamp() if go_live else None, actual))
        if before is not None and before[1] == obj:
            return before[0] != summary
        self._changed["units"].add(unit_id)
        return True

    def _changes_at(
        self, families: Mapping[str, Any] | None, ts: float, go_live: float | None, actual: datetime | None
    ) -> float:
        families = families or {}
        # A threshold phase ends (e.g. 72 h after the actual go-live): the unit is judged again then.
        start = actual.timestamp() if actual is not None else None
        phase_end = min(
            (end for bound in self._rules.phase_bounds if start is not None and (end := start + bound * 3600) > ts),
            default=math.inf,
        )
        return min(
            phase_end,
            tickets_state.changes_at(families.get("tickets"), ts),
            access_state.changes_at(families.get("access"), ts),
            floorwalkers_state.changes_at(families.get("floorwalkers"), ts, self._presence_seconds, go_live),
            ed_state.changes_at(families.get("ed"), ts),
        )

    def _schedule(self, unit_id: str, moment: float) -> None:
        if moment == math.inf:
            self._due.pop(unit_id, None)
            return
        moment -= EARLY
        if self._due.get(unit_id) == moment:
            return
        self._due[unit_id] = moment
        heapq.heappush(self._heap, (moment, unit_id))
        if len(self._heap) > 2 * len(self._due) + 1024:  # drop the stale entries now and then
            self._heap = [(when, unit) for unit, when in self._due.items()]
            heapq.heapify(self._heap)

    def _compute_rollup(self, node: Node) -> bool:
        self.computed[1] += 1
        level = node[0]
        child_level = _CHILD_LEVEL.get(level)
        ids = self._children[node]
        parts = [self._units[c] for c in ids] if child_level is None else [self._rollups[(child_level, c)] for c in ids]
        summary, obj = _rollup(level, self._heads[node], parts, rules=self._rules, now=self._now or 0.0)
        before = self._rollups.get(node)
        self._rollups[node] = (summary, obj)
        if before is not None and before[1] == obj:
            return before[0] != summary
        self._changed[_KIND[level]].add(node[1])
        return True

    # --- reading -----------------------------------------------------------------------------------

    def _stamped(self, obj: dict[str, Any]) -> dict[str, Any]:
        return {**obj, "as_of": self._as_of}

    def _flat_object(self, kind: str, object_id: str) -> dict[str, Any]:
        if kind == "units":
            return self._stamped(self._units[object_id][1])
        if kind == "region":
            return self._stamped(self._rollups[REGION][1])
        if kind == "sites":
            return {
                **self._stamped(self._rollups[("site", object_id)][1]),
                "unit_ids": list(self._children[("site", object_id)]),
            }
        node = ("administration", object_id)
        return {**self._stamped(self._rollups[node][1]), "site_ids": list(self._children[node])}

    def take_changed(self) -> Flat:
        """The objects (flattened, as of the last advance) that changed since the last call."""
        changed, self._changed = self._changed, {kind: set() for kind in KINDS}
        return {kind: {i: self._flat_object(kind, i) for i in sorted(changed[kind])} for kind in KINDS}

    def flat(self) -> Flat:
        """Every object, flattened (``services.gateway.hub.flatten`` of :meth:`situation`)."""
        flat: Flat = {kind: {} for kind in KINDS}
        for node in self._children:
            if node[0] == "site":
                flat["sites"][node[1]] = self._flat_object("sites", node[1])
                for unit_id in self._children[node]:
                    flat["units"][unit_id] = self._flat_object("units", unit_id)
            elif node[0] == "administration":
                flat["administrations"][node[1]] = self._flat_object("administrations", node[1])
        flat["region"]["region"] = self._flat_object("region", "region")
        return flat

    def situation(self) -> dict[str, Any]:
        """The picture as of the last advance, equal to ``build_situation`` of the same states at that moment."""
        administrations = []
        for admin_id in self._children[REGION]:
            admin: Node = ("administration", admin_id)
            sites = []
            for site_id in self._children[admin]:
                site: Node = ("site", site_id)
                units = [self._stamped(self._units[u][1]) for u in self._children[site]]
                sites.append({**self._stamped(self._rollups[site][1]), "units": units})
            administrations.append({**self._stamped(self._rollups[admin][1]), "sites": sites})
        return {
            "as_of": self._as_of,
            "region": self._stamped(self._rollups[REGION][1]),
            "administrations": administrations,
            "data_quality": {"unmapped_units": list(self._unmapped)},
        }
