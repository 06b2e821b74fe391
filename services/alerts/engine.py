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

from collections.abc import Iterator, Mapping, Sequence
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


def nodes(flat: Flat, node_kind: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """``(node id, object)`` of one kind of node, in id order."""
    objects = flat.get(_FLAT_KIND[node_kind], {})
    found = [(str(obj[_ID_FIELD[node_kind]]), obj) for obj in objects.values() if _ID_FIELD[node_kind] in obj]
    yield from sorted(found, key=lambda item: item[0])


def findings(flat: Flat, rules: AlertRules) -> dict[Key, tuple[AlertRule, Mapping[str, Any], Finding]]:
    """Every (rule, node) whose condition holds now, in rule order then node order."""
    found: dict[Key, tuple[AlertRule, Mapping[str, Any], Finding]] = {}
    for rule in rules.rules:
        for node_kind in rule.levels:
            for node_id, obj in nodes(flat, node_kind):
                finding = check(rule, obj)
                if finding is not None:
                    found[(rule.id, node_kind, node_id)] = (rule, obj, finding)
    return found


def evaluate(flat: Flat, open_alerts: Sequence[OpenAlert], now: datetime, rules: AlertRules) -> list[Transition]:
    """The transitions that bring the stored alerts in line with the picture at ``now``.

    Resolves and escalations come first (by alert id), then raises (rule order, then node id).
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime")
    now = now.astimezone(UTC)
    holding = findings(flat, rules)
    present = {(kind, node_id) for kind in _FLAT_KIND for node_id, _ in nodes(flat, kind)}
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
                if (alert.node_kind, alert.node_id) not in present
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
