"""Alert evaluation, pure: events at exact times → the picture at exact times → raise/resolve/escalate.

No broker and no database: events are folded like the worker does, the picture is built like the
gateway does (``build_situation`` + ``flatten``) at the moment under test, and the alerts are kept
the way the store would keep them. The shipped rules file is used, so these tests pin its
thresholds: X = 25 %, N = 40, M = 30 min (priority 1), H = 2 h, ED report 180 min, escalation
15/45 min (patient safety 5/15 min).
"""

from __future__ import annotations

import itertools
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hypercare.contract.events import Event, parse_event
from hypercare.org.registry import OrgRegistry
from hypercare.situation.health import load_rules
from hypercare.situation.rollup import build_situation
from hypercare.situation.state import apply_event, new_state
from services.alerts.engine import Escalate, OpenAlert, Raise, Resolve, Transition, evaluate
from services.alerts.rules import (
    AlertRules,
    EdStatusMissing,
    EdWaitingOverCapacity,
    LoginFailureRate,
    TicketOpenTooLong,
    UnvisitedWithOpenTickets,
    load_alert_rules,
    parse_alert_rules,
)
from services.gateway.hub import flatten

T0 = datetime(2024, 11, 12, 10, 0, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)
HEALTH = load_rules(None)
SHIPPED = load_alert_rules(None)
ORG = OrgRegistry.model_validate(
    {
        "region": {"id": "R", "name": "Regionen"},
        "administrations": [
            {
                "id": "F1",
                "name": "Förvaltning 1",
                "sites": [
                    {
                        "id": "S1",
                        "name": "Sjukhus 1",
                        "units": [
                            {"id": "A", "name": "Avdelning A"},
                            {"id": "B", "name": "Avdelning B"},
                            {"id": "AKM", "name": "Akutmottagning 1", "kind": "ed"},
                        ],
                    },
                ],
            },
        ],
    }
)
_ids = itertools.count()


def at(**delta: float) -> datetime:
    return T0 + timedelta(**delta)


def ev(type_: str, unit: str, when: datetime, **fields: Any) -> Event:
    return parse_event(
        {
            "event_id": f"a-{next(_ids)}",
            "type": type_,
            "occurred_at": when.isoformat(),
            "unit_id": unit,
            **fields,
        }
    )


def logins(unit: str, when: datetime, *, ok: int = 0, failed: int = 0) -> list[Event]:
    return [ev("access.login", unit, when, user_ref=f"u{next(_ids)}", outcome="success") for _ in range(ok)] + [
        ev("access.login", unit, when, user_ref=f"u{next(_ids)}", outcome="failure", reason="card_error")
        for _ in range(failed)
    ]


def opened(unit: str, ticket: str, when: datetime, **fields: Any) -> Event:
    return ev(
        "ticket.opened",
        unit,
        when,
        ticket_id=ticket,
        **{"channel": "phone", "category": "orders", "priority": 3, **fields},
    )


def resolved(unit: str, ticket: str, when: datetime) -> Event:
    return ev("ticket.resolved", unit, when, ticket_id=ticket)


def ed_status(when: datetime, waiting: int, capacity: int = 28) -> Event:
    return ev("ed.status", "AKM", when, patients_waiting=waiting, patients_in_department=20, capacity=capacity)


def shipped(*rule_ids: str) -> AlertRules:
    """The shipped rules (thresholds and escalation) restricted to the ones a test is about."""
    return AlertRules(escalation=SHIPPED.escalation, rules=[rule for rule in SHIPPED.rules if rule.id in rule_ids])


