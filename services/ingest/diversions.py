"""Safe diversions: an ED may not divert to an ED that is itself diverting back to it (directly or in a circle).

Ambulances sent from Alingsås to Borås while Borås sends its own to Alingsås go back and forth. The active
diversions form a graph, diverting ED → the EDs receiving its patients; adding ``A → {B, …}`` closes a cycle
iff A is reachable from one of the Bs. Such a diversion is refused per item with the path as the reason,
unless the event carries an ``override_reason`` (then it is accepted, and the reason is stored with it).

The graph is the live picture the API's gateway holds (``SituationHub.store.unit_states``, each unit's ED state
from :mod:`hypercare.situation.state.ed`) plus the diversions accepted earlier in the same request. The picture
follows the log a moment behind, so two circular diversions posted within that moment are both accepted: this
check is a guard for the people deciding, not a lock.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Set
from typing import Any

from hypercare.contract.events import EdDiversionEnded, EdDiversionStarted, Event, InvalidEvent
from hypercare.org.registry import OrgRegistry

Graph = Mapping[str, Set[str]]  # diverting ED -> the EDs receiving its patients


def path_back(graph: Graph, source: str, targets: Iterable[str]) -> list[str] | None:
    """The shortest path ``[target, …, source]`` along ``graph`` from one of ``targets`` back to ``source``
    (targets tried in order), or None when none leads back: then adding ``source → targets`` makes no cycle.

    A target equal to ``source`` is the path ``[source]``.
    """
    for target in targets:
        seen = {target}
        previous: dict[str, str] = {}
        queue = deque([target])
        while queue:
            node = queue.popleft()
            if node == source:
                path = [node]
                while path[-1] != target:
                    path.append(previous[path[-1]])
                return path[::-1]
            for nxt in sorted(graph.get(node, ())):
                if nxt not in seen:
                    seen.add(nxt)
                    previous[nxt] = node
                    queue.append(nxt)
    return None


class ActiveDiversions:
    """The active diversions of a live picture, read when first needed, plus those a request adds or ends."""

    def __init__(self, unit_states: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self._unit_states = unit_states or {}
        self._by_unit: dict[str, dict[str, frozenset[str]]] | None = None

    @classmethod
    def of(cls, diversions: Mapping[str, Mapping[str, Iterable[str]]]) -> ActiveDiversions:
        """From ``{unit_id: {diversion_id: to_unit_ids}}`` (tests, tools)."""
        active = cls()
        active._by_unit = {unit: {d: frozenset(to) for d, to in ds.items()} for unit, ds in diversions.items()}
        return active

    def _diversions(self) -> dict[str, dict[str, frozenset[str]]]:
        if self._by_unit is None:
            self._by_unit = {}
            for unit_id, families in self._unit_states.items():
                ed = families.get("ed") or {}
                for diversion_id, record in (ed.get("diversions") or {}).items():
                    self._by_unit.setdefault(unit_id, {})[diversion_id] = frozenset(record.get("to_unit_ids") or ())
        return self._by_unit

    def graph(self) -> dict[str, set[str]]:
        graph: dict[str, set[str]] = {}
        for unit_id, diversions in self._diversions().items():
            for to_unit_ids in diversions.values():
                graph.setdefault(unit_id, set()).update(to_unit_ids)
        return graph

    def note(self, event: Event) -> None:
        """An accepted event of the same request: later items are checked against it too."""
        if isinstance(event, EdDiversionStarted):
            self._diversions().setdefault(event.unit_id, {})[event.diversion_id] = frozenset(event.to_unit_ids)
        elif isinstance(event, EdDiversionEnded):
            self._diversions().get(event.unit_id, {}).pop(event.diversion_id, None)


def _named(org: OrgRegistry, unit_id: str) -> str:
    return f"{unit_id} ({org.place(unit_id).name})" if org.knows(unit_id) else unit_id


def diversion_problem(event: Event, active: ActiveDiversions, org: OrgRegistry) -> str | None:
    """Why ``event`` would send patients back and forth, or None (not a diversion, no cycle, or overridden)."""
    if not isinstance(event, EdDiversionStarted):
        return None
    if event.override_reason is not None and event.override_reason.strip():
        return None
    path = path_back(active.graph(), event.unit_id, event.to_unit_ids)
    if path is None:
        return None
    if len(path) == 1:
        return (
            f"to_unit_ids: {_named(org, event.unit_id)} is the diverting emergency department itself; "
            "a diversion there would send patients back to where they came from (give override_reason to divert "
            "anyway)"
        )
    hops = f"{_named(org, path[0])} is itself diverting to {_named(org, path[1])}"
    hops += "".join(f", which is diverting to {_named(org, unit_id)}" for unit_id in path[2:])
    return (
        f"to_unit_ids: {hops}; a diversion there would send patients back and forth "
        "(give override_reason to divert anyway)"
    )


def refuse_unsafe_diversion(event: Event, active: ActiveDiversions | None, org: OrgRegistry) -> None:
    """Raise :class:`InvalidEvent` for a circular diversion; otherwise note ``event`` in ``active``.

    Called last in ingest validation, so a noted event is an accepted one. ``active`` None: no live picture to
    check against (an app without its gateway, the stop-criteria route's decisions), nothing is checked.
    """
    if active is None:
        return
    reason = diversion_problem(event, active, org)
    if reason is not None:
        raise InvalidEvent(reason)
    active.note(event)
