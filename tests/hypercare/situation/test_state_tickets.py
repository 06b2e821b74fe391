"""Ticket state: open set, updates, resolutions, windows, tombstones (no broker)."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from hypercare.contract.events import Event, TicketOpened, TicketResolved, TicketUpdated, parse_event
from hypercare.situation.state import apply_event, new_state
from hypercare.situation.state import tickets as tickets_state

NOW = datetime(2024, 11, 12, 10, 0, tzinfo=UTC)
_ids = itertools.count()


def ev(kind: str, at: datetime, ticket_id: str, **fields: Any) -> Event:
    data: dict[str, Any] = {
        "event_id": f"t-{next(_ids)}",
        "type": f"ticket.{kind}",
        "occurred_at": at.isoformat(),
        "unit_id": "U1",
        "ticket_id": ticket_id,
        **fields,
    }
    if kind == "opened":
        data = {"channel": "phone", "category": "login", "priority": 3, **data}
    return parse_event(data)


def fold(events: list[Event], *, now: datetime = NOW, state: dict[str, Any] | None = None) -> dict[str, Any]:
    """Apply events one by one, re-serialising like the worker does after every batch.

    A fresh fold is also kept in parts by ticket id, as the worker keeps it: the parts' merged view must
    give the whole state's figures.
    """
    parts: dict[int, dict[str, Any]] | None = {} if state is None else None
    state = state if state is not None else new_state("tickets")
    for event in events:
        apply_event("tickets", state, event, now=now)
        state = json.loads(json.dumps(state))
        if parts is not None:
            assert isinstance(event, TicketOpened | TicketUpdated | TicketResolved)
            part = parts.setdefault(tickets_state.part_of(event.ticket_id), new_state("tickets"))
            apply_event("tickets", part, event, now=now)
    if parts is not None:
        merged = json.loads(json.dumps(tickets_state.merged_view(list(parts.values()))))
        for at in (now, now + timedelta(minutes=61), now + timedelta(hours=25)):
            expected = tickets_state.summarize(state, at.timestamp()).block()
            assert tickets_state.summarize(merged, at.timestamp()).block() == expected
    return state


def block(state: dict[str, Any], now: datetime = NOW) -> dict[str, Any]:
    """The unit's figures; the published view (as the gateway decodes it) must give the same."""
    whole = tickets_state.summarize(state, now.timestamp()).block()
    published = json.loads(json.dumps(tickets_state.view(state)))
    assert tickets_state.summarize(published, now.timestamp()).block() == whole
    return whole


def ago(**kwargs: float) -> datetime:
    return NOW - timedelta(**kwargs)


def test_empty_state_gives_zeros() -> None:
    assert block(new_state("tickets")) == {
        "open": 0,
        "opened_1h": 0,
        "resolved_1h": 0,
        "open_by_priority": {"1": 0, "2": 0, "3": 0, "4": 0},
        "open_by_category": {},
        "oldest_open_minutes": None,
        "oldest_open_minutes_by_priority": {"1": None, "2": None, "3": None, "4": None},
        "patient_safety_open": 0,
        "median_minutes_to_resolve_24h": None,
        "resolutions_24h": 0,
    }


def test_open_tickets_by_priority_category_and_patient_safety() -> None:
    state = fold(
        [
            ev("opened", ago(minutes=12, seconds=30), "T1", priority=1, category="login", patient_safety=True),
            ev("opened", ago(minutes=5), "T2", priority=2, category="printing"),
            ev("opened", ago(minutes=2), "T3", priority=2, category="login"),
        ]
    )
    result = block(state)
    assert result["open"] == 3
    assert result["opened_1h"] == 3
    assert result["open_by_priority"] == {"1": 1, "2": 2, "3": 0, "4": 0}
    assert result["open_by_category"] == {"login": 2, "printing": 1}
    assert result["patient_safety_open"] == 1
    assert result["oldest_open_minutes"] == 12  # 12 min 30 s, floored
    assert result["oldest_open_minutes_by_priority"] == {"1": 12, "2": 5, "3": None, "4": None}
    assert state["open"]["T1"]["status"] == "open"