class Timeline:
    """Events as they happen, alerts as the store keeps them, the picture read at chosen moments."""

    def __init__(self, rules: AlertRules = SHIPPED) -> None:
        self.rules = rules
        self.events: list[Event] = []
        self.open: dict[int, OpenAlert] = {}
        self.raised: dict[int, Raise] = {}
        self._next_id = itertools.count(1)

    def add(self, *events: Event | list[Event]) -> None:
        for item in events:
            self.events.extend(item if isinstance(item, list) else [item])

    def flat(self, now: datetime) -> dict[str, Any]:
        unit_states: dict[str, dict[str, dict[str, Any]]] = {}
        for event in sorted(self.events, key=lambda e: e.occurred_at):
            if event.occurred_at > now:
                continue  # not happened yet
            state = unit_states.setdefault(event.unit_id, {}).setdefault(event.family, new_state(event.family))
            apply_event(event.family, state, event, now=now)
        unit_states = json.loads(json.dumps(unit_states))  # what the gateway receives
        return flatten(build_situation(unit_states, org=ORG, rules=HEALTH, now=now))

    def at(self, now: datetime) -> list[Transition]:
        transitions = evaluate(self.flat(now), list(self.open.values()), now, self.rules)
        for transition in transitions:
            if isinstance(transition, Raise):
                alert_id = next(self._next_id)
                self.raised[alert_id] = transition
                self.open[alert_id] = OpenAlert(
                    alert_id,
                    transition.rule,
                    transition.node_kind,
                    transition.node_id,
                    "team",
                    transition.at,
                    False,
                )
            elif isinstance(transition, Resolve):
                del self.open[transition.alert_id]
            else:
                self.open[transition.alert_id] = replace(self.open[transition.alert_id], level=transition.to_level)
        return transitions

    def acknowledge(self, alert_id: int) -> None:
        self.open[alert_id] = replace(self.open[alert_id], acknowledged=True)

    def only(self) -> OpenAlert:
        assert len(self.open) == 1, self.open
        return next(iter(self.open.values()))


def raises(transitions: list[Transition]) -> list[tuple[str, str, str]]:
    return [(t.rule, t.node_kind, t.node_id) for t in transitions if isinstance(t, Raise)]


def raise_or_resolve(transitions: list[Transition]) -> list[Transition]:
    """For tests about raising and resolving: escalations (tested below) left out."""
    return [t for t in transitions if not isinstance(t, Escalate)]


# --- the shipped rules ----------------------------------------------------------------------------


def test_the_shipped_rules_and_thresholds() -> None:
    rules = {rule.id: rule for rule in SHIPPED.rules}
    assert {rule.kind for rule in SHIPPED.rules} == {
        "login_failure_rate",
        "ticket_open_too_long",
        "patient_safety_ticket",
        "unvisited_with_open_tickets",
        "ed_waiting_over_capacity",
        "ed_status_missing",
        "health_red",
    }
    login, p1, safety = rules["login_failure_rate"], rules["p1_ticket_open_too_long"], rules["patient_safety_ticket"]
    unvisited, waiting = rules["unit_not_visited"], rules["ed_waiting_over_capacity"]
    silent = rules["ed_status_missing"]
    assert isinstance(login, LoginFailureRate) and isinstance(p1, TicketOpenTooLong)
    assert isinstance(unvisited, UnvisitedWithOpenTickets) and isinstance(waiting, EdWaitingOverCapacity)
    assert isinstance(silent, EdStatusMissing)
    # The login rule reads the thresholds section: from 25 % (the limit counts) with at least 20 logins.
    assert (login.severity, login.threshold, login.rate_at_least, login.min_attempts) == (
        "warning",
        "login_failure_rate",
        0.25,
        20,
    )
    assert login.levels == ["unit", "site", "administration"]
    assert rules["health_red"].levels == ["site", "administration", "region"]
    assert (p1.severity, p1.priority, p1.minutes) == ("critical", 1, 30)
    assert safety.severity == "critical"
    assert (unvisited.severity, unvisited.hours) == ("warning", 2)
    assert (waiting.severity, waiting.waiting_ratio_above) == ("critical", 1.0)
    assert (silent.severity, silent.minutes) == ("warning", 180)
    assert (SHIPPED.escalation.multi_after_minutes, SHIPPED.escalation.program_after_minutes) == (15, 45)
    own = SHIPPED.escalation_for(safety)
    assert (own.multi_after_minutes, own.program_after_minutes) == (5, 15)
    assert all(rule.levels == ["unit"] for rule in SHIPPED.rules if rule.id not in ("login_failure_rate", "health_red"))


# --- login failure rate: the threshold's red (25 %, the limit counts) with at least 20 logins -----------


@pytest.mark.parametrize(
    ("ok", "failed", "raised"),
    [
        (29, 11, True),  # 40 logins, 27.5 %
        (74, 26, True),  # 100 logins, 26 %
        (30, 10, True),  # 40 logins, exactly 25 %: the limit counts, as health's red does
        (15, 5, True),  # exactly 20 logins, exactly 25 %
        (31, 9, False),  # 40 logins, 22.5 %
        (14, 5, False),  # 19 logins: too few to judge, although 26 %
    ],
)
def test_login_failure_rate_boundaries(ok: int, failed: int, raised: bool) -> None:
    timeline = Timeline(shipped("login_failure_rate"))
    timeline.add(logins("A", at(minutes=-1), ok=ok, failed=failed))
    # A is the only unit with logins: its site and administration have the same counts and the same alarm.
    everywhere = [("login_failure_rate", k, n) for k, n in (("unit", "A"), ("site", "S1"), ("administration", "F1"))]
    assert raises(timeline.at(T0)) == (everywhere if raised else [])


