"""The ``alerts:`` section of the rules file: parsing, readable errors, and the custom-file fallback."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from hypercare.rules.loader import RulesError
from hypercare.situation.health import load_rules
from services.alerts.rules import Escalation, load_alert_rules, parse_alert_rules

ESCALATION = {"multi_after_minutes": 15, "program_after_minutes": 45}


def section(*rules: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"escalation": ESCALATION, "rules": list(rules), **extra}


def rule(**fields: Any) -> dict[str, Any]:
    return {"id": "r", "kind": "ed_status_missing", "severity": "warning", "minutes": 180, **fields}


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (rule(kind="sky_is_falling"), "alert rule 'r'"),
        (rule(minutes=None), "alert rule 'r'.minutes"),
        (rule(minutes="180"), "alert rule 'r'.minutes"),
        (rule(minutes=0), "greater than or equal to 1"),
        (rule(severity="panic"), "alert rule 'r'.severity"),
        (rule(colour="red"), "alert rule 'r'.colour: Extra inputs are not permitted"),
        (rule(levels=["ward"]), "alert rule 'r'.levels.0"),
        (
            {
                "id": "r",
                "kind": "login_failure_rate",
                "severity": "warning",
                "failure_rate_above": 25,
                "min_attempts": 40,
            },
            "alert rule 'r'.failure_rate_above: Input should be less than 1",
        ),
        (
            {"id": "r", "kind": "unvisited_with_open_tickets", "severity": "warning", "hours": 2, "levels": ["site"]},
            "applies to units only",
        ),
        (
            {"id": "r", "kind": "ticket_open_too_long", "severity": "critical", "priority": 5, "minutes": 30},
            "alert rule 'r'.priority",
        ),
        (rule(escalation={"multi_after_minutes": 30, "program_after_minutes": 30}), "must be more than"),
        (rule(id="Bad Id"), "id"),
    ],
)
def test_invalid_alert_rules_are_rejected_with_the_rule_named(bad: dict[str, Any], message: str) -> None:
    with pytest.raises(RulesError) as error:
        parse_alert_rules(section(bad), origin="rules.yaml")
    assert message in str(error.value)
    assert str(error.value).startswith("rules.yaml: ")


def test_section_level_errors() -> None:
    with pytest.raises(RulesError, match="used twice"):
        parse_alert_rules(section(rule(), rule()))
    with pytest.raises(RulesError, match="alerts.escalation: Field required"):
        parse_alert_rules({"rules": []})
    with pytest.raises(RulesError, match="alerts.threshold: Extra inputs are not permitted"):
        parse_alert_rules(section(threshold=3))
    with pytest.raises(RulesError, match="must be a mapping"):
        parse_alert_rules([rule()])


def test_escalation_levels_by_age_the_boundary_counts() -> None:
    escalation = Escalation(multi_after_minutes=15, program_after_minutes=45)
    assert escalation.level_after(timedelta(minutes=15) - timedelta(seconds=1)) == "team"
    assert escalation.level_after(timedelta(minutes=15)) == "multi"
    assert escalation.level_after(timedelta(minutes=45) - timedelta(microseconds=1)) == "multi"
    assert escalation.level_after(timedelta(minutes=45)) == "program"


def test_a_custom_file_with_alerts_uses_them_and_the_health_rules_still_load(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(
        "version: 1\n"
        "health: []\n"
        "alerts:\n"
        "  escalation: {multi_after_minutes: 10, program_after_minutes: 20}\n"
        "  rules:\n"
        "    - {id: quiet_ed, kind: ed_status_missing, severity: info, minutes: 60}\n",
        encoding="utf-8",
    )
    loaded = load_alert_rules(path)
    assert [r.id for r in loaded.rules] == ["quiet_ed"]
    assert loaded.escalation.multi_after_minutes == 10
    assert load_rules(path).health == []  # the health side accepts the section


def test_a_custom_file_without_alerts_gets_the_shipped_alert_rules(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text("version: 1\nhealth: []\n", encoding="utf-8")
    assert load_alert_rules(path) == load_alert_rules(None)


def test_a_broken_alerts_section_in_a_custom_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text("version: 1\nalerts:\n  escalation: {multi_after_minutes: 10}\n  rules: []\n", encoding="utf-8")
    with pytest.raises(RulesError, match=r"rules\.yaml:3: alerts\.escalation\.program_after_minutes: Field required"):
        load_alert_rules(path)
    with pytest.raises(RulesError, match="cannot read"):
        load_alert_rules(tmp_path / "missing.yaml")