def test_oldest_open_by_priority_follows_updates_resolutions_and_the_reader_clock() -> None:
    state = fold(
        [
            ev("opened", ago(minutes=50), "T1", priority=3),
            ev("opened", ago(minutes=20), "T2", priority=1),
            ev("opened", ago(minutes=10), "T3", priority=1),
        ]
    )
    assert block(state)["oldest_open_minutes_by_priority"] == {"1": 20, "2": None, "3": 50, "4": None}
    # Raised to priority 1: its age counts from its opening, not from the update.
    state = fold([ev("updated", ago(minutes=1), "T1", status="escalated", priority=1)], state=state)
    assert block(state)["oldest_open_minutes_by_priority"] == {"1": 50, "2": None, "3": None, "4": None}
    state = fold([ev("resolved", NOW, "T1")], state=state)
    assert block(state)["oldest_open_minutes_by_priority"]["1"] == 20
    # 20 min exactly at NOW, 29 min 59 s a little later (floored), 30 min at NOW + 10 min.
    assert block(state, NOW + timedelta(minutes=9, seconds=59))["oldest_open_minutes_by_priority"]["1"] == 29
    assert block(state, NOW + timedelta(minutes=10))["oldest_open_minutes_by_priority"]["1"] == 30


def test_update_changes_status_priority_and_category() -> None:
    state = fold(
        [
            ev("opened", ago(minutes=10), "T1", priority=3, category="login"),
            ev("updated", ago(minutes=5), "T1", status="escalated", priority=1, category="orders"),
        ]
    )
    ticket = state["open"]["T1"]
    assert (ticket["status"], ticket["priority"], ticket["category"]) == ("escalated", 1, "orders")
    assert block(state)["open_by_priority"] == {"1": 1, "2": 0, "3": 0, "4": 0}
    assert block(state)["open_by_category"] == {"orders": 1}


def test_update_without_priority_keeps_it_and_an_older_update_never_wins() -> None:
    state = fold(
        [
            ev("opened", ago(minutes=10), "T1", priority=2),
            ev("updated", ago(minutes=3), "T1", status="waiting"),
            ev("updated", ago(minutes=6), "T1", status="in_progress", priority=4),  # late, older
        ]
    )
    assert state["open"]["T1"]["status"] == "waiting"
    # Each field is the latest known value by event time: the older update is the latest one that set a
    # priority, so it holds (it used to be dropped when it arrived late, giving 2 in this order and 4 in
    # time order).
    assert state["open"]["T1"]["priority"] == 4


def test_update_for_unknown_ticket_is_ignored() -> None:
    state = fold([ev("updated", ago(minutes=1), "nope", status="waiting")])
    assert state["open"] == {}
    assert block(state)["open"] == 0


def test_resolve_closes_and_measures_time_to_resolve() -> None:
    state = fold(
        [
            ev("opened", ago(minutes=90), "T1"),
            ev("opened", ago(minutes=70), "T2"),
            ev("opened", ago(minutes=40), "T3"),
            ev("resolved", ago(minutes=60), "T1"),  # 30 min
            ev("resolved", ago(minutes=60), "T2"),  # 10 min
            ev("resolved", ago(minutes=20), "T3"),  # 20 min
        ]
    )
    result = block(state)
    assert result["open"] == 0
    assert result["oldest_open_minutes"] is None
    assert result["opened_1h"] == 1  # T3 only; T1/T2 opened more than an hour ago
    assert result["resolved_1h"] == 1  # T3; T1 and T2 exactly 60 min ago are outside (now-1h, now]
    assert result["median_minutes_to_resolve_24h"] == 20.0
    assert result["resolutions_24h"] == 3


def test_median_of_even_count_and_24h_window() -> None:
    state = fold(
        [
            ev("opened", ago(hours=30), "OLD"),
            ev("resolved", ago(hours=24, seconds=1), "OLD"),  # outside 24 h
            ev("opened", ago(minutes=50), "A"),
            ev("resolved", ago(minutes=40), "A"),  # 10
            ev("opened", ago(minutes=50), "B"),
            ev("resolved", ago(minutes=5), "B"),  # 45
        ],
        now=ago(hours=24, seconds=2),
    )  # applied early so nothing is pruned before reading
    assert block(state)["median_minutes_to_resolve_24h"] == 27.5


