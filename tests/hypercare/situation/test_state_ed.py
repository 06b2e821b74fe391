"""Emergency-department state: status reports and diversions (no broker)."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from hypercare.contract.events import Event, parse_event
from hypercare.situation.state import apply_event, new_state
from hypercare.situation.state import ed as ed_state

NOW = datetime(2024, 11, 12, 10, 0, tzinfo=UTC)
_ids = itertools.count()


def ev(kind: str, at: datetime, **fields: Any) -> Event:
    return parse_event(
        {
            "event_id": f"e-{next(_ids)}",
            "type": f"ed.{kind}",
            "occurred_at": at.isoformat(),
            "unit_id": "AKM",
            **fields,
        }
    )


def status(at: datetime, waiting: int, inside: int, capacity: int = 28, **fields: Any) -> Event:
    return ev("status", at, patients_waiting=waiting, patients_in_department=inside, capacity=capacity, **fields)


def started(at: datetime, diversion_id: str, **fields: Any) -> Event:
    defaults = {"to_unit_ids": ["NAL", "SU"], "scope": "ambulance", "reason": "Överbeläggning", "decided_by": "PC"}
    fields = {**defaults, **fields}
    return ev("diversion_started", at, diversion_id=diversion_id, **fields)


def ended(at: datetime, diversion_id: str) -> Event:
    return ev("diversion_ended", at, diversion_id=diversion_id, decided_by="PC")


def fold(events: list[Event], *, now: datetime = NOW, state: dict[str, Any] | None = None) -> dict[str, Any]:
    state = state if state is not None else new_state("ed")
    for event in events:
        apply_event("ed", state, event, now=now)
        state = json.loads(json.dumps(state))
    return state


def block(state: dict[str, Any] | None, now: datetime = NOW) -> dict[str, Any]:
    return ed_state.summarize(state, now.timestamp(), "AKM").block(rollup=False)


def ago(**kwargs: float) -> datetime:
    return NOW - timedelta(**kwargs)


def test_no_reports_no_diversion() -> None:
    assert block(None) == {"diversion": None, "active_diversions": [], "status": None}
    assert block(new_state("ed")) == {"diversion": None, "active_diversions": [], "status": None}


def test_latest_status_report_wins_by_occurred_at() -> None:
    state = fold(
        [
            status(ago(minutes=10), 14, 31, longest_wait_minutes=95),
            status(ago(minutes=20), 2, 10),  # late, older: ignored
        ]
    )
    assert block(state)["status"] == {
        "patients_waiting": 14,
        "patients_in_department": 31,
        "capacity": 28,
        "longest_wait_minutes": 95,
        "reported_at": ago(minutes=10).isoformat(),
        "minutes_since_report": 10,
    }
    state = fold([status(ago(minutes=2), 3, 20)], state=state)
    assert block(state)["status"]["patients_waiting"] == 3
    assert block(state)["status"]["longest_wait_minutes"] is None


def test_diversion_started_then_ended_clears_it() -> None:
    state = fold([started(ago(minutes=30), "D1", expected_end="2024-11-12T14:00:00+01:00")])
    result = block(state)
    assert result["diversion"] == {
        "diversion_id": "D1",
        "scope": "ambulance",
        "to_unit_ids": ["NAL", "SU"],
        "since": ago(minutes=30).isoformat(),
        "reason": "Överbeläggning",
        "decided_by": "PC",
        "expected_end": "2024-11-12T13:00:00+00:00",
        "review_overdue": False,
        "overdue_minutes": 0,
    }
    assert result["active_diversions"] == [{"unit_id": "AKM", **result["diversion"]}]

    state = fold([ended(ago(minutes=5), "D1")], state=state)
    assert block(state)["diversion"] is None
    assert block(state)["active_diversions"] == []


def test_late_duplicate_start_after_end_does_not_resurrect() -> None:
    state = fold([started(ago(minutes=30), "D1"), ended(ago(minutes=5), "D1"), started(ago(minutes=30), "D1")])
    assert block(state)["diversion"] is None


def test_end_arriving_before_its_start_wins() -> None:
    state = fold([ended(ago(minutes=5), "D1"), started(ago(minutes=30), "D1")])
    assert block(state)["diversion"] is None


def test_resent_start_amends_but_keeps_since() -> None:
    state = fold([started(ago(minutes=30), "D1"), started(ago(minutes=10), "D1", scope="all", to_unit_ids=["KSS"])])
    diversion = block(state)["diversion"]
    assert (diversion["scope"], diversion["to_unit_ids"]) == ("all", ["KSS"])
    assert diversion["since"] == ago(minutes=30).isoformat()
    state = fold([started(ago(minutes=20), "D1", scope="walk_in")], state=state)  # older amendment
    assert block(state)["diversion"]["scope"] == "all"


def test_several_active_diversions_latest_is_the_unit_diversion() -> None:
    state = fold([started(ago(minutes=30), "D1"), started(ago(minutes=10), "D2", scope="walk_in")])
    result = block(state)
    assert result["diversion"]["diversion_id"] == "D2"
    assert [d["diversion_id"] for d in result["active_diversions"]] == ["D1", "D2"]


def test_tombstones_are_pruned_after_seven_days() -> None:
    state = fold([started(ago(minutes=30), "D1"), ended(ago(minutes=5), "D1")])
    assert set(state["ended"]) == {"D1"}
    state = fold([status(NOW + timedelta(days=6), 1, 1)], now=NOW + timedelta(days=6), state=state)
    assert set(state["ended"]) == {"D1"}
    state = fold([status(NOW + timedelta(days=7), 1, 1)], now=NOW + timedelta(days=7), state=state)
    assert state["ended"] == {}


def test_a_diversion_past_its_expected_end_is_flagged_for_review_until_renewed() -> None:
    end = NOW + timedelta(minutes=10)
    state = fold([started(ago(minutes=30), "D1", expected_end=end.isoformat())])
    at_end = ed_state.summarize(state, end.timestamp() - 1, "AKM").block(rollup=False)["diversion"]
    assert (at_end["review_overdue"], at_end["overdue_minutes"]) == (False, 0)
    after = ed_state.summarize(state, end.timestamp() + 7 * 60, "AKM").block(rollup=False)["diversion"]
    assert (after["review_overdue"], after["overdue_minutes"]) == (True, 7)
    # A renewal is a new diversion_started with the same id and a later expected end.
    renewed = fold(
        [started(NOW + timedelta(minutes=11), "D1", expected_end=(end + timedelta(hours=2)).isoformat())], state=state
    )
    later = ed_state.summarize(renewed, end.timestamp() + 7 * 60, "AKM").block(rollup=False)["diversion"]
    assert later["review_overdue"] is False
    assert later["since"] == ago(minutes=30).isoformat()
