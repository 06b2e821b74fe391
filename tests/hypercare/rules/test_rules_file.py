"""The rules file read once, and every broken file refused with its file, line and reason."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from hypercare.org.registry import OrgFileError, load_org
from hypercare.rules.alerts import load_alert_rules
from hypercare.rules.file import RulesFile, load_rules_file
from hypercare.rules.loader import RulesError
from hypercare.rules.stop_criteria import load_stop_criteria
from hypercare.situation.health import load_rules

HEALTH = """\
version: 1
health:
  - id: many_open
    levels: [unit]
    metric: tickets.open
    yellow: 3
    reason: "{value} öppna ärenden"
  - id: login_failures
    levels: [unit]
    metric: access.login_failure_rate_15m
    yellow: "0.1"
    reason: "{value:.0%} misslyckade inloggningar"
"""

ALERTS = """\
version: 1
health: []
alerts:
  escalation:
    multi_after_minutes: 15
    program_after_minutes: 45
  rules:
    - id: quiet_ed
      kind: ed_status_missing
      severity: info
      minutes: 60
    - id: failures
      kind: login_failure_rate
      severity: warning
      failure_rate_above: 25
      min_attempts: 40
"""

STOP_CRITERIA = """\
version: 1
health: []
stop_criteria:
  - {id: p1, title: P1, metric: open_priority1_tickets, not_met_at: 2}
  - id: safety
    title: Patientsäkerhet
    metric: tickets_per_day
    not_met_at: 1
"""


def write(tmp_path: Path, text: str, name: str = "my_rules.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def line_of(text: str, needle: str) -> int:
    """The 1-based line of the only line containing ``needle``."""
    (line,) = [number for number, content in enumerate(text.splitlines(), 1) if needle in content]
    return line


def refusal(load: Callable[[Path], object], path: Path) -> str:
    with pytest.raises(RulesError) as error:
        load(path)
    return str(error.value)


def test_a_health_rule_error_names_the_file_the_line_and_the_rule(tmp_path: Path) -> None:
    path = write(tmp_path, HEALTH)
    assert line_of(HEALTH, 'yellow: "0.1"') == 11
    expected = f"{path}:11: health rule 'login_failures'.yellow: must be a number (got text)"
    assert refusal(load_rules, path) == expected
    assert refusal(load_rules_file, path) == expected


def test_a_missing_field_points_at_the_rule_that_lacks_it(tmp_path: Path) -> None:
    path = write(tmp_path, HEALTH.replace('    reason: "{value} öppna ärenden"\n', "").replace('"0.1"', "0.1"))
    assert refusal(load_rules, path) == f"{path}:3: health rule 'many_open'.reason: Field required"


def test_an_alert_rule_error_names_the_line_of_the_field(tmp_path: Path) -> None:
    path = write(tmp_path, ALERTS)
    assert line_of(ALERTS, "failure_rate_above") == 15
    expected = f"{path}:15: alert rule 'failures'.failure_rate_above: Input should be less than 1"
    assert refusal(load_alert_rules, path) == expected
    assert refusal(load_rules_file, path) == expected
    path.write_text(ALERTS.replace("    program_after_minutes: 45\n", "    program_after_minutes: 10\n"))
    assert refusal(load_alert_rules, path).startswith(
        f"{path}:4: alerts.escalation: program_after_minutes must be more than multi_after_minutes\n"
    )


def test_a_stop_criterion_error_names_the_line_and_the_criterion(tmp_path: Path) -> None:
    path = write(tmp_path, STOP_CRITERIA)
    message = refusal(load_stop_criteria, path)
    assert message.startswith(f"{path}:7: stop criterion 'safety'.metric: Input should be ")
    assert refusal(load_rules_file, path) == message
    path.write_text(STOP_CRITERIA.replace("id: safety", "id: p1").replace("tickets_per_day", "diversion_hours_today"))
    assert refusal(load_stop_criteria, path) == f"{path}:3: stop_criteria: stop criterion ids used twice: p1"


def test_an_org_file_error_names_the_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "region: {id: vgr, name: Västra Götaland}\n"
        "administrations:\n"
        "  - id: su\n"
        "    name: Sahlgrenska\n"
        "    sites:\n"
        "      - id: su_s\n"
        "        name: Sahlgrenska sjukhuset\n"
        "        units:\n"
        "          - {id: akm, name: Akutmottagning, kind: emergency}\n",
        name="org.yaml",
    )
    with pytest.raises(OrgFileError) as error:
        load_org(path)
    assert str(error.value).startswith(f"{path}:9: administrations.0.sites.0.units.0.kind: Input should be ")


def test_every_problem_of_every_section_is_reported_at_once(tmp_path: Path) -> None:
    broken = HEALTH + ALERTS.split("health: []\n", 1)[1] + STOP_CRITERIA.split("health: []\n", 1)[1]
    path = write(tmp_path, broken)
    lines = refusal(load_rules_file, path).splitlines()
    expected = [line_of(broken, needle) for needle in ('yellow: "0.1"', "failure_rate_above", "tickets_per_day")]
    assert [line.split(": ", 1)[0] for line in lines] == [f"{path}:{line}" for line in expected]


def test_the_file_is_read_once_for_all_sections(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, ALERTS.replace("25", "0.25"))
    reads: list[Path] = []
    read_text = Path.read_text

    def counting(self: Path, *args: object, **kwargs: object) -> str:
        reads.append(self)
        return read_text(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "read_text", counting)
    loaded = load_rules_file(path)
    assert reads == [path]
    assert isinstance(loaded, RulesFile)
    assert loaded.health.health == []
    assert [rule.id for rule in loaded.alerts.rules] == ["quiet_ed", "failures"]
    # No stop_criteria section: the shipped criteria, so a custom file never switches them off by accident.
    assert loaded.stop_criteria == load_stop_criteria(None)


def test_the_shipped_file_loads_whole() -> None:
    shipped = load_rules_file(None)
    assert shipped.health == load_rules(None)
    assert shipped.alerts == load_alert_rules(None)
    assert shipped.stop_criteria == load_stop_criteria(None)
    assert shipped.origin == "default_rules.yaml (shipped)"


def test_an_error_in_a_shipped_section_used_as_fallback_says_so(tmp_path: Path) -> None:
    path = write(tmp_path, "version: 1\nhealth: []\nalerts: []\n")
    assert refusal(load_alert_rules, path) == f"{path}:3: alerts must be a mapping with 'escalation' and 'rules'"


SHARED = """\
version: 1
thresholds:
  - id: logins
    metric: access.login_failure_rate_15m
    volume: {metric: access.logins_15m, at_least: 30}
    yellow: 0.05
    red: 0.15
