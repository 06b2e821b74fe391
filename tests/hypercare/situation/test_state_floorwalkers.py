"""Floor-walker state and the cross-unit presence join (no broker)."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from hypercare.contract.events import Event, parse_event
from hypercare.situation.state import apply_event, new_state
from hypercare.situation.state import floorwalkers as fw

NOW = datetime(2024, 11, 12, 10, 0, tzinfo=UTC)
PRESENCE = 240 * 60
_ids = itertools.count()


def checkin(at: datetime, walker: str, unit: str = "A", **fields: Any) -> Event:
    return parse_event(
        {
            "event_id": f"f-{next(_ids)}",
            "type": "floorwalker.checkin",
            "occurred_at": at.isoformat(),
            "unit_id": unit,
            "walker_id": walker,
            "status": fields.pop("status", "on_unit"),
            **fields,
        }
    )


def checkout(at: datetime, walker: str, unit: str = "A") -> Event:
    return parse_event(
        {
            "event_id": f"f-{next(_ids)}",
            "type": "floorwalker.checkout",
            "occurred_at": at.isoformat(),
            "unit_id": unit,
            "walker_id": walker,
        }
    )


def fold(events: list[Event], *, now: datetime = NOW) -> dict[str, dict[str, dict[str, Any]]]:
    """unit_id -> {"floorwalkers": state}, as the gateway holds it."""
    units: dict[str, dict[str, dict[str, Any]]] = {}
    for event in events:
        family = units.setdefault(event.unit_id, {})
        state = family.get("floorwalkers") or new_state("floorwalkers")
        apply_event("floorwalkers", state, event, now=now)
        family["floorwalkers"] = json.loads(json.dumps(state))
    return units


def blocks(units: dict[str, dict[str, dict[str, Any]]], now: datetime = NOW) -> dict[str, dict[str, Any]]:
    ts = now.timestamp()
    present = fw.presence(units, ts, PRESENCE)
    return {
        unit_id: fw.summarize(families.get("floorwalkers"), ts, present.get(unit_id)).block(rollup=False)
        for unit_id, families in units.items()
    }


def ago(**kwargs: float) -> datetime:
    return NOW - timedelta(**kwargs)


def test_never_visited_unit() -> None:
    result = fw.summarize(None, NOW.timestamp(), None).block(rollup=False)
    assert result == {
        "on_unit": 0,
        "on_break": 0,
        "minutes_since_last_visit": None,
        "open_escalations": 0,
        "assists_1h": 0,
        "assists_by_category_1h": {},
        "last_visit_at": None,
        "minutes_without_visit": None,  # never visited, go-live unknown
    }


def test_checkin_then_checkout() -> None:
    units = fold([checkin(ago(minutes=30), "w1")])
    assert blocks(units)["A"]["on_unit"] == 1
    assert blocks(units)["A"]["minutes_since_last_visit"] == 0

    units = fold([checkin(ago(minutes=30), "w1"), checkout(ago(minutes=12, seconds=59), "w1")])
    result = blocks(units)["A"]
    assert result["on_unit"] == 0
    assert result["minutes_since_last_visit"] == 12
    assert result["last_visit_at"] == ago(minutes=12, seconds=59).isoformat()


def test_walker_moving_from_a_to_b_counts_only_at_b() -> None:
    units = fold([checkin(ago(minutes=40), "w1", "A"), checkin(ago(minutes=10), "w1", "B")])
    result = blocks(units)
    assert result["A"]["on_unit"] == 0
    assert result["A"]["minutes_since_last_visit"] == 40
    assert result["B"]["on_unit"] == 1
    assert result["B"]["minutes_since_last_visit"] == 0


def test_late_older_checkin_elsewhere_does_not_move_the_walker() -> None:
    units = fold([checkin(ago(minutes=10), "w1", "B"), checkin(ago(minutes=40), "w1", "A")])
    result = blocks(units)
    assert (result["A"]["on_unit"], result["B"]["on_unit"]) == (0, 1)


def test_checkout_and_checkin_in_the_same_second_means_moved() -> None:
    at = ago(minutes=5)
    units = fold([checkin(ago(minutes=30), "w1", "A"), checkin(at, "w1", "B"), checkout(at, "w1", "A")])
    result = blocks(units)
    assert (result["A"]["on_unit"], result["B"]["on_unit"]) == (0, 1)


def test_presence_expires_after_presence_minutes() -> None:
    units = fold([checkin(ago(minutes=240), "w1"), checkin(ago(minutes=240, seconds=1), "w2")], now=ago(minutes=241))
    result = blocks(units)["A"]
    assert result["on_unit"] == 1  # exactly 240 min is still present, one second more is not
    assert result["minutes_since_last_visit"] == 0
    later = blocks(units, NOW + timedelta(minutes=1))["A"]
    assert later["on_unit"] == 0
    assert later["minutes_since_last_visit"] == 241


def test_late_checkout_older_than_checkin_does_not_check_out() -> None:
    units = fold([checkin(ago(minutes=5), "w1"), checkout(ago(minutes=20), "w1")])
    assert blocks(units)["A"]["on_unit"] == 1
    assert units["A"]["floorwalkers"]["last_visit"] == ago(minutes=5).timestamp()


def test_escalations_open_until_a_checkin_without_the_flag() -> None:
    units = fold(
        [
            checkin(ago(minutes=30), "w1", needs_escalation=True),
            checkin(ago(minutes=25), "w2", needs_escalation=True),
        ]
    )
    assert blocks(units)["A"]["open_escalations"] == 2

    units = fold(
        [
            checkin(ago(minutes=30), "w1", needs_escalation=True),
            checkout(ago(minutes=20), "w1"),
        ]
    )
    assert blocks(units)["A"]["open_escalations"] == 1  # leaving does not resolve it

    units = fold(
        [
            checkin(ago(minutes=30), "w1", needs_escalation=True),
            checkin(ago(minutes=10), "w1"),
            checkin(ago(minutes=20), "w1", needs_escalation=True),  # late and older: ignored
        ]
    )
    assert blocks(units)["A"]["open_escalations"] == 0

    units = fold([checkin(ago(minutes=30), "w1", "A", needs_escalation=True), checkin(ago(minutes=5), "w1", "B")])
    assert blocks(units)["A"]["open_escalations"] == 1  # only a check-in at A clears A's escalation


def test_assists_in_the_last_hour_by_category() -> None:
    units = fold(
        [
            checkin(ago(minutes=50), "w1", assists=3, categories=["login", "printing"]),
            checkin(ago(minutes=20), "w2", assists=2, categories=["login", "login"]),
            checkin(ago(minutes=60), "w3", assists=7, categories=["orders"]),
        ],
        now=ago(minutes=30),
    )
    result = blocks(units)["A"]
    assert result["assists_1h"] == 5
    assert result["assists_by_category_1h"] == {"login": 2, "printing": 1}


def test_walkers_older_than_a_day_are_dropped() -> None:
    units = fold([checkin(ago(hours=25), "old", needs_escalation=True)], now=ago(hours=25))
    assert blocks(units)["A"]["open_escalations"] == 0  # read side ignores them already
    state = units["A"]["floorwalkers"]
    apply_event("floorwalkers", state, checkin(ago(minutes=1), "new"), now=NOW)
    assert set(state["walkers"]) == {"new"}
    assert state["assists"] == {}


def test_a_never_visited_unit_counts_from_its_go_live() -> None:
    go_live = ago(hours=5, minutes=30, seconds=20).timestamp()
    never = fw.summarize(None, NOW.timestamp(), None, go_live)
    assert (never.units, never.units_never_visited, never.minutes_without_visit) == (1, 1, 330)
    # Before the go-live nothing is overdue yet.
    assert fw.summarize(None, NOW.timestamp(), None, NOW.timestamp() + 60).minutes_without_visit == 0


def test_coverage_rolls_up_with_never_visited_units_included() -> None:
    """Hand-worked: A visited 40 min ago, B never (go-live 3 h ago), C never, D visited 200 min ago.

    Not visited: B and C = 2 of 4; the longest without a visit is B's/C's 180 min since go-live, not A's or D's.
    """
    go_live = ago(hours=3).timestamp()
    units = fold([checkout(ago(minutes=40), "w1", unit="A"), checkout(ago(minutes=200), "w2", unit="D")])
    ts = NOW.timestamp()
    rollup = fw.FloorwalkersSummary()
    for unit_id in ("A", "B", "C", "D"):
        rollup.merge(fw.summarize(units.get(unit_id, {}).get("floorwalkers"), ts, set(), go_live))
    block = rollup.block(rollup=True)
    assert (block["units_never_visited"], block["units_total"]) == (2, 4)
    assert block["longest_minutes_without_visit"] == 200  # D's 200 min is longer than the 180 since go-live
    assert block["minutes_since_last_visit"] == 200  # the visited units only, as before
    later_go_live = fw.FloorwalkersSummary()
    for unit_id in ("A", "B"):
        later_go_live.merge(fw.summarize(units.get(unit_id, {}).get("floorwalkers"), ts, set(), go_live))
    # A (40 min) and B (never; 180 min since go-live): the never-visited unit is the longest.
    assert later_go_live.block(rollup=True)["longest_minutes_without_visit"] == 180
    assert later_go_live.block(rollup=True)["minutes_since_last_visit"] == 40


def test_a_never_visited_unit_without_a_go_live_makes_the_longest_unknown() -> None:
    """A visited 40 min ago, B never visited and no go-live: the longest is not A's 40 min but unknown."""
    units = fold([checkout(ago(minutes=40), "w1", unit="A")])
    ts = NOW.timestamp()
    rollup = fw.FloorwalkersSummary()
    for unit_id in ("A", "B"):
        rollup.merge(fw.summarize(units.get(unit_id, {}).get("floorwalkers"), ts, set()))
    block = rollup.block(rollup=True)
    assert (block["units_never_visited"], block["units_total"], block["longest_minutes_without_visit"]) == (1, 2, None)
    assert block["minutes_since_last_visit"] == 40
