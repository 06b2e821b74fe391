"""The situation picture: unit objects, roll-ups (summed or recomputed), presence join, unmapped units."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from hypercare.contract.events import Event, parse_event
from hypercare.org.registry import OrgRegistry, load_org
from hypercare.situation.health import load_rules, parse_rules
from hypercare.situation.rollup import UNMAPPED_NAME, build_situation, summarize_unit
from hypercare.situation.state import apply_event, new_state

NOW = datetime(2024, 11, 12, 10, 0, tzinfo=UTC)
RULES = load_rules(None)
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
                            {"id": "AKM1", "name": "Akutmottagning 1", "kind": "ed"},
                        ],
                    },
                    {
                        "id": "S2",
                        "name": "Sjukhus 2",
                        "units": [
                            {"id": "B", "name": "Avdelning B"},
                            {"id": "AKM2", "name": "Akutmottagning 2", "kind": "ed"},
                        ],
                    },
                ],
            },
            {
                "id": "F2",
                "name": "Förvaltning 2",
                "sites": [
                    {
                        "id": "S3",
                        "name": "Vårdcentral 3",
                        "units": [
                            {"id": "C", "name": "Vårdcentral C", "kind": "primary_care"},
                        ],
                    },
                ],
            },
        ],
    }
)
_ids = itertools.count()


def ev(type_: str, unit: str, at: datetime, **fields: Any) -> Event:
    return parse_event(
        {
            "event_id": f"s-{next(_ids)}",
            "type": type_,
            "occurred_at": at.isoformat(),
            "unit_id": unit,
            **fields,
        }
    )


def ago(**kwargs: float) -> datetime:
    return NOW - timedelta(**kwargs)


def login(
    unit: str, user: str, outcome: str = "success", reason: str | None = None, at: datetime | None = None
) -> Event:
    extra = {"reason": reason} if reason else {}
    return ev("access.login", unit, at or ago(minutes=5), user_ref=user, outcome=outcome, **extra)


def opened(unit: str, ticket: str, at: datetime, **fields: Any) -> Event:
    fields = {"channel": "portal", "category": "login", "priority": 3, **fields}
    return ev("ticket.opened", unit, at, ticket_id=ticket, **fields)


def resolved(unit: str, ticket: str, at: datetime) -> Event:
    return ev("ticket.resolved", unit, at, ticket_id=ticket)


def states(events: list[Event], now: datetime = NOW) -> dict[str, dict[str, dict[str, Any]]]:
    """Fold events the way the worker does and return what the gateway would hold (JSON round trip)."""
    unit_states: dict[str, dict[str, dict[str, Any]]] = {}
    for event in events:
        family = event.family
        state = unit_states.setdefault(event.unit_id, {}).setdefault(family, new_state(family))
        apply_event(family, state, event, now=now)
    round_tripped: dict[str, dict[str, dict[str, Any]]] = json.loads(json.dumps(unit_states))
    return round_tripped


def situation(unit_states: dict[str, Any], *, org: OrgRegistry = ORG, now: datetime = NOW, **kw: Any) -> dict[str, Any]:
    result = build_situation(unit_states, org=org, rules=kw.pop("rules", RULES), now=now, **kw)
    json.dumps(result)  # must be JSON-serialisable as is
    return result


def index(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every object by id: administrations, sites, units, and "region"."""
    found: dict[str, dict[str, Any]] = {"region": result["region"]}
    for admin in result["administrations"]:
        found[admin["administration_id"]] = admin
        for site in admin["sites"]:
            found[site["site_id"]] = site
            for unit in site["units"]:
                found[unit["unit_id"]] = unit
    return found


UNIT_KEYS = {
    "unit_id",
    "name",
    "site_id",
    "administration_id",
    "as_of",
    "tickets",
    "access",
    "floorwalkers",
    "ed",
    "health",
}
TICKET_KEYS = {
    "open",
    "opened_1h",
    "resolved_1h",
    "open_by_priority",
    "open_by_category",
    "oldest_open_minutes",
    "patient_safety_open",
    "median_minutes_to_resolve_24h",
}
ACCESS_KEYS = {
    "logins_15m",
    "login_failures_15m",
    "login_failure_rate_15m",
    "distinct_users_failing_15m",
    "locked_accounts_1h",
    "permission_denied_1h",
    "permission_denied_1h_by_role",
}