def test_resolved_for_unknown_ticket_counts_and_late_opening_does_not_reopen() -> None:
    state = fold([ev("resolved", ago(minutes=5), "T9")])
    assert block(state)["resolved_1h"] == 1
    assert block(state)["median_minutes_to_resolve_24h"] is None

    state = fold([ev("opened", ago(minutes=25), "T9", priority=1)], state=state)  # arrives late
    result = block(state)
    assert result["open"] == 0
    assert result["opened_1h"] == 1
    assert result["median_minutes_to_resolve_24h"] == 20.0


def test_resent_opening_after_resolution_is_not_a_new_ticket() -> None:
    state = fold(
        [
            ev("opened", ago(minutes=30), "T1"),
            ev("resolved", ago(minutes=10), "T1"),
            ev("opened", ago(minutes=30), "T1"),  # same ticket, new event id
            ev("resolved", ago(minutes=9), "T1"),  # and a second resolution
        ]
    )
    result = block(state)
    assert (result["open"], result["opened_1h"], result["resolved_1h"], result["resolutions_24h"]) == (0, 1, 1, 1)


def test_second_opening_of_an_open_ticket_counts_once() -> None:
    state = fold([ev("opened", ago(minutes=3), "T1"), ev("opened", ago(minutes=2), "T1")])
    assert (block(state)["open"], block(state)["opened_1h"]) == (1, 1)


def test_window_edges_one_second_resolution() -> None:
    state = fold(
        [
            ev("opened", ago(minutes=60, seconds=1), "OUT"),
            ev("opened", ago(minutes=60), "EDGE"),
            ev("opened", ago(minutes=59, seconds=59), "IN"),
        ],
        now=ago(minutes=61),
    )
    assert block(state)["opened_1h"] == 1
    assert block(state)["open"] == 3


def test_windows_move_with_the_reader_clock() -> None:
    state = fold([ev("opened", ago(minutes=30), "T1")])
    assert block(state, NOW)["opened_1h"] == 1
    assert block(state, NOW + timedelta(minutes=30))["opened_1h"] == 0
    assert block(state, NOW + timedelta(minutes=30))["oldest_open_minutes"] == 60


def test_state_is_pruned_and_bounded() -> None:
    state = fold(
        [
            ev("opened", ago(minutes=30), "T1"),
            ev("resolved", ago(minutes=20), "T1"),
            ev("resolved", ago(minutes=10), "GHOST"),
        ]
    )
    assert set(state["closed"]) == {"T1", "GHOST"}
    later = NOW + timedelta(hours=25)
    state = fold([ev("opened", later - timedelta(minutes=1), "T2")], now=later, state=state)
    assert state["closed"] == {}
    assert state["resolutions"] == []
    assert list(state["opened"]) == [str(int((later - timedelta(minutes=1)).timestamp()))]
    assert state["resolved"] == {}


def test_event_too_old_for_any_window_is_not_bucketed() -> None:
    state = fold([ev("opened", ago(hours=2), "T1")])
    assert state["opened"] == {}
    assert block(state)["open"] == 1
    assert block(state)["oldest_open_minutes"] == 120


def test_same_input_same_state() -> None:
    events = [ev("opened", ago(minutes=9), "T1"), ev("resolved", ago(minutes=2), "T1")]
    assert fold(events) == fold(events)


def test_the_published_view_counts_open_tickets_without_listing_them() -> None:
    state = fold(
        [
            ev("opened", ago(minutes=30), "T1", priority=1),
            ev("opened", ago(minutes=5), "T2"),
            ev("resolved", ago(minutes=1), "T2"),
        ]
    )
    published = tickets_state.view(state)
    assert "T1" not in json.dumps(published) and "closed" not in published
    assert published["open_summary"]["by_priority"] == {"1": 1}
    assert block(state)["oldest_open_minutes"] == 30
