"""Threshold phases: other limits in the first hours after go-live, chosen in one place for health, alerts and
stop criteria, switching at the exact second (71.9 h is in ``first_72h``, 72 h is not)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hypercare.org.registry import load_org
from hypercare.rules.alerts import LoginFailureRate, parse_alert_rules
from hypercare.rules.file import load_rules_file
from hypercare.rules.loader import RulesError
from hypercare.rules.stop_criteria import parse_stop_criteria
from hypercare.rules.thresholds import parse_thresholds
from hypercare.situation.health import evaluate, parse_rules
from hypercare.situation.incremental import IncrementalPicture
from hypercare.situation.rollup import build_situation, summarize_unit
from services.alerts.conditions import check
from services.stop_criteria.evaluate import evaluate as evaluate_stop
from services.stop_criteria.measures import UnitFigures

ORG = load_org(None)
GO_LIVE = datetime(2024, 11, 12, 4, 30, tzinfo=UTC)  # the shipped registry's södra wave (05:30 +01:00)
BORAS_WARD = "SE2321000131-ESASBOR240"  # Södra Älvsborgs Sjukhus, wave södra
FSAS = "SE2321000131-FSAS"
PLANNED_UNIT = "SE2321000131-ESKASSKOAKM"  # Skaraborg, wave östra: planned, no go-live

THRESHOLDS = parse_thresholds(
    [
        {
            "id": "logins",
            "metric": "access.login_failure_rate_15m",
            "volume": {"metric": "access.logins_15m", "at_least": 20},
            "yellow": 0.10,
            "red": 0.25,
            "phases": [
                {
                    "id": "first_72h",
                    "hours_below": 72,
                    "title": "första 72 timmarna",
                    "yellow": 0.15,
                    "red": 0.35,
                    "volume": {"metric": "access.logins_15m", "at_least": 10},
                }
            ],
        }
    ]
)
HEALTH = parse_rules(
    {
        "version": 1,
        "health": [
            {
                "id": "login_failure_rate",
                "levels": ["unit", "site", "administration", "region"],
                "threshold": "logins",
                "reason": "Inloggningsfel {value:.0%}",
            }
        ],
    },
    thresholds=THRESHOLDS,
)
(ALERT,) = parse_alert_rules(
    {
        "escalation": {"multi_after_minutes": 15, "program_after_minutes": 45},
        "rules": [{"id": "logins", "kind": "login_failure_rate", "severity": "warning", "threshold": "logins"}],
    },
    thresholds=THRESHOLDS,
).rules
STOP = parse_stop_criteria(
    [
        {
            "id": "logins",
            "title": "Inloggningsfel",
            "metric": "login_failure_rate_15m",
            "per": "administration",
            "threshold": "logins",
        }
    ],
    thresholds=THRESHOLDS,
)


def at(hours: float) -> datetime:
    return GO_LIVE + timedelta(hours=hours)


def unit_obj(logins: int, failures: int, hours: float) -> dict[str, Any]:
    return {
        "access": {
            "logins_15m": logins,
            "login_failures_15m": failures,
            "login_failure_rate_15m": round(failures / logins, 4) if logins else 0.0,
        },
        "go_live_at": GO_LIVE.isoformat(),
        "as_of": at(hours).isoformat(),
    }


def health(logins: int, failures: int, hours: float | None) -> dict[str, Any]:
    return evaluate(HEALTH, "unit", unit_obj(logins, failures, hours or 0), hours_since_go_live=hours)


def stop_item(logins: int, failures: int, hours: float) -> dict[str, Any]:
    figures = UnitFigures(logins_15m=Counter({BORAS_WARD: logins}), login_failures_15m=Counter({BORAS_WARD: failures}))
    document = evaluate_stop(STOP, figures, org=ORG, at=at(hours), since=at(hours) - timedelta(hours=9))
    (criterion,) = document["criteria"]
    (item,) = [row for row in criterion["breakdown"] if row["id"] == FSAS]
    return dict(item)


def test_health_takes_the_phase_limits_until_72_hours_and_says_so() -> None:
    # 12 failures of 40 logins (30 %): yellow by the first-72-hours limits (15 %/35 %), red after (25 %).
    assert health(40, 12, 71.9) == {
        "status": "yellow",
        "reasons": ["Inloggningsfel 30% (gräns för fas första 72 timmarna)"],
        "reason_codes": [
            {"rule": "login_failure_rate", "level": "yellow", "value": 0.3, "threshold": 0.15, "phase": "first_72h"}
        ],
        "not_assessed": [],
        "phases": ["first_72h"],
    }
    assert health(40, 12, 72.0) == {
        "status": "red",
        "reasons": ["Inloggningsfel 30%"],
        "reason_codes": [
            {"rule": "login_failure_rate", "level": "red", "value": 0.3, "threshold": 0.25, "phase": None}
        ],
        "not_assessed": [],
        "phases": [],
    }
    # Before go-live (no hours) the normal limits hold.
    assert health(40, 12, None)["reason_codes"][0]["threshold"] == 0.25
    # The phase's volume: 15 logins are enough for the first 72 hours (10), not after (20).
    assert health(15, 6, 71.9)["status"] == "red"
    after = health(15, 6, 72.0)
    assert after["status"] == "not_assessed" and after["not_assessed"][0]["min"] == 20
    assert health(15, 6, 71.9)["reason_codes"][0]["threshold"] == 0.35


def test_the_alert_uses_the_same_phase_from_the_objects_go_live_and_as_of() -> None:
    assert isinstance(ALERT, LoginFailureRate)
    assert check(ALERT, unit_obj(40, 12, 71.9)) is None  # 30 % < 35 %
    finding = check(ALERT, unit_obj(40, 14, 71.9))  # 35 %
    assert finding is not None and finding.threshold == 0.35 and "(fas första 72 timmarna)" in finding.message
    after = check(ALERT, unit_obj(40, 12, 72.0))
    assert after is not None and after.threshold == 0.25
    assert check(ALERT, unit_obj(15, 6, 71.9)) is not None and check(ALERT, unit_obj(15, 6, 72.0)) is None


def test_the_stop_criterion_switches_at_the_same_second_per_administration() -> None:
    before = stop_item(40, 12, 71.9)
    assert (before["met"], before["limit"], before["phase"]) == (True, 0.35, "first_72h")
    after = stop_item(40, 12, 72.0)
    assert (after["met"], after["limit"], after["phase"]) == (False, 0.25, None)
    assert stop_item(15, 6, 72.0)["state"] == "not_assessed" and stop_item(15, 6, 71.9)["state"] == "exceeded"


def test_the_picture_counts_hours_from_the_actual_go_live_and_ends_the_phase_without_an_event() -> None:
    assert summarize_unit(BORAS_WARD, {}, org=ORG, rules=HEALTH, now=at(71.9))["health"]["phases"] == ["first_72h"]
    assert summarize_unit(BORAS_WARD, {}, org=ORG, rules=HEALTH, now=at(72))["health"]["phases"] == []
    # A unit whose wave has not gone live has the normal limits, even with HYPERCARE_GO_LIVE_AT's fallback.
    fallback = ORG.with_go_live(at(-1))
    assert summarize_unit(PLANNED_UNIT, {}, org=fallback, rules=HEALTH, now=at(1))["health"]["phases"] == []
    # Roll-ups count from the earliest go-live below; the region spans planned waves but one live wave.
    picture = build_situation({}, org=ORG, rules=HEALTH, now=at(71.9))
    assert picture["region"]["go_live_at"] == GO_LIVE.isoformat()
    assert picture["region"]["health"]["phases"] == ["first_72h"]
    skaraborg = next(a for a in picture["administrations"] if a["wave_ids"] == ["ostra"])
    assert skaraborg["go_live_at"] is None and skaraborg["health"]["phases"] == []

    incremental = IncrementalPicture(org=ORG, rules=HEALTH)
    incremental.advance({}, at(71.9), None)
    incremental.take_changed()
    incremental.advance({}, at(72), [])  # no event: the phase's end is a scheduled moment
    changed = incremental.take_changed()
    assert BORAS_WARD in changed["units"] and changed["units"][BORAS_WARD]["health"]["phases"] == []
    assert changed["region"]["region"]["health"]["phases"] == []
    assert incremental.situation() == build_situation({}, org=ORG, rules=HEALTH, now=at(72))


@settings(max_examples=300, deadline=None)
@given(
    hours=st.one_of(st.none(), st.floats(min_value=0, max_value=200, allow_nan=False)),
    logins=st.integers(min_value=0, max_value=80),
    share=st.floats(min_value=0, max_value=1, allow_nan=False),
)
def test_health_alerts_and_stop_criteria_agree_at_any_hour(hours: float | None, logins: int, share: float) -> None:
    """A unit alone in its administration: red health ⇔ alert ⇔ criterion exceeded, in and after the phase."""
    failures = round(logins * share)
    hour = 0.0 if hours is None else hours
    red = health(logins, failures, hours if hours is not None else None)["status"] == "red"
    obj = unit_obj(logins, failures, hour)
    if hours is None:
        obj.pop("go_live_at")
    alerted = check(ALERT, obj) is not None
    assert red == alerted
    if hours is not None:
        figures = UnitFigures(
            logins_15m=Counter({BORAS_WARD: logins}), login_failures_15m=Counter({BORAS_WARD: failures})
        )
        # FSAS's other units share the ward's go-live (wave södra): the administration is in the same phase.
        document = evaluate_stop(STOP, figures, org=ORG, at=at(hour), since=at(hour))
        (item,) = [row for row in document["criteria"][0]["breakdown"] if row["id"] == FSAS]
        assert red == (item["state"] == "exceeded")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_phase_is_read_from_the_file_and_shared_by_the_three_sections(tmp_path: Path) -> None:
    text = """\