def test_every_org_unit_appears_with_zeros() -> None:
    result = situation({})
    objects = index(result)
    assert result["as_of"] == "2024-11-12T10:00:00+00:00"
    assert [a["administration_id"] for a in result["administrations"]] == ["F1", "F2"]
    assert [s["site_id"] for s in result["administrations"][0]["sites"]] == ["S1", "S2"]
    assert [u["unit_id"] for u in objects["S1"]["units"]] == ["A", "AKM1"]
    unit = objects["A"]
    assert set(unit) >= UNIT_KEYS
    assert (unit["name"], unit["site_id"], unit["administration_id"], unit["as_of"]) == (
        "Avdelning A",
        "S1",
        "F1",
        "2024-11-12T10:00:00+00:00",
    )
    assert set(unit["tickets"]) >= TICKET_KEYS and set(unit["access"]) >= ACCESS_KEYS
    assert unit["tickets"]["open"] == 0
    assert unit["tickets"]["open_by_priority"] == {"1": 0, "2": 0, "3": 0, "4": 0}
    assert unit["tickets"]["oldest_open_minutes"] is None
    assert unit["access"]["login_failure_rate_15m"] == 0.0
    assert unit["floorwalkers"]["on_unit"] == 0 and unit["floorwalkers"]["minutes_since_last_visit"] is None
    assert unit["ed"]["diversion"] is None and unit["ed"]["status"] is None
    # No logins: the login failure rate is below its volume and nothing else can be judged — not green.
    assert unit["health"] == {
        "status": "not_assessed",
        "reasons": [],
        "reason_codes": [],
        "not_assessed": [
            {
                "rule": "login_failure_rate",
                "metric": "access.login_failure_rate_15m",
                "volume_metric": "access.logins_15m",
                "n": 0,
                "min": 20,
            }
        ],
        "phases": [],
    }
    assert result["region"]["units_by_health"] == {"green": 0, "yellow": 0, "red": 0, "not_assessed": 5}
    assert result["region"]["health"]["status"] == "not_assessed"
    assert result["region"]["floorwalkers"]["units_never_visited"] == 5
    assert result["data_quality"] == {"unmapped_units": []}


def test_default_org_units_all_appear() -> None:
    org = load_org(None)
    result = situation({}, org=org)
    units = [u for a in result["administrations"] for s in a["sites"] for u in s["units"]]
    assert {u["unit_id"] for u in units} == set(org.placements)
    assert len(units) == len(org.placements)


def test_access_rollups_sum_counts_and_recompute_rate_and_distinct_users() -> None:
    events = [login("A", f"ok{i}") for i in range(30)]
    events += [login("A", f"user{i % 7}", "failure", "wrong_password") for i in range(10)]
    events += [login("B", f"b{i}") for i in range(8)]
    events += [login("B", "user0", "failure", "wrong_password"), login("B", "other", "failure", "card_error")]
    events += [login("A", "locked", "failure", "account_locked"), login("B", "locked", "failure", "account_locked")]
    objects = index(situation(states(events)))

    a, b = objects["A"]["access"], objects["B"]["access"]
    assert (a["logins_15m"], a["login_failures_15m"], a["login_failure_rate_15m"]) == (41, 11, 0.2683)
    assert (a["distinct_users_failing_15m"], a["locked_accounts_1h"]) == (8, 1)
    assert (b["logins_15m"], b["login_failures_15m"], b["login_failure_rate_15m"]) == (11, 3, 0.2727)
    assert b["distinct_users_failing_15m"] == 3

    assert objects["S1"]["access"]["logins_15m"] == 41
    assert objects["S2"]["access"]["login_failure_rate_15m"] == 0.2727
    for key in ("F1", "region"):
        rolled = objects[key]["access"]
        assert (rolled["logins_15m"], rolled["login_failures_15m"]) == (52, 14)
        assert rolled["login_failure_rate_15m"] == round(14 / 52, 4)  # not the mean of the two rates
        assert rolled["distinct_users_failing_15m"] == 9  # user0 and "locked" fail at both units
        assert rolled["locked_accounts_1h"] == 1
    assert objects["F2"]["access"]["logins_15m"] == 0