def test_login_failure_rate_raised_when_it_starts_held_then_resolved_when_the_window_moves_on() -> None:
    timeline = Timeline(shipped("login_failure_rate"))
    timeline.add(logins("A", at(minutes=-10), ok=30), logins("A", at(minutes=-5), failed=9))
    timeline.add(logins("A", T0, failed=1))  # the 40th login, the 10th failure: exactly 25 %
    assert timeline.at(T0 - SECOND) == []  # 39 logins, 23.1 %
    raised, on_site, on_administration = timeline.at(T0)
    assert isinstance(raised, Raise) and isinstance(on_site, Raise) and isinstance(on_administration, Raise)
    assert [(r.node_kind, r.node_id, r.message) for r in (on_site, on_administration)] == [
        ("site", "S1", raised.message),
        ("administration", "F1", raised.message),
    ]
    assert (raised.rule, raised.kind, raised.severity, raised.node_id, raised.node_name) == (
        "login_failure_rate",
        "login_failure_rate",
        "warning",
        "A",
        "Avdelning A",
    )
    assert (raised.value, raised.threshold, raised.at) == (0.25, 0.25, T0)
    assert "25%" in raised.message and "10 av 40" in raised.message
    for later in (T0, T0 + SECOND, at(minutes=4, seconds=59)):
        assert timeline.at(later) == [], later  # not raised again while it holds
    # At 10:05:00 the 30 successes of 09:50:00 leave the 15-minute window: 10 logins, too few to judge.
    cleared = timeline.at(at(minutes=5))
    assert [(c.alert_id, c.reason, c.at) for c in cleared if isinstance(c, Resolve)] == [
        (1, "cleared", at(minutes=5)),
        (2, "cleared", at(minutes=5)),
        (3, "cleared", at(minutes=5)),
    ]
    assert timeline.open == {}


def test_login_failure_rate_on_a_site_when_the_file_asks_for_it() -> None:
    rules = parse_alert_rules(
        {
            "escalation": {"multi_after_minutes": 15, "program_after_minutes": 45},
            "rules": [
                {
                    "id": "site_logins",
                    "kind": "login_failure_rate",
                    "severity": "warning",
                    "levels": ["unit", "site"],
                    "failure_rate_above": 0.25,
                    "min_attempts": 40,
                }
            ],
        }
    )
    timeline = Timeline(rules)
    # Each ward alone has too few logins; the site has 40 with 30 % failing.
    timeline.add(logins("A", at(minutes=-2), ok=14, failed=6), logins("B", at(minutes=-2), ok=14, failed=6))
    assert raises(timeline.at(T0)) == [("site_logins", "site", "S1")]


# --- a priority-1 ticket open at least M minutes -------------------------------------------------


def test_priority_one_ticket_open_thirty_minutes() -> None:
    timeline = Timeline(shipped("p1_ticket_open_too_long"))
    timeline.add(opened("A", "P1", at(minutes=-30), priority=1))
    timeline.add(opened("B", "P2", at(minutes=-90), priority=2))  # old, but not priority 1
    assert timeline.at(T0 - SECOND) == []  # 29 min 59 s
    [raised] = timeline.at(T0)
    assert isinstance(raised, Raise)
    assert (raised.rule, raised.node_id, raised.value, raised.threshold, raised.severity) == (
        "p1_ticket_open_too_long",
        "A",
        30,
        30,
        "critical",
    )
    assert timeline.at(at(minutes=10)) == []
    timeline.add(resolved("A", "P1", at(minutes=20)))
    assert raise_or_resolve(timeline.at(at(minutes=20) - SECOND)) == []
    [cleared] = timeline.at(at(minutes=20))
    assert isinstance(cleared, Resolve) and cleared.at == at(minutes=20)


def test_a_ticket_raised_to_priority_one_counts_from_its_opening() -> None:
    timeline = Timeline(shipped("p1_ticket_open_too_long"))
    timeline.add(opened("A", "T", at(minutes=-60), priority=3))
    timeline.add(ev("ticket.updated", "A", T0, ticket_id="T", status="escalated", priority=1))
    assert timeline.at(T0 - SECOND) == []
    assert raises(timeline.at(T0)) == [("p1_ticket_open_too_long", "unit", "A")]


