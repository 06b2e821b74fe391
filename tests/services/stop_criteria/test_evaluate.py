"""Stop criteria judged on hand-made figures: the flip from met to not met happens exactly at the limit."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hypercare.org.registry import load_org
from hypercare.rules.loader import RulesError
from services.stop_criteria.evaluate import evaluate
from services.stop_criteria.measures import UnitFigures
from services.stop_criteria.rules import StopCriteria, load_stop_criteria, parse_stop_criteria

AT = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
SINCE = datetime(2026, 11, 19, 23, 0, tzinfo=UTC)
BORAS_WARD = "SE2321000131-ESASBOR240"  # Södra Älvsborgs Sjukhus
NARHALSAN = "SE2321000131-ENHBORCEN"  # Närhälsan


def criteria(**overrides: object) -> StopCriteria:
    base = [
        {
            "id": "login",
            "title": "Inloggningsfel",
            "metric": "login_failure_rate_15m",
            "per": "administration",
            "not_met_at": 0.20,
            "min_logins": 50,
        },
        {"id": "p1", "title": "Prio 1", "metric": "open_priority1_tickets", "not_met_at": 5},
        {"id": "diversion", "title": "Hänvisning", "metric": "diversion_hours_today", "not_met_at": 8},
        {"id": "safety", "title": "Patientsäkerhet", "metric": "patient_safety_tickets_today", "not_met_at": 3},
    ]
    return parse_stop_criteria([{**item, **overrides.get(str(item["id"]), {})} for item in base])  # type: ignore[dict-item]


def judged(figures: UnitFigures) -> dict[str, dict[str, object]]:
    document = evaluate(criteria(), figures, org=load_org(None), at=AT, since=SINCE)
    return {item["id"]: item for item in document["criteria"]} | {"overall": {"met": document["overall"] == "met"}}


def test_counts_flip_exactly_at_the_limit() -> None:
    below = judged(
        UnitFigures(
            open_priority1_tickets=Counter({BORAS_WARD: 3, NARHALSAN: 1}),
            patient_safety_tickets_today=Counter({BORAS_WARD: 2}),
            diversion_hours_today={"SE2321000131-ESASBORAKM": 7.99},
        )
    )
    assert (below["p1"]["value"], below["p1"]["met"]) == (4, True)
    assert (below["safety"]["value"], below["safety"]["met"]) == (2, True)
    assert (below["diversion"]["value"], below["diversion"]["met"]) == (7.99, True)
    assert below["overall"]["met"] is True

    at_limit = judged(
        UnitFigures(
            open_priority1_tickets=Counter({BORAS_WARD: 4, NARHALSAN: 1}),
            patient_safety_tickets_today=Counter({BORAS_WARD: 3}),
            diversion_hours_today={"SE2321000131-ESASBORAKM": 5.0, "SE2321000131-ESASSKEAKM": 3.0},
        )
    )
    assert (at_limit["p1"]["value"], at_limit["p1"]["met"]) == (5, False)
    assert (at_limit["safety"]["value"], at_limit["safety"]["met"]) == (3, False)
    assert (at_limit["diversion"]["value"], at_limit["diversion"]["met"]) == (8, False)
    assert at_limit["overall"]["met"] is False


def test_a_rate_is_judged_per_administration_from_summed_counts_and_only_with_enough_logins() -> None:
    # 10 failures of 50 logins at one administration: exactly 20 % -> not met there, so not met overall.
    at_limit = judged(
        UnitFigures(
            logins_15m=Counter({BORAS_WARD: 50, NARHALSAN: 100}),
            login_failures_15m=Counter({BORAS_WARD: 10, NARHALSAN: 1}),
        )
    )
    login = at_limit["login"]
    assert (login["value"], login["logins"], login["failures"]) == (round(11 / 150, 4), 150, 11)
    by_admin = {item["id"]: item for item in login["breakdown"]}  # type: ignore[attr-defined]
    assert (by_admin["SE2321000131-FSAS"]["value"], by_admin["SE2321000131-FSAS"]["met"]) == (0.2, False)
    assert by_admin["SE2321000131-FNH"]["met"] is True
    assert login["met"] is False

    just_below = judged(UnitFigures(logins_15m=Counter({BORAS_WARD: 50}), login_failures_15m=Counter({BORAS_WARD: 9})))
    assert just_below["login"]["met"] is True

    # 49 logins, all failed: too few to judge, counts as met and says so.
    too_few = judged(UnitFigures(logins_15m=Counter({BORAS_WARD: 49}), login_failures_15m=Counter({BORAS_WARD: 49})))
    sas = next(i for i in too_few["login"]["breakdown"] if i["id"] == "SE2321000131-FSAS")  # type: ignore[attr-defined]
    assert (sas["value"], sas["met"], sas["judged"], sas["state"]) == (1.0, True, False, "not_assessed")
    assert too_few["login"]["met"] is True
    # No administration had enough logins: the criterion is "Ej bedömt", neither within nor exceeded.
    assert too_few["login"]["state"] == "not_assessed"
    assert just_below["login"]["state"] == "within"
    assert login["state"] == "exceeded"
    assert by_admin["SE2321000131-FSAS"]["state"] == "exceeded"


def test_the_shipped_login_criterion_reads_the_shared_threshold() -> None:
    """The shipped criterion takes the thresholds section's red (25 %) and volume (20 logins)."""
    [login] = [c for c in load_stop_criteria(None).criteria if c.id == "login_failure_rate"]
    assert (login.threshold, login.not_met_at, login.min_logins) == ("login_failure_rate", 0.25, 20)
    shipped = load_stop_criteria(None)

    def state(logins: int, failures: int) -> tuple[object, object]:
        figures = UnitFigures(
            logins_15m=Counter({BORAS_WARD: logins}), login_failures_15m=Counter({BORAS_WARD: failures})
        )
        [result] = [
            r
            for r in evaluate(shipped, figures, org=load_org(None), at=AT, since=SINCE)["criteria"]
            if r["id"] == "login_failure_rate"
        ]
        return result["state"], result["met"]

    assert state(19, 19) == ("not_assessed", True)  # 19 logins: below the volume
    assert state(20, 4) == ("within", True)  # 20 %
    assert state(20, 5) == ("exceeded", False)  # exactly 25 %: the limit counts