def test_forty_logins_ten_failures_at_one_unit() -> None:
    events = [login("A", f"ok{i}") for i in range(30)] + [login("A", f"u{i}", "failure", "other") for i in range(10)]
    access = index(situation(states(events)))["A"]["access"]
    assert (access["logins_15m"], access["login_failures_15m"], access["login_failure_rate_15m"]) == (40, 10, 0.25)


def test_ticket_rollups_sum_max_and_pooled_median() -> None:
    events = [
        opened("A", "a1", ago(minutes=30), priority=1),
        opened("A", "a2", ago(minutes=10), category="printing"),
        opened("A", "a3", ago(minutes=40)),
        resolved("A", "a3", ago(minutes=30)),  # 10 min
        opened("A", "a4", ago(minutes=40)),
        resolved("A", "a4", ago(minutes=20)),  # 20 min
        opened("B", "b1", ago(minutes=50), patient_safety=True),
        opened("B", "b2", ago(minutes=90)),
        resolved("B", "b2", ago(minutes=30)),  # 60 min
    ]
    objects = index(situation(states(events)))
    assert objects["A"]["tickets"]["median_minutes_to_resolve_24h"] == 15.0
    assert objects["B"]["tickets"]["median_minutes_to_resolve_24h"] == 60.0
    f1 = objects["F1"]["tickets"]
    assert f1["open"] == 3
    assert f1["opened_1h"] == 5
    assert f1["resolved_1h"] == 3
    assert f1["open_by_priority"] == {"1": 1, "2": 0, "3": 2, "4": 0}
    assert f1["open_by_category"] == {"login": 2, "printing": 1}
    assert f1["oldest_open_minutes"] == 50
    assert objects["A"]["tickets"]["oldest_open_minutes_by_priority"] == {"1": 30, "2": None, "3": 10, "4": None}
    assert f1["oldest_open_minutes_by_priority"] == {"1": 30, "2": None, "3": 50, "4": None}  # the longest below
    assert f1["patient_safety_open"] == 1
    assert f1["median_minutes_to_resolve_24h"] == 20.0  # median of 10, 20, 60 — not the mean of 15 and 60
    assert objects["region"]["tickets"] == f1
    assert objects["F2"]["tickets"]["oldest_open_minutes"] is None
    assert objects["F2"]["tickets"]["oldest_open_minutes_by_priority"] == {"1": None, "2": None, "3": None, "4": None}


def test_ed_rollups() -> None:
    events = [
        ev(
            "ed.status",
            "AKM1",
            ago(minutes=10),
            patients_waiting=14,
            patients_in_department=31,
            capacity=28,
            longest_wait_minutes=80,
        ),
        ev("ed.status", "AKM2", ago(minutes=20), patients_waiting=5, patients_in_department=20, capacity=30),
        ev(
            "ed.diversion_started",
            "AKM1",
            ago(minutes=15),
            diversion_id="D1",
            to_unit_ids=["AKM2"],
            scope="ambulance",
            reason="Överbeläggning",
            decided_by="PC",
        ),
    ]
    objects = index(situation(states(events)))
    unit = objects["AKM1"]["ed"]
    assert unit["diversion"]["diversion_id"] == "D1"
    assert unit["diversion"]["since"] == ago(minutes=15).isoformat()
    assert unit["status"]["reported_at"] == ago(minutes=10).isoformat()
    assert unit["status"]["longest_wait_minutes"] == 80
    for key in ("F1", "region"):
        rolled = objects[key]["ed"]
        assert rolled["diversion"] is None
        diversions = [
            (d["unit_id"], d["diversion_id"], d["scope"], d["to_unit_ids"]) for d in rolled["active_diversions"]
        ]
        assert diversions == [("AKM1", "D1", "ambulance", ["AKM2"])]
        status = rolled["status"]
        assert (status["patients_waiting"], status["patients_in_department"], status["capacity"]) == (19, 51, 58)
        assert (status["longest_wait_minutes"], status["reporting_units"]) == (80, 2)
        assert status["reported_at"] == ago(minutes=20).isoformat()
    assert objects["S2"]["ed"]["active_diversions"] == []
    assert objects["F2"]["ed"]["status"] is None

    ended = [*events, ev("ed.diversion_ended", "AKM1", ago(minutes=1), diversion_id="D1", decided_by="PC")]
    objects = index(situation(states(ended)))
    assert objects["AKM1"]["ed"]["diversion"] is None
    assert objects["region"]["ed"]["active_diversions"] == []