# --- any patient-safety ticket -------------------------------------------------------------------


def test_patient_safety_ticket_raised_once_resolved_and_a_new_one_is_a_new_alert() -> None:
    timeline = Timeline(shipped("patient_safety_ticket"))
    timeline.add(opened("A", "S1", T0, patient_safety=True))
    timeline.add(opened("A", "S2", at(minutes=2), patient_safety=True))
    timeline.add(resolved("A", "S1", at(minutes=3)), resolved("A", "S2", at(minutes=4)))
    timeline.add(opened("A", "S3", at(minutes=10), patient_safety=True))
    assert timeline.at(T0 - SECOND) == []
    [raised] = timeline.at(T0)
    assert isinstance(raised, Raise) and (raised.rule, raised.value, raised.at) == ("patient_safety_ticket", 1, T0)
    assert timeline.at(at(minutes=2)) == []  # a second ticket while it holds: no second alert
    assert timeline.at(at(minutes=3)) == []  # one still open
    [cleared] = timeline.at(at(minutes=4))
    assert isinstance(cleared, Resolve) and cleared.alert_id == 1
    [again] = timeline.at(at(minutes=10))
    assert isinstance(again, Raise) and timeline.only().id == 2


# --- a unit with open tickets that no floor walker has visited for H hours --------------------------


def test_unit_not_visited_for_two_hours_with_open_tickets() -> None:
    timeline = Timeline(shipped("unit_not_visited"))
    timeline.add(ev("floorwalker.checkin", "A", at(hours=-3), walker_id="w1", status="on_unit"))
    timeline.add(ev("floorwalker.checkout", "A", at(hours=-2), walker_id="w1"))
    timeline.add(opened("A", "T1", at(hours=-1)))
    timeline.add(ev("floorwalker.checkin", "A", at(minutes=30), walker_id="w2", status="on_unit"))
    assert timeline.at(T0 - SECOND) == []  # 119 min 59 s since the checkout
    [raised] = timeline.at(T0)
    assert isinstance(raised, Raise)
    assert (raised.rule, raised.node_id, raised.value, raised.threshold) == ("unit_not_visited", "A", 120, 120)
    assert raise_or_resolve(timeline.at(at(minutes=29, seconds=59))) == []
    [cleared] = timeline.at(at(minutes=30))  # a floor walker arrives
    assert isinstance(cleared, Resolve) and cleared.at == at(minutes=30)


def test_a_never_visited_unit_counts_from_its_oldest_open_ticket_and_no_tickets_means_no_alert() -> None:
    timeline = Timeline(shipped("unit_not_visited"))
    timeline.add(opened("B", "T1", at(hours=-2)))
    timeline.add(ev("floorwalker.checkout", "A", at(hours=-5), walker_id="w1"))  # A: long ago, but nothing open
    assert timeline.at(T0 - SECOND) == []
    [raised] = timeline.at(T0)
    assert isinstance(raised, Raise) and (raised.node_id, raised.value) == ("B", 120)
    assert "Inget floor walker-besök registrerat" in raised.message
    timeline.add(resolved("B", "T1", at(minutes=1)))
    [cleared] = timeline.at(at(minutes=1))
    assert isinstance(cleared, Resolve)


# --- ED patients waiting above capacity ----------------------------------------------------------


def test_ed_waiting_above_capacity() -> None:
    timeline = Timeline(shipped("ed_waiting_over_capacity"))
    timeline.add(ed_status(at(minutes=-10), waiting=28))  # exactly the capacity: not above
    timeline.add(ed_status(T0, waiting=29))
    timeline.add(ed_status(at(minutes=20), waiting=12))
    assert timeline.at(T0 - SECOND) == []
    [raised] = timeline.at(T0)
    assert isinstance(raised, Raise)
    assert (raised.rule, raised.node_id, raised.value, raised.threshold) == (
        "ed_waiting_over_capacity",
        "AKM",
        1.0357,
        1.0,
    )  # 29 / 28
    assert raise_or_resolve(timeline.at(at(minutes=19, seconds=59))) == []
    [cleared] = timeline.at(at(minutes=20))
    assert isinstance(cleared, Resolve)


# --- an ED that has sent no status report for 3 hours ---------------------------------------------