health:
  - id: login_failures
    levels: [unit, site]
    threshold: logins
    reason: "{value:.0%}"
alerts:
  escalation: {multi_after_minutes: 15, program_after_minutes: 45}
  rules:
    - {id: logins, kind: login_failure_rate, severity: warning, levels: [unit, site], threshold: logins}
stop_criteria:
  - {id: logins, title: Inloggningsfel, metric: login_failure_rate_15m, per: administration, threshold: logins}
"""


def test_one_threshold_feeds_health_alerts_and_stop_criteria(tmp_path: Path) -> None:
    loaded = load_rules_file(write(tmp_path, SHARED))
    [health] = loaded.health.health
    [alert] = loaded.alerts.rules
    [criterion] = loaded.stop_criteria.criteria
    assert (health.metric, health.yellow, health.red) == ("access.login_failure_rate_15m", 0.05, 0.15)
    assert health.volume is not None and (health.volume.metric, health.volume.at_least) == ("access.logins_15m", 30)
    assert (getattr(alert, "rate_at_least", None), getattr(alert, "min_attempts", None)) == (0.15, 30)
    assert (criterion.not_met_at, criterion.min_logins) == (0.15, 30)
    assert loaded.thresholds.by_id["logins"].min_volume == 30


def test_a_rule_that_names_a_threshold_may_not_repeat_its_numbers(tmp_path: Path) -> None:
    text = SHARED.replace("    threshold: logins\n", "    threshold: logins\n    red: 0.3\n", 1)
    path = write(tmp_path, text)
    line = line_of(text, "    threshold: logins") - 2  # the rule's line: "- id: login_failures"
    assert refusal(load_rules_file, path) == (
        f"{path}:{line}: health rule 'login_failures': red comes from threshold 'logins'; "
        "remove it here or drop 'threshold'"
    )


def test_an_unknown_threshold_is_refused_with_the_known_ones(tmp_path: Path) -> None:
    text = SHARED.replace("threshold: logins}\n", "threshold: login}\n")
    message = refusal(load_rules_file, write(tmp_path, text))
    assert "alert rule 'logins': unknown threshold 'login' (the thresholds section has: logins)" in message
    assert "stop criterion 'logins': unknown threshold 'login'" in message


def test_an_older_file_without_thresholds_still_loads(tmp_path: Path) -> None:
    """Files written before the thresholds section keep their own numbers; the shipped sections they fall back
    on read the shipped thresholds."""
    older = HEALTH.replace('"0.1"', "0.1").replace(
        "    yellow: 0.1\n", "    yellow: 0.1\n    only_when: {metric: access.logins_15m, at_least: 10}\n"
    )
    loaded = load_rules_file(write(tmp_path, older))
    assert [rule.id for rule in loaded.health.health] == ["many_open", "login_failures"]
    assert all(rule.volume is None for rule in loaded.health.health)
    assert loaded.alerts == load_alert_rules(None)
    assert loaded.thresholds == load_rules_file(None).thresholds


def test_alerts_and_stop_criteria_refer_only_to_a_login_rate_threshold(tmp_path: Path) -> None:
    text = (
        SHARED.replace(
            "health:\n",
            "  - {id: open, metric: tickets.open, red: 5}\nhealth:\n",
        )
        .replace(
            "kind: login_failure_rate, severity: warning, levels: [unit, site], threshold: logins",
            ("kind: login_failure_rate, severity: warning, levels: [unit, site], threshold: open"),
        )
        .replace(
            "per: administration, threshold: logins}",
            "per: administration, threshold: open}\n"
            "  - {id: p1, title: P1, metric: open_priority1_tickets, threshold: open}",
        )
    )
    message = refusal(load_rules_file, write(tmp_path, text))
    assert (
        "alert rule 'logins': threshold 'open' measures tickets.open; a login failure rate needs metric "
        "access.login_failure_rate_15m (volume access.logins_15m)"
    ) in message
    assert "stop criterion 'logins': threshold 'open' measures tickets.open" in message
    assert "stop criterion 'p1': threshold applies to login_failure_rate_15m only; give not_met_at" in message