def test_floorwalker_presence_join_and_rollups() -> None:
    events = [
        ev(
            "floorwalker.checkin",
            "A",
            ago(minutes=40),
            walker_id="w1",
            status="assisting",
            assists=2,
            categories=["login"],
            needs_escalation=True,
        ),
        ev("floorwalker.checkin", "B", ago(minutes=10), walker_id="w1", status="on_unit", assists=1),
        ev("floorwalker.checkin", "C", ago(minutes=90), walker_id="w2", status="available"),
        ev("floorwalker.checkout", "C", ago(minutes=70), walker_id="w2"),
    ]
    objects = index(situation(states(events)))
    assert objects["A"]["floorwalkers"]["on_unit"] == 0
    assert objects["A"]["floorwalkers"]["minutes_since_last_visit"] == 40
    assert objects["A"]["floorwalkers"]["open_escalations"] == 1
    assert objects["B"]["floorwalkers"]["on_unit"] == 1
    assert objects["B"]["floorwalkers"]["minutes_since_last_visit"] == 0
    assert objects["C"]["floorwalkers"]["minutes_since_last_visit"] == 70

    s1 = objects["S1"]["floorwalkers"]
    s1_figures = (s1["on_unit"], s1["minutes_since_last_visit"], s1["units_never_visited"], s1["open_escalations"])
    assert s1_figures == (0, 40, 1, 1)
    f1 = objects["F1"]["floorwalkers"]
    assert (f1["on_unit"], f1["minutes_since_last_visit"], f1["units_never_visited"]) == (1, 40, 2)
    assert (f1["assists_1h"], f1["assists_by_category_1h"]) == (3, {"login": 1})
    region = objects["region"]["floorwalkers"]
    assert (region["on_unit"], region["minutes_since_last_visit"], region["units_never_visited"]) == (1, 70, 2)
    assert region["open_escalations"] == 1

    gone = situation(states(events), now=NOW + timedelta(minutes=231), presence_minutes=240)
    assert index(gone)["B"]["floorwalkers"]["on_unit"] == 0
    short = situation(states(events), presence_minutes=5)
    assert index(short)["B"]["floorwalkers"]["on_unit"] == 0
    assert index(short)["B"]["floorwalkers"]["minutes_since_last_visit"] == 10


def test_unknown_unit_goes_under_unmapped() -> None:
    events = [login("ZZ-9", "u1", "failure", "other"), login("A", "u2"), opened("ZZ-1", "t", ago(minutes=3))]
    result = situation(states(events))
    assert result["data_quality"]["unmapped_units"] == ["ZZ-1", "ZZ-9"]
    admin = result["administrations"][-1]
    assert (admin["administration_id"], admin["name"]) == ("unmapped", UNMAPPED_NAME)
    assert [(s["site_id"], s["name"]) for s in admin["sites"]] == [("unmapped", UNMAPPED_NAME)]
    units = admin["sites"][0]["units"]
    assert [(u["unit_id"], u["site_id"], u["administration_id"]) for u in units] == [
        ("ZZ-1", "unmapped", "unmapped"),
        ("ZZ-9", "unmapped", "unmapped"),
    ]
    assert admin["access"]["login_failures_15m"] == 1
    assert result["region"]["access"]["logins_15m"] == 2
    assert result["region"]["tickets"]["open"] == 1
    assert result["region"]["units_by_health"]["not_assessed"] == 7  # 2 logins: too few to judge anywhere