def test_ed_without_a_status_report_for_three_hours() -> None:
    timeline = Timeline(shipped("ed_status_missing"))
    timeline.add(ed_status(at(hours=-3), waiting=2))
    timeline.add(ed_status(at(minutes=5), waiting=3))
    assert timeline.at(T0 - SECOND) == []  # 179 min 59 s
    [raised] = timeline.at(T0)
    assert isinstance(raised, Raise)
    assert (raised.rule, raised.node_id, raised.value, raised.threshold) == ("ed_status_missing", "AKM", 180, 180)
    [cleared] = timeline.at(at(minutes=5))
    assert isinstance(cleared, Resolve)


def test_an_ed_that_never_reported_is_not_judged() -> None:
    assert Timeline().at(at(hours=12)) == []


# --- escalation ---------------------------------------------------------------------------------


def test_escalates_team_to_multi_to_program_at_exactly_the_configured_minutes() -> None:
    timeline = Timeline(shipped("p1_ticket_open_too_long"))
    timeline.add(opened("A", "P1", at(minutes=-30), priority=1))
    assert raises(timeline.at(T0)) == [("p1_ticket_open_too_long", "unit", "A")]
    assert timeline.at(at(minutes=14, seconds=59)) == []  # one second before: nothing
    [multi] = timeline.at(at(minutes=15))
    assert isinstance(multi, Escalate)
    assert (multi.alert_id, multi.from_level, multi.to_level, multi.at) == (1, "team", "multi", at(minutes=15))
    assert timeline.at(at(minutes=15)) == []  # once
    assert timeline.at(at(minutes=44, seconds=59)) == []
    [program] = timeline.at(at(minutes=45))
    assert isinstance(program, Escalate) and (program.from_level, program.to_level) == ("multi", "program")
    assert timeline.at(at(hours=5)) == []  # the top level


def test_a_rule_with_its_own_escalation_times() -> None:
    timeline = Timeline(shipped("patient_safety_ticket"))
    timeline.add(opened("A", "S", T0, patient_safety=True))
    timeline.at(T0)
    assert timeline.at(at(minutes=4, seconds=59)) == []
    [multi] = timeline.at(at(minutes=5))
    assert isinstance(multi, Escalate) and multi.to_level == "multi"
    [program] = timeline.at(at(minutes=15))
    assert isinstance(program, Escalate) and program.to_level == "program"


def test_an_evaluation_that_comes_late_escalates_straight_to_the_level_reached() -> None:
    timeline = Timeline(shipped("p1_ticket_open_too_long"))
    timeline.add(opened("A", "P1", at(minutes=-30), priority=1))
    timeline.at(T0)
    [escalated] = timeline.at(at(hours=1))
    assert isinstance(escalated, Escalate) and (escalated.from_level, escalated.to_level) == ("team", "program")


def test_no_escalation_once_acknowledged_and_it_still_resolves() -> None:
    timeline = Timeline(shipped("p1_ticket_open_too_long"))
    timeline.add(opened("A", "P1", at(minutes=-30), priority=1))
    timeline.add(resolved("A", "P1", at(hours=2)))
    timeline.at(T0)
    timeline.acknowledge(timeline.only().id)
    for later in (at(minutes=15), at(minutes=45), at(hours=1, minutes=59, seconds=59)):
        assert timeline.at(later) == [], later
    assert timeline.only().level == "team"
    [cleared] = timeline.at(at(hours=2))
    assert isinstance(cleared, Resolve)


def test_acknowledged_after_an_escalation_keeps_its_level() -> None:
    timeline = Timeline(shipped("p1_ticket_open_too_long"))
    timeline.add(opened("A", "P1", at(minutes=-30), priority=1))
    timeline.at(T0)
    timeline.at(at(minutes=15))
    timeline.acknowledge(1)
    assert timeline.at(at(minutes=45)) == []
    assert timeline.only().level == "multi"


# --- rules and nodes that go away -----------------------------------------------------------------


def test_an_alert_whose_rule_was_removed_or_whose_node_is_gone_resolves() -> None:
    open_alerts = [
        OpenAlert(1, "no_longer_configured", "unit", "A", "team", T0, False),
        OpenAlert(2, "patient_safety_ticket", "unit", "GONE", "multi", T0, True),
        OpenAlert(3, "patient_safety_ticket", "unit", "A", "team", T0, False),
    ]
    transitions = evaluate(Timeline().flat(T0), open_alerts, at(minutes=1), SHIPPED)
    assert [(t.alert_id, t.reason) for t in transitions if isinstance(t, Resolve)] == [
        (1, "rule_removed"),
        (2, "node_gone"),
        (3, "cleared"),
    ]


