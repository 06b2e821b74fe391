"""The cut-over scenario: repeatable, contract-valid, and shaped like a go-live day (DOMAIN.md)."""

from __future__ import annotations

import re
import statistics
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hypercare.contract.events import parse_event
from hypercare.entrypoints.simulator.scenario import BORAS_ED, GO_LIVE_START, STOCKHOLM, CutoverScenario
from hypercare.org.registry import OrgRegistry, load_org
from hypercare.privacy.redact import REDACTED, identifier_holds_identity_number

SEED = 42
DAY = timedelta(hours=24)


def identity(at: datetime) -> datetime:
    return at


def when(event: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(event["occurred_at"])


def local(hour: int, minute: int, *, day: int = 0) -> datetime:
    base = GO_LIVE_START.astimezone(STOCKHOLM).date() + timedelta(days=day)
    return datetime(base.year, base.month, base.day, hour, minute, tzinfo=STOCKHOLM)


@pytest.fixture(scope="module")
def org() -> OrgRegistry:
    return load_org()


@pytest.fixture(scope="module")
def day(org: OrgRegistry) -> list[dict[str, Any]]:
    """The first 24 scenario hours from 06:30 on go-live day, stamped with scenario time."""
    return CutoverScenario(org, seed=SEED).events_between(GO_LIVE_START, GO_LIVE_START + DAY, stamp=identity)


def of_type(events: list[dict[str, Any]], event_type: str) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == event_type]


def test_same_seed_same_events_and_other_seed_other_events(org: OrgRegistry) -> None:
    until = GO_LIVE_START + timedelta(hours=3)
    first = CutoverScenario(org, seed=7).events_between(GO_LIVE_START, until, stamp=identity)
    second = CutoverScenario(org, seed=7).events_between(GO_LIVE_START, until, stamp=identity)
    other = CutoverScenario(org, seed=8).events_between(GO_LIVE_START, until, stamp=identity)
    assert first == second
    assert first != other


def test_slicing_does_not_change_the_events(org: OrgRegistry) -> None:
    until = GO_LIVE_START + timedelta(hours=2)
    whole = CutoverScenario(org, seed=3).events_between(GO_LIVE_START, until, stamp=identity)
    scenario = CutoverScenario(org, seed=3)
    sliced: list[dict[str, Any]] = []
    cursor = GO_LIVE_START
    step = timedelta(seconds=37)
    while cursor < until:
        upper = min(cursor + step, until)
        sliced.extend(scenario.events_between(cursor, upper, stamp=identity))
        cursor = upper
    assert sliced == whole
    # Asking for an earlier slice again regenerates it identically.
    assert scenario.events_between(GO_LIVE_START, until, stamp=identity) == whole


def test_events_come_in_time_order_within_the_slice(day: list[dict[str, Any]]) -> None:
    times = [when(e) for e in day]
    assert times == sorted(times)
    assert times[0] >= GO_LIVE_START and times[-1] < GO_LIVE_START + DAY


def test_every_event_passes_the_contract(day: list[dict[str, Any]]) -> None:
    for event in day:
        parse_event(event)
    assert {e["type"] for e in day} == {
        "ticket.opened",
        "ticket.updated",
        "ticket.resolved",
        "access.login",
        "access.permission_denied",
        "floorwalker.checkin",
        "floorwalker.checkout",
        "ed.status",
        "ed.diversion_started",
        "ed.diversion_ended",
    }


def test_events_stamped_with_real_time_pass_the_contract(org: OrgRegistry) -> None:
    """The runner's stamp puts the slice just before now; nothing may land in the future."""
    speed = 60.0
    scenario = CutoverScenario(org, seed=SEED)
    upper = GO_LIVE_START + timedelta(minutes=30)
    real_end = datetime.now(UTC)
    real_start = real_end - (upper - GO_LIVE_START) / speed

    def stamp(at: datetime) -> datetime:
        return real_start + (at - GO_LIVE_START) / speed

    events = scenario.events_between(GO_LIVE_START, upper, stamp=stamp)
    assert events
    for event in events:
        parsed = parse_event(event)
        assert parsed.occurred_at <= real_end + timedelta(seconds=1)


def test_event_ids_are_unique_and_derived_from_seed_and_sequence(day: list[dict[str, Any]]) -> None:
    ids = [e["event_id"] for e in day]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(rf"sim-{SEED}-n\d+", event_id) for event_id in ids)
    # The seed is a date: an id such as "sim-20241112-1000" would read as an identity number and be refused.
    assert len(ids) > 1000
    assert not [event_id for event_id in ids if identifier_holds_identity_number(event_id)]