def test_windows_follow_the_reader_clock() -> None:
    logins = [login("A", "u", at=ago(minutes=14, seconds=59)), login("A", "v", at=ago(minutes=15, seconds=1))]
    unit_states = states(logins, now=ago(minutes=16))
    assert index(situation(unit_states))["A"]["access"]["logins_15m"] == 1
    # one second later the first login is exactly 15 minutes old: out of (now - 15 min, now]
    assert index(situation(unit_states, now=NOW + timedelta(seconds=1)))["A"]["access"]["logins_15m"] == 0
    # and a reader one second earlier still sees it
    assert index(situation(unit_states, now=NOW - timedelta(seconds=1)))["A"]["access"]["logins_15m"] == 1


def test_health_rolls_up_with_units_by_health() -> None:
    rules = parse_rules(
        {
            "version": 1,
            "health": [
                {
                    "id": "ps",
                    "levels": ["unit"],
                    "metric": "tickets.patient_safety_open",
                    "red": 1,
                    "reason": "PS {value}",
                },
                {"id": "open", "levels": ["unit"], "metric": "tickets.open", "yellow": 1, "reason": "{value} öppna"},
                {
                    "id": "any_red",
                    "levels": ["site", "administration", "region"],
                    "metric": "units.red",
                    "yellow": 1,
                    "reason": "{value} röda enheter",
                },
                {
                    "id": "share",
                    "levels": ["site", "administration", "region"],
                    "metric": "children.red_share",
                    "red": 0.5,
                    "reason": "{value:.0%} röda",
                },
            ],
        }
    )
    events = [opened("A", "t1", ago(minutes=5), patient_safety=True), opened("C", "t2", ago(minutes=5))]
    objects = index(situation(states(events), rules=rules))
    assert objects["A"]["health"]["status"] == "red"
    assert objects["C"]["health"] == {
        "status": "yellow",
        "reasons": ["1 öppna"],
        "reason_codes": [{"rule": "open", "level": "yellow", "value": 1, "threshold": 1, "phase": None}],
        "not_assessed": [],
        "phases": [],
    }
    assert objects["S1"]["health"]["status"] == "red"  # 1 of 2 units red = 0.5
    # A rules file without volumes (the older shape) judges everything: green stays green.
    assert objects["S1"]["units_by_health"] == {"green": 1, "yellow": 0, "red": 1, "not_assessed": 0}
    assert objects["F1"]["health"]["status"] == "red"  # 1 of 2 sites red
    assert objects["F1"]["health"]["reasons"] == ["50% röda", "1 röda enheter"]
    assert objects["F2"]["health"]["status"] == "green"  # a yellow child does not propagate
    assert objects["region"]["health"]["status"] == "red"
    assert objects["region"]["units_by_health"] == {"green": 3, "yellow": 1, "red": 1, "not_assessed": 0}


def test_default_rules_on_the_default_org_one_red_ward() -> None:
    org = load_org(None)
    unit_id = "SE2321000131-ESASBOR210"
    result = situation(states([opened(unit_id, "t1", ago(minutes=5), patient_safety=True)]), org=org)
    objects = index(result)
    assert objects[unit_id]["health"]["status"] == "red"
    assert objects["SE2321000131-SSASBOR"]["health"]["status"] == "yellow"
    assert objects["SE2321000131-FSAS"]["health"]["status"] == "yellow"
    assert objects["region"]["health"]["status"] == "yellow"
    assert objects["region"]["health"]["reasons"] == ["1 enheter med röd status"]
    assert objects["SE2321000131-FNH"]["health"]["status"] == "not_assessed"  # no logins, nothing to judge


def test_summarize_unit_matches_the_picture() -> None:
    events = [
        ev("floorwalker.checkin", "A", ago(minutes=40), walker_id="w1", status="on_unit"),
        ev("floorwalker.checkin", "B", ago(minutes=10), walker_id="w1", status="on_unit"),
        login("A", "x", "failure", "other"),
    ]
    unit_states = states(events)
    whole = index(situation(unit_states))
    for unit_id in ("A", "B", "C"):
        assert summarize_unit(unit_id, unit_states, org=ORG, rules=RULES, now=NOW) == whole[unit_id]
    assert summarize_unit("ZZ", unit_states, org=ORG, rules=RULES, now=NOW)["site_id"] == "unmapped"