version: 1
thresholds:
  - id: logins
    metric: access.login_failure_rate_15m
    volume: {metric: access.logins_15m, at_least: 20}
    yellow: 0.1
    red: 0.25
    phases:
      - {id: first_72h, hours_below: 72, red: 0.35}
health:
  - {id: logins, levels: [unit], threshold: logins, reason: "{value:.0%}"}
alerts:
  escalation: {multi_after_minutes: 15, program_after_minutes: 45}
  rules:
    - {id: logins, kind: login_failure_rate, severity: warning, threshold: logins}
stop_criteria:
  - {id: logins, title: Inloggningsfel, metric: login_failure_rate_15m, threshold: logins}
"""
    loaded = load_rules_file(write(tmp_path, text))
    phase = loaded.thresholds.by_id["logins"].phases[0]
    assert loaded.health.health[0].phases == (phase,)
    assert getattr(loaded.alerts.rules[0], "phases", None) == (phase,)
    assert loaded.stop_criteria.criteria[0].phases == (phase,)
    # A phase without its own yellow keeps the threshold's yellow.
    limits = loaded.health.health[0].limits(10)
    assert (limits.yellow, limits.red, limits.min_volume) == (0.1, 0.35, 20)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("{id: first_72h, hours_below: 72}", "a phase needs its own yellow, red and/or volume"),
        ("{id: first_72h, hours_below: 72, yellow: 0.5}", "phase 'first_72h': red must be at or above yellow"),
        ("{id: first_72h, hours_below: 0, red: 0.3}", "greater than 0"),
    ],
)
def test_a_broken_phase_is_refused_with_its_reason(tmp_path: Path, change: str, message: str) -> None:
    text = f"""\
version: 1
thresholds:
  - id: logins
    metric: access.login_failure_rate_15m
    red: 0.25
    phases:
      - {change}
health: []
"""
    with pytest.raises(RulesError, match=message):
        load_rules_file(write(tmp_path, text))


def test_phases_are_written_on_the_threshold_not_on_a_rule(tmp_path: Path) -> None:
    text = """\
version: 1
health:
  - {id: open, levels: [unit], metric: tickets.open, yellow: 3, reason: "{value}",
     phases: [{id: first_72h, hours_below: 72, yellow: 5}]}
"""
    with pytest.raises(RulesError, match="phases belong to an entry of thresholds"):
        load_rules_file(write(tmp_path, text))