def test_only_units_of_the_registry_are_used(org: OrgRegistry, day: list[dict[str, Any]]) -> None:
    for event in day:
        assert org.knows(event["unit_id"]), event
        for unit_id in event.get("to_unit_ids", []):
            assert org.knows(unit_id)


def test_most_traffic_is_at_first_wave_units_and_a_little_elsewhere(
    org: OrgRegistry, day: list[dict[str, Any]]
) -> None:
    first_wave = set(org.wave_units["sodra"])
    traffic = [e for e in day if not e["type"].startswith("ed.")]
    at_first_wave = sum(e["unit_id"] in first_wave for e in traffic)
    assert at_first_wave / len(traffic) > 0.9
    assert at_first_wave < len(traffic)  # a trickle at the other administrations


def test_user_refs_and_walker_ids_are_pseudonymous(day: list[dict[str, Any]]) -> None:
    refs = {e["user_ref"] for e in day if "user_ref" in e}
    walkers = {e["walker_id"] for e in day if "walker_id" in e}
    assert refs and all(re.fullmatch(r"u-\d{4,6}", ref) for ref in refs)
    assert all(re.fullmatch(r"fw-\d{2}", walker) for walker in walkers)
    assert 15 <= len(walkers) <= 25


def test_login_storm_at_the_morning_shift_change(day: list[dict[str, Any]]) -> None:
    logins = of_type(day, "access.login")

    def per_minute(lower: datetime, upper: datetime) -> float:
        count = sum(lower <= when(e) < upper for e in logins)
        return count / ((upper - lower).total_seconds() / 60)

    storm = per_minute(local(6, 45), local(7, 15))
    mid_morning = per_minute(local(10, 0), local(10, 30))
    assert storm > 3 * mid_morning
    # Smaller storms at the evening and night shift changes.
    assert per_minute(local(12, 45), local(13, 30)) > 1.5 * mid_morning
    assert per_minute(local(21, 0), local(21, 30)) > per_minute(local(23, 0), local(23, 30))


def test_login_failures_are_high_early_and_fall(day: list[dict[str, Any]]) -> None:
    logins = of_type(day, "access.login")

    def failure_rate(lower: datetime, upper: datetime) -> float:
        window = [e for e in logins if lower <= when(e) < upper]
        return sum(e["outcome"] == "failure" for e in window) / len(window)

    assert failure_rate(local(6, 30), local(8, 0)) > 0.25
    assert failure_rate(local(6, 30), local(8, 0)) > 1.5 * failure_rate(local(15, 0), local(20, 0))
    reasons = Counter(e.get("reason") for e in logins if e["outcome"] == "failure")
    assert {"card_error", "wrong_password", "account_locked", "expired", "no_account"} <= set(reasons)


def test_accounts_lock_only_after_repeated_failures(day: list[dict[str, Any]]) -> None:
    history: dict[str, list[dict[str, Any]]] = defaultdict(list)
    locked = 0
    for event in of_type(day, "access.login"):
        if event.get("reason") == "account_locked":
            earlier = [e for e in history[event["user_ref"]] if e["outcome"] == "failure"]
            assert len(earlier) >= 3, event
            locked += 1
        history[event["user_ref"]].append(event)
    assert locked > 0


def test_permission_denials_by_role_and_module(day: list[dict[str, Any]]) -> None:
    denials = of_type(day, "access.permission_denied")
    roles = Counter(e["role"] for e in denials)
    assert {"lakare", "sjukskoterska", "underskoterska", "medicinsk_sekreterare", "barnmorska"} <= set(roles)
    assert all(e["module"] for e in denials)


def test_ticket_categories_shift_from_login_to_clinical_work(day: list[dict[str, Any]]) -> None:
    opened = of_type(day, "ticket.opened")
    early = [e for e in opened if when(e) < GO_LIVE_START + timedelta(hours=3)]
    late = [e for e in opened if when(e) >= GO_LIVE_START + timedelta(hours=8)]

    def access_share(tickets: list[dict[str, Any]]) -> float:
        return sum(e["category"] in ("login", "permissions") for e in tickets) / len(tickets)

    assert access_share(early) > 0.5
    assert access_share(late) < 0.35
    priorities = Counter(e["priority"] for e in opened)
    assert 0 < priorities[1] < 0.1 * len(opened)
    assert 0 < sum(e["patient_safety"] for e in opened) < 0.2 * len(opened)


def test_ticket_updates_and_resolutions_follow_their_ticket(day: list[dict[str, Any]]) -> None:
    opened = {e["ticket_id"]: e for e in of_type(day, "ticket.opened")}
    followers = [e for e in day if e["type"] in ("ticket.updated", "ticket.resolved")]
    assert followers
    for event in followers:
        ticket = opened[event["ticket_id"]]
        assert ticket["unit_id"] == event["unit_id"]
        assert when(ticket) < when(event)
    minutes = [(when(e) - when(opened[e["ticket_id"]])).total_seconds() / 60 for e in of_type(day, "ticket.resolved")]
    assert 30 <= statistics.median(minutes) <= 90
    assert len({e["ticket_id"] for e in of_type(day, "ticket.resolved")}) == len(minutes)