def test_now_must_be_aware_and_is_reported_in_utc() -> None:
    with pytest.raises(ValueError):
        build_situation({}, org=ORG, rules=RULES, now=datetime(2024, 11, 12, 10, 0))
    stockholm = NOW.astimezone(timezone(timedelta(hours=1)))
    assert situation({}, now=stockholm)["as_of"] == "2024-11-12T10:00:00+00:00"


def in_waves(go_live_f1: datetime) -> dict[str, Any]:
    """ORG with F1's sites in wave w1, live since ``go_live_f1``, and F2's in w2, only planned (no go-live)."""
    data = ORG.model_dump(exclude_none=True)
    data["waves"] = [
        {"id": "w1", "name": "Våg 1", "status": "live", "planned_go_live": go_live_f1, "actual_go_live": go_live_f1},
        {"id": "w2", "name": "Våg 2", "status": "planned"},
    ]
    for admin, wave in zip(data["administrations"], ("w1", "w2"), strict=True):
        for site in admin["sites"]:
            site["wave"] = wave
    return data


def test_coverage_counts_never_visited_units_from_their_go_live() -> None:
    """Hand-worked: F1's wave went live 2 h 30 min before NOW, F2's has no go-live yet.

    A visited 20 min ago (checkout), B checked in 50 min ago (presence window 240 min: on the unit, so 0);
    AKM1, AKM2 (F1) and C (F2) never visited. S1: 1 of 2 not visited, longest 150 (AKM1 since go-live);
    S2: 1 of 2, 150; F1: 2 of 4, 150; F2: 1 of 1, unknown (no go-live); region: 3 of 5, unknown (C's time
    without a visit has no bound, so the longest is not 150 but "never").
    """
    org = OrgRegistry.model_validate(in_waves(ago(hours=2, minutes=30)))
    events = [
        ev("floorwalker.checkout", "A", ago(minutes=20), walker_id="w1"),
        ev("floorwalker.checkin", "B", ago(minutes=50), walker_id="w2", status="on_unit"),
    ]
    objects = index(situation(states(events), org=org))

    def coverage(node: str) -> tuple[Any, ...]:
        block = objects[node]["floorwalkers"]
        return block["units_never_visited"], block["units_total"], block["longest_minutes_without_visit"]

    assert coverage("S1") == (1, 2, 150)
    assert coverage("S2") == (1, 2, 150)
    assert coverage("F1") == (2, 4, 150)
    assert coverage("F2") == (1, 1, None)
    assert coverage("region") == (3, 5, None)
    assert objects["S1"]["floorwalkers"]["minutes_since_last_visit"] == 20  # the visited units only, as before
    assert [objects[u]["floorwalkers"]["minutes_without_visit"] for u in ("A", "AKM1", "B", "C")] == [20, 150, 0, None]
    assert (
        summarize_unit("AKM1", states(events), org=org, rules=RULES, now=NOW)["floorwalkers"]["minutes_without_visit"]
        == 150
    )


def test_a_default_go_live_fills_the_units_whose_wave_gives_none() -> None:
    """HYPERCARE_GO_LIVE_AT: F2's unit C (its wave not live) counts from it; F1's units keep their wave's."""
    org = OrgRegistry.model_validate(in_waves(ago(hours=2, minutes=30))).with_go_live(ago(hours=1))
    assert org.go_live == {
        "A": ago(hours=2, minutes=30),
        "AKM1": ago(hours=2, minutes=30),
        "B": ago(hours=2, minutes=30),
        "AKM2": ago(hours=2, minutes=30),
        "C": ago(hours=1),
    }
    objects = index(situation({}, org=org))
    assert objects["C"]["floorwalkers"]["minutes_without_visit"] == 60
    assert objects["F2"]["floorwalkers"]["longest_minutes_without_visit"] == 60
    assert objects["region"]["floorwalkers"]["longest_minutes_without_visit"] == 150
    assert ORG.with_go_live(None) is ORG
