"""Health rules: file format, validation errors, thresholds, derived metrics, evaluation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hypercare.situation.health import (
    HealthRules,
    MetricContext,
    RulesError,
    evaluate,
    load_rules,
    metric_value,
    parse_rules,
)


def rules(*rule_list: dict[str, Any]) -> HealthRules:
    return parse_rules({"version": 1, "health": list(rule_list)})


def rule(**fields: Any) -> dict[str, Any]:
    base = {"id": "r", "levels": ["unit"], "metric": "tickets.open", "yellow": 5, "red": 10, "reason": "{value} öppna"}
    return {**base, **fields}


def unit(**blocks: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "tickets": {
            "open": 0,
            "open_by_priority": {"1": 0, "2": 0, "3": 0, "4": 0},
            "open_by_category": {},
            "oldest_open_minutes": None,
            "patient_safety_open": 0,
        },
        "access": {
            "logins_15m": 0,
            "login_failures_15m": 0,
            "login_failure_rate_15m": 0.0,
            "permission_denied_1h_by_role": {},
        },
        "floorwalkers": {"on_unit": 0, "minutes_since_last_visit": None, "open_escalations": 0},
        "ed": {"diversion": None, "active_diversions": [], "status": None},
    }
    for name, values in blocks.items():
        base[name] = {**base[name], **values}
    return base


# --- the shipped file ---------------------------------------------------------------------------


def test_shipped_rules_load_and_cover_every_level() -> None:
    shipped = load_rules(None)
    assert shipped.version == 1
    ids = {r.id for r in shipped.health}
    assert {"login_failure_rate", "patient_safety_open", "ed_diversion_active", "red_children_share"} <= ids
    for level in ("unit", "site", "administration", "region"):
        assert shipped.by_level[level]


def test_shipped_login_failure_rate_boundaries() -> None:
    shipped = load_rules(None)

    def status(logins: int, rate: float) -> dict[str, Any]:
        return evaluate(shipped, "unit", unit(access={"logins_15m": logins, "login_failure_rate_15m": rate}))

    assert status(40, 0.0999)["status"] == "green"
    assert status(40, 0.10) == {
        "status": "yellow",
        "reasons": ["Inloggningsfel 10% senaste 15 min"],
        "reason_codes": [
            {"rule": "login_failure_rate", "level": "yellow", "value": 0.1, "threshold": 0.1, "phase": None}
        ],
        "not_assessed": [],
        "phases": [],
    }
    assert status(40, 0.25)["status"] == "red"
    # Below the thresholds section's 20 logins the rate is not assessed: grey with its n, never green.
    assert status(19, 0.5) == {
        "status": "not_assessed",
        "reasons": [],
        "reason_codes": [],
        "not_assessed": [
            {
                "rule": "login_failure_rate",
                "metric": "access.login_failure_rate_15m",
                "volume_metric": "access.logins_15m",
                "n": 19,
                "min": 20,
            }
        ],
        "phases": [],
    }
    assert status(0, 0.0)["status"] == "not_assessed"
    assert status(20, 0.5)["status"] == "red"
    busy = unit(access={"logins_15m": 100, "login_failure_rate_15m": 0.3})
    site = evaluate(shipped, "site", busy, children=[], units=[])
    assert site["status"] == "red"


def test_shipped_patient_safety_and_ed_rules() -> None:
    shipped = load_rules(None)
    assert evaluate(shipped, "unit", unit(tickets={"patient_safety_open": 1}))["status"] == "red"
    diverting = unit(ed={"diversion": {"diversion_id": "D"}, "active_diversions": [{"diversion_id": "D"}]})
    result = evaluate(shipped, "unit", diverting)
    assert result["status"] == "yellow"
    assert result["reasons"] == ["Hänvisning till andra akutmottagningar pågår"]
    full = unit(ed={"status": {"patients_waiting": 14, "patients_in_department": 28, "capacity": 28}})
    assert [c["rule"] for c in evaluate(shipped, "unit", full)["reason_codes"]] == ["ed_occupancy", "ed_waiting"]
    assert evaluate(shipped, "unit", full)["status"] == "yellow"


def test_shipped_rollup_rules() -> None:
    shipped = load_rules(None)
    obj = unit(access={"logins_15m": 80})
    assert evaluate(shipped, "site", obj, children=["green"] * 4, units=["green"] * 4)["status"] == "green"
    one_red = evaluate(shipped, "site", obj, children=["red"] + ["green"] * 4, units=["red"] + ["green"] * 4)
    assert one_red["status"] == "yellow"
    quarter = evaluate(shipped, "site", obj, children=["red"] + ["green"] * 3, units=["red"] + ["green"] * 3)
    assert quarter["status"] == "red"
    assert quarter["reasons"] == ["25% av underliggande har röd status", "1 enheter med röd status"]


def test_unit_open_tickets_only_count_at_unit_level() -> None:
    shipped = load_rules(None)
    busy = unit(tickets={"open": 50})
    assert evaluate(shipped, "unit", busy)["status"] == "red"
    # Nothing at region level triggers, and with no logins nothing there can be judged either.
    assert evaluate(shipped, "region", busy, children=[], units=[])["status"] == "not_assessed"
    judged = unit(tickets={"open": 50}, access={"logins_15m": 20})
    assert evaluate(shipped, "region", judged, children=[], units=[])["status"] == "green"


# --- thresholds and evaluation ------------------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [(4, "green"), (5, "yellow"), (9, "yellow"), (10, "red"), (11, "red")])
def test_threshold_itself_triggers(value: int, expected: str) -> None:
    assert evaluate(rules(rule()), "unit", unit(tickets={"open": value}))["status"] == expected


@pytest.mark.parametrize(("value", "expected"), [(30, "green"), (20, "yellow"), (5, "red"), (0, "red")])
def test_direction_below(value: int, expected: str) -> None:
    below = rules(rule(metric="access.logins_15m", direction="below", yellow=20, red=5, reason="{value} inloggningar"))
    assert evaluate(below, "unit", unit(access={"logins_15m": value}))["status"] == expected


def test_only_red_or_only_yellow() -> None:
    assert evaluate(rules(rule(yellow=None, red=1)), "unit", unit(tickets={"open": 1}))["status"] == "red"
    assert evaluate(rules(rule(yellow=1, red=None)), "unit", unit(tickets={"open": 100}))["status"] == "yellow"


def test_reasons_red_first_then_file_order() -> None:
    rule_set = rules(
        rule(id="a", metric="tickets.open", yellow=1, red=None, reason="A {value}"),
        rule(id="b", metric="tickets.patient_safety_open", yellow=None, red=1, reason="B {value} ({threshold})"),
        rule(id="c", metric="floorwalkers.open_escalations", yellow=1, red=None, reason="C"),
    )
    obj = unit(tickets={"open": 3, "patient_safety_open": 1}, floorwalkers={"open_escalations": 2})
    result = evaluate(rule_set, "unit", obj)
    assert result["status"] == "red"
    assert result["reasons"] == ["B 1 (1)", "A 3", "C"]
    assert [c["rule"] for c in result["reason_codes"]] == ["b", "a", "c"]


def test_only_when_list_all_must_hold() -> None:
    guarded = rules(
        rule(
            only_when=[
                {"metric": "access.logins_15m", "at_least": 10},
                {"metric": "tickets.patient_safety_open", "at_most": 0},
            ]
        )
    )
    assert evaluate(guarded, "unit", unit(tickets={"open": 10}, access={"logins_15m": 10}))["status"] == "red"
    assert evaluate(guarded, "unit", unit(tickets={"open": 10}, access={"logins_15m": 9}))["status"] == "green"
    blocked = unit(tickets={"open": 10, "patient_safety_open": 1}, access={"logins_15m": 10})
    assert evaluate(guarded, "unit", blocked)["status"] == "green"


def test_levels_select_rules() -> None:
    rule_set = rules(rule(levels=["site"]))
    assert evaluate(rule_set, "unit", unit(tickets={"open": 100}))["status"] == "green"
    assert evaluate(rule_set, "site", unit(tickets={"open": 100}), children=[], units=[])["status"] == "red"


def test_metric_without_value_never_triggers() -> None:
    rule_set = rules(
        rule(id="o", metric="tickets.oldest_open_minutes", yellow=0, red=None, reason="o"),
        rule(id="e", metric="ed.occupancy", yellow=0, red=None, reason="e"),
    )
    assert evaluate(rule_set, "unit", unit())["status"] == "green"


# --- metrics ------------------------------------------------------------------------------------


def test_metric_paths_and_derived_metrics() -> None:
    obj = unit(
        tickets={"open_by_priority": {"1": 2, "2": 0, "3": 0, "4": 0}, "open_by_category": {"login": 3}},
        access={"permission_denied_1h_by_role": {"lakare": 4}},
        ed={
            "status": {"patients_waiting": 14, "patients_in_department": 31, "capacity": 28},
            "active_diversions": [{"diversion_id": "a"}, {"diversion_id": "b"}],
        },
        floorwalkers={"minutes_since_last_visit": None},
    )
    ctx = MetricContext(obj)
    assert metric_value("tickets.open_by_priority.1", ctx) == 2
    assert metric_value("tickets.open_by_category.login", ctx) == 3
    assert metric_value("tickets.open_by_category.printing", ctx) == 0  # absent key of a map = 0
    assert metric_value("access.permission_denied_1h_by_role.sjukskoterska", ctx) == 0
    assert metric_value("tickets.oldest_open_minutes", ctx) is None
    assert metric_value("ed.status.patients_waiting", ctx) == 14
    assert metric_value("ed.occupancy", ctx) == 1.1071
    assert metric_value("ed.load", ctx) == 1.6071
    assert metric_value("ed.waiting_over_capacity", ctx) == 0.5
    assert metric_value("ed.diversion_active", ctx) == 1
    assert metric_value("ed.active_diversion_count", ctx) == 2
    assert metric_value("floorwalkers.never_visited", ctx) == 1
    assert metric_value("ed.occupancy", MetricContext(unit())) is None
    assert metric_value("ed.diversion_active", MetricContext(unit())) == 0


def test_children_and_units_metrics() -> None:
    ctx = MetricContext(unit(), ["red", "yellow", "green", "green"], ["red", "red", "yellow", "green", "green"])
    assert metric_value("children.red", ctx) == 1
    assert metric_value("children.total", ctx) == 4
    assert metric_value("children.red_share", ctx) == 0.25
    assert metric_value("children.not_green_share", ctx) == 0.5
    assert metric_value("units.red", ctx) == 2
    assert metric_value("units.red_share", ctx) == 0.4
    assert metric_value("children.red_share", MetricContext(unit(), [], [])) == 0.0
    assert metric_value("children.red", MetricContext(unit())) is None


# --- validation errors --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (rule(metric="tickets.opne"), "unknown metric 'tickets.opne'"),
        (rule(metric="tickets.open_by_category.printers"), "unknown metric"),
        (rule(colour="blue"), "colour: Extra inputs are not permitted"),
        (rule(yellow=None, red=None), "needs a yellow and/or a red threshold"),
        (rule(yellow=10, red=5), "red must be at or above yellow"),
        (rule(direction="below", yellow=5, red=10), "red must be at or below yellow"),
        (rule(reason="{count} öppna"), "placeholders"),
        (rule(reason="{value:d} öppna"), "cannot be formatted"),
        (rule(reason="{} öppna"), "placeholders"),
        (rule(levels=["ward"]), "levels.0"),
        (rule(levels=[]), "levels"),
        (rule(yellow="5"), "yellow"),
        (rule(metric="children.red"), "exists only for roll-ups"),
        (rule(only_when={"metric": "access.logins_15m"}), "only_when needs at_least and/or at_most"),
        (rule(id="Bad Id"), "id"),
    ],
)
def test_invalid_rules_are_rejected_with_the_rule_named(bad: dict[str, Any], message: str) -> None:
    with pytest.raises(RulesError) as error:
        rules(bad)
    assert message in str(error.value)
    assert "health rule 'r'" in str(error.value) or "Bad Id" in str(error.value)


def test_file_level_errors(tmp_path: Path) -> None:
    with pytest.raises(RulesError, match="used twice"):
        rules(rule(), rule())
    with pytest.raises(RulesError, match="version"):
        parse_rules({"version": 2, "health": []})
    with pytest.raises(RulesError, match="stopkriterier: Extra inputs are not permitted"):
        parse_rules({"version": 1, "health": [], "stopkriterier": []})
    # The stop criteria have their own parser (hypercare.rules.stop_criteria): here only a list.
    with pytest.raises(RulesError, match="stop_criteria: Input should be a valid list"):
        parse_rules({"version": 1, "health": [], "stop_criteria": {}})
    # The alerts section has its own parser (hypercare.rules.alerts); here it must only be a mapping.
    with pytest.raises(RulesError, match="alerts: Input should be a valid dictionary"):
        parse_rules({"version": 1, "health": [], "alerts": []})
    with pytest.raises(RulesError, match="must be a mapping"):
        parse_rules(["health"])

    broken = tmp_path / "rules.yaml"
    broken.write_text("version: 1\nhealth: [\n", encoding="utf-8")
    with pytest.raises(RulesError, match=r"rules\.yaml:3: not valid YAML"):
        load_rules(broken)
    with pytest.raises(RulesError, match="cannot read"):
        load_rules(tmp_path / "missing.yaml")


def test_load_rules_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(
        "version: 1\n"
        "health:\n"
        "  - id: many_open\n"
        "    levels: [unit]\n"
        "    metric: tickets.open\n"
        "    yellow: 3\n"
        "    only_when: {metric: tickets.open, at_least: 1}\n"
        '    reason: "{value} öppna ärenden"\n',
        encoding="utf-8",
    )
    loaded = load_rules(path)
    assert [r.id for r in loaded.health] == ["many_open"]
    assert evaluate(loaded, "unit", unit(tickets={"open": 3}))["reasons"] == ["3 öppna ärenden"]