def test_some_summaries_carry_an_identity_number_that_the_contract_redacts(day: list[dict[str, Any]]) -> None:
    with_number = [e for e in of_type(day, "ticket.opened") if "1212" in e["summary"]]
    assert with_number
    for event in with_number:
        parsed = parse_event(event)
        assert REDACTED in parsed.summary and "1212" not in parsed.summary  # type: ignore[union-attr]


def test_floor_walkers_check_in_escalate_rest_and_go_home(org: OrgRegistry, day: list[dict[str, Any]]) -> None:
    first_wave = set(org.wave_units["sodra"])
    walker_events = [e for e in day if e["type"].startswith("floorwalker.")]
    assert all(e["unit_id"] in first_wave for e in walker_events)
    checkins = of_type(walker_events, "floorwalker.checkin")
    statuses = Counter(e["status"] for e in checkins)
    assert {"on_unit", "assisting", "available", "break"} <= set(statuses)
    assert sum(e["assists"] for e in checkins) > 0
    escalations = [e for e in checkins if e["needs_escalation"]]
    assert escalations and all(e.get("note") for e in escalations)
    assert of_type(walker_events, "floorwalker.checkout")
    assert len({e["unit_id"] for e in checkins}) > 10  # they move around
    # A walker is on one unit at a time: a check-in elsewhere comes after checking out.
    where: dict[str, str | None] = {}
    for event in walker_events:
        current = where.get(event["walker_id"])
        if event["type"] == "floorwalker.checkout":
            assert current == event["unit_id"]
            where[event["walker_id"]] = None
        else:
            assert current in (None, event["unit_id"])
            where[event["walker_id"]] = event["unit_id"]


def test_every_ed_reports_about_every_quarter_and_boras_is_overloaded(
    org: OrgRegistry, day: list[dict[str, Any]]
) -> None:
    reports = of_type(day, "ed.status")
    per_ed = Counter(e["unit_id"] for e in reports)
    assert set(per_ed) == {ed.unit_id for ed in org.emergency_departments}
    assert all(90 <= count <= 102 for count in per_ed.values()), per_ed
    boras = [e for e in reports if e["unit_id"] == BORAS_ED]
    over = sum(e["patients_in_department"] > e["capacity"] for e in boras)
    assert over > 0.5 * len(boras)
    assert statistics.mean(e["patients_waiting"] for e in boras) > statistics.mean(
        e["patients_waiting"] for e in reports if e["unit_id"] != BORAS_ED
    )


def test_boras_diverts_ambulances_early_and_ends_the_diversion_hours_later(
    org: OrgRegistry, day: list[dict[str, Any]]
) -> None:
    (started,) = of_type(day, "ed.diversion_started")
    (ended,) = of_type(day, "ed.diversion_ended")
    assert started["unit_id"] == ended["unit_id"] == BORAS_ED
    assert started["diversion_id"] == ended["diversion_id"]
    assert started["scope"] == "ambulance"
    assert started["decided_by"] == "produktionschef-sas"
    assert when(started) < GO_LIVE_START + timedelta(minutes=30)
    assert timedelta(hours=4) <= when(ended) - when(started) <= timedelta(hours=10)
    assert datetime.fromisoformat(started["expected_end"]) > when(started)
    emergency_departments = {ed.unit_id for ed in org.emergency_departments}
    assert started["to_unit_ids"] and set(started["to_unit_ids"]) <= emergency_departments - {BORAS_ED}


def test_a_registry_without_boras_still_gets_a_diversion_at_a_first_wave_ed(org: OrgRegistry) -> None:
    data = org.model_dump()
    for admin in data["administrations"]:
        for site in admin["sites"]:
            site["units"] = [u for u in site["units"] if u["id"] != BORAS_ED]
    smaller = OrgRegistry.model_validate(data)
    scenario = CutoverScenario(smaller, seed=1)
    events = scenario.events_between(GO_LIVE_START, GO_LIVE_START + timedelta(minutes=30), stamp=identity)
    (started,) = of_type(events, "ed.diversion_started")
    assert smaller.knows(started["unit_id"]) and started["unit_id"] == scenario.diversion_unit_id
    assert all(smaller.knows(e["unit_id"]) for e in events)


def test_naive_times_are_refused(org: OrgRegistry) -> None:
    with pytest.raises(ValueError):
        CutoverScenario(org, seed=1, start=datetime(2024, 11, 12, 6, 30))
