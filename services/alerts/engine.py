"""Alert evaluation: the live picture, the open alerts and a clock in; raise/resolve/escalate out.

Pure and deterministic: ``now`` is passed in (never read from the clock here), nothing is stored
or sent. The runtime (:mod:`services.alerts.service`) applies the transitions to the database, where
a partial unique index keeps one open alert per (rule, node) even when several gateway replicas
evaluate at once.

- raise: a rule's condition holds at a node with no open alert for that (rule, node);
- resolve: an open alert whose condition no longer holds (or whose rule or node is gone);
- escalate: an open, unacknowledged alert that has reached a higher level by its age.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from services.alerts.conditions import Finding, check
from services.alerts.rules import ESCALATION_LEVELS, AlertRule, AlertRules

Flat = Mapping[str, Mapping[str, Mapping[str, Any]]]  # services.gateway.hub.flatten
Key = tuple[str, str, str]  # (rule id, node kind, node id)
ResolveReason = Literal["cleared", "rule_removed", "node_gone"]

_FLAT_KIND = {"unit": "units", "site": "sites", "administration": "administrations", "region": "region"}
_ID_FIELD = {"unit": "unit_id", "site": "site_id", "administration": "administration_id", "region": "region_id"}


@dataclass(frozen=True)
class OpenAlert:
    """What the engine needs of an open (or acknowledged) alert."""

    id: int
    rule: str
    node_kind: str
    node_id: str
    level: str
    raised_at: datetime
    acknowledged: bool


@dataclass(frozen=True)
class Raise:
    rule: str
    kind: str
    severity: str
    node_kind: str
    node_id: str
    node_name: str
    message: str
    value: float
    threshold: float
    at: datetime


@dataclass(frozen=True)
class Resolve:
    alert_id: int
    rule: str
    node_kind: str
    node_id: str
    reason: ResolveReason
    at: datetime


@dataclass(frozen=True)
class Escalate:
    alert_id: int
    rule: str
    node_kind: str
    node_id: str
    from_level: str
    to_level: str
    at: datetime


Transition = Raise | Resolve | Escalate


def nodes(flat: Flat, node_kind: str) -> list[tuple[str, Mapping[str, Any]]]:
    """``(node id, object)`` of one kind of node, in id order."""
    objects = flat.get(_FLAT_KIND[node_kind], {})
    found = [(str(obj[_ID_FIELD[node_kind]]), obj) for obj in objects.values() if _ID_FIELD[node_kind] in obj]
    return sorted(found, key=lambda item: item[0])


# What holds at one node: (rule's place in the rules, level's place in the rule, rule, finding).
NodeFindings = list[tuple[int, int, AlertRule, Finding]]


class Checked:
    """Each node's findings of the last round with the object they were read from, so that a round checks only
    the nodes whose objects changed.

    The hub replaces a node's object when the node changes and keeps the very same object otherwise
    (``services.gateway.hub``), and the checks are pure functions of that object. At 2,000 units checking
    every rule at every node on every publish was the gateway's largest cost under load. Nodes no longer in the
    picture are forgotten at the next round; other rules forget everything.
    """

    def __init__(self) -> None:
        self._rules: AlertRules | None = None
        self._last: dict[tuple[str, str], tuple[Mapping[str, Any], NodeFindings]] = {}

    def round(self, rules: AlertRules) -> dict[tuple[str, str], tuple[Mapping[str, Any], NodeFindings]]:
        """Start a round: the last round's findings to reuse; what the round checks replaces them."""
        last, self._last = self._last, {}
        if rules is not self._rules:
            self._rules, last = rules, {}
        return last

    def keep(self, node: tuple[str, str], obj: Mapping[str, Any], found: NodeFindings) -> None:
        self._last[node] = (obj, found)