def test_now_must_be_aware() -> None:
    with pytest.raises(ValueError, match="aware"):
        evaluate(Timeline().flat(T0), [], T0.replace(tzinfo=None), SHIPPED)


def test_transitions_are_deterministic() -> None:
    def run() -> list[Transition]:
        timeline = Timeline()
        timeline.add(opened("A", "S", T0, patient_safety=True), opened("B", "S", T0, patient_safety=True))
        timeline.add(ed_status(at(hours=-4), waiting=40))
        return timeline.at(T0)

    first = run()
    # A, B (patient safety) and AKM (40 waiting of 28) are red: all of S1, so S1, F1 and the region are red
    # too, and each has its health_red alarm (rule order, then the rule's levels in order).
    assert raises(first) == [
        ("health_red", "site", "S1"),
        ("health_red", "administration", "F1"),
        ("health_red", "region", "R"),
        ("patient_safety_ticket", "unit", "A"),
        ("patient_safety_ticket", "unit", "B"),
        ("ed_waiting_over_capacity", "unit", "AKM"),
        ("ed_status_missing", "unit", "AKM"),
    ]
    assert run() == first


def test_a_red_administration_has_a_health_red_alarm_that_says_why() -> None:
    timeline = Timeline(shipped("health_red"))
    # 30 logins at A, 10 failed: 33 % at A, at S1 and at F1 (the only logins there) -> red from the threshold's 25 %.
    timeline.add(logins("A", at(minutes=-1), ok=20, failed=10))
    transitions = timeline.at(T0)
    assert raises(transitions) == [
        ("health_red", "site", "S1"),
        ("health_red", "administration", "F1"),
        ("health_red", "region", "R"),
    ]
    by_node = {t.node_id: t for t in transitions if isinstance(t, Raise)}
    # F1's red reasons in health order (its yellow "1 enheter med röd status" is left out of the alarm).
    assert by_node["F1"].message == (
        "Röd status: Inloggningsfel 33% senaste 15 min; 100% av underliggande har röd status"
    )
    assert (by_node["F1"].value, by_node["F1"].threshold) == (2.0, 1.0)
    # When the failures leave the window the administration is no longer red and the alarm resolves.
    assert [t.reason for t in timeline.at(at(minutes=15)) if isinstance(t, Resolve)] == ["cleared"] * 3


def test_reusing_the_findings_of_unchanged_nodes_gives_the_same_transitions_and_skips_their_checks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The gateway keeps a node's object while the node does not change (``services.gateway.hub``); the alert
    round then reuses that node's findings (``Checked``). Every round must equal a round that checks all."""
    import services.alerts.engine as engine
    from services.gateway.hub import diff

    checks = {"n": 0}
    real_check = engine.check

    def counting(rule: Any, obj: Any) -> Any:
        checks["n"] += 1
        return real_check(rule, obj)

    monkeypatch.setattr(engine, "check", counting)
    timeline = Timeline()
    timeline.add(logins("A", at(minutes=1), ok=20, failed=10), logins("B", at(minutes=40), ok=30))
    timeline.add(opened("A", "P1", at(minutes=2), priority=1), resolved("A", "P1", at(minutes=50)))
    timeline.add(opened("B", "PS", at(minutes=5), patient_safety=True), ed_status(at(minutes=3), waiting=40))
    timeline.add(ed_status(at(minutes=70), waiting=5))
    checked = engine.Checked()
    spared = 0
    last: dict[str, Any] = {}
    moments = [at(minutes=m) for m in (0, 1, 2, 3, 3, 10, 20, 35, 36, 50, 70, 71, 120, 240, 240)]
    for now in moments:
        picture = timeline.flat(now)
        changed = diff(last, picture)
        last = {kind: {**last.get(kind, {}), **objects} for kind, objects in changed.items()}  # as the hub keeps it
        open_alerts = list(timeline.open.values())
        checks["n"] = 0
        everything = evaluate(last, open_alerts, now, SHIPPED)
        all_checks = checks["n"]
        checks["n"] = 0
        assert evaluate(last, open_alerts, now, SHIPPED, checked) == everything
        if not any(changed.values()):
            assert checks["n"] == 0
        assert checks["n"] <= all_checks
        spared += all_checks - checks["n"]
        timeline.at(now)  # the store moves on with the same transitions
    assert timeline.raised, "the scenario raises alerts"
    assert spared > 0