def test_every_result_names_its_source_and_limit() -> None:
    document = evaluate(criteria(), UnitFigures(), org=load_org(None), at=AT, since=SINCE)
    assert document["as_of"] == AT.isoformat() and document["overall"] == "met"
    for item in document["criteria"]:
        assert item["source"].startswith("events type=")
        assert "2026-11-20T09:00:00+00:00" in item["source"]
    assert [i["limit"] for i in document["criteria"]] == [0.2, 5, 8, 3]


def test_rule_errors_name_the_criterion() -> None:
    with pytest.raises(RulesError, match="stop criterion 'p1'.*min_logins applies to login_failure_rate_15m only"):
        criteria(p1={"min_logins": 3})
    with pytest.raises(RulesError, match="stop criterion 'login'.*share between 0 and 1"):
        criteria(login={"not_met_at": 20})
    with pytest.raises(RulesError, match="stop criterion 'safety'.metric"):
        criteria(safety={"metric": "tickets_per_day"})
    with pytest.raises(RulesError, match="used twice: p1"):
        parse_stop_criteria([{"id": "p1", "title": "a", "metric": "open_priority1_tickets", "not_met_at": 1}] * 2)


def test_a_rules_file_without_the_section_gets_the_shipped_criteria(tmp_path: Path) -> None:
    custom = tmp_path / "rules.yaml"
    custom.write_text("version: 1\nhealth: []\n", encoding="utf-8")
    assert [c.id for c in load_stop_criteria(custom).criteria] == [
        "login_failure_rate",
        "open_p1_tickets",
        "diversion_hours",
        "patient_safety_tickets",
    ]
    custom.write_text(
        "version: 1\nhealth: []\nstop_criteria:\n  - {id: p1, title: P1, metric: open_priority1_tickets,"
        " not_met_at: 2}\n",
        encoding="utf-8",
    )
    assert [(c.id, c.not_met_at) for c in load_stop_criteria(custom).criteria] == [("p1", 2)]