def findings(
    flat: Flat, rules: AlertRules, checked: Checked | None = None
) -> dict[Key, tuple[AlertRule, Mapping[str, Any], Finding]]:
    """Every (rule, node) whose condition holds now, in rule order then node order; with ``checked``, a node
    whose object is the one of the last round keeps that round's findings."""
    last = checked.round(rules) if checked is not None else {}
    hits: list[tuple[int, int, str, str, AlertRule, Mapping[str, Any], Finding]] = []
    for node_kind, flat_kind in _FLAT_KIND.items():
        applicable = [
            (rule_index, level_index, rule)
            for rule_index, rule in enumerate(rules.rules)
            for level_index, level in enumerate(rule.levels)
            if level == node_kind
        ]
        if not applicable:
            continue
        id_field = _ID_FIELD[node_kind]
        for obj in flat.get(flat_kind, {}).values():
            if id_field not in obj:
                continue
            node = (node_kind, str(obj[id_field]))
            hit = last.get(node)
            if hit is not None and hit[0] is obj:
                found = hit[1]
            else:
                found = [
                    (rule_index, level_index, rule, finding)
                    for rule_index, level_index, rule in applicable
                    if (finding := check(rule, obj)) is not None
                ]
            if checked is not None:
                checked.keep(node, obj, found)
            if found:
                hits.extend((r, lv, node[1], node_kind, rule, obj, finding) for r, lv, rule, finding in found)
    hits.sort(key=lambda hit: hit[:3])
    return {(rule.id, kind, node_id): (rule, obj, finding) for _, _, node_id, kind, rule, obj, finding in hits}


def evaluate(
    flat: Flat,
    open_alerts: Sequence[OpenAlert],
    now: datetime,
    rules: AlertRules,
    checked: Checked | None = None,
) -> list[Transition]:
    """The transitions that bring the stored alerts in line with the picture at ``now``.

    Resolves and escalations come first (by alert id), then raises (rule order, then node id). ``checked``
    (kept by the caller between rounds) spares the checks of nodes whose objects did not change.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime")
    now = now.astimezone(UTC)
    holding = findings(flat, rules, checked)
    present: dict[str, set[str]] = {}  # node kind -> ids, read only when an alert no longer holds

    def is_present(node_kind: str, node_id: str) -> bool:
        if node_kind not in present:
            present[node_kind] = {node for node, _ in nodes(flat, node_kind)} if node_kind in _FLAT_KIND else set()
        return node_id in present[node_kind]

    transitions: list[Transition] = []
    open_keys: set[Key] = set()
    for alert in sorted(open_alerts, key=lambda a: a.id):
        key = (alert.rule, alert.node_kind, alert.node_id)
        if key in open_keys:
            continue  # the database allows one per key; tolerate a stale duplicate instead of failing
        open_keys.add(key)
        if key not in holding:
            reason: ResolveReason = (
                "rule_removed"
                if alert.rule not in rules.by_id
                else "node_gone"
                if not is_present(alert.node_kind, alert.node_id)
                else "cleared"
            )
            transitions.append(Resolve(alert.id, alert.rule, alert.node_kind, alert.node_id, reason, now))
            continue
        if alert.acknowledged:
            continue
        escalation = rules.escalation_for(rules.by_id[alert.rule])
        target = escalation.level_after(now - alert.raised_at)
        if _rank(target) > _rank(alert.level):
            transitions.append(Escalate(alert.id, alert.rule, alert.node_kind, alert.node_id, alert.level, target, now))
    for key, (rule, obj, finding) in holding.items():
        if key in open_keys:
            continue
        _, node_kind, node_id = key
        transitions.append(
            Raise(
                rule=rule.id,
                kind=rule.kind,
                severity=rule.severity,
                node_kind=node_kind,
                node_id=node_id,
                node_name=str(obj.get("name") or node_id),
                message=finding.message,
                value=finding.value,
                threshold=finding.threshold,
                at=now,
            )
        )
    return transitions


def _rank(level: str) -> int:
    return ESCALATION_LEVELS.index(level) if level in ESCALATION_LEVELS else 0
