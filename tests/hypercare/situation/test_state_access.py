"""Access state: logins, failures, distinct users, locked accounts, permission denials (no broker)."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from hypercare.contract.events import Event, parse_event
from hypercare.situation.state import access as access_state
from hypercare.situation.state import apply_event, new_state

NOW = datetime(2024, 11, 12, 10, 0, tzinfo=UTC)
_ids = itertools.count()


def login(at: datetime, user: str, outcome: str = "success", reason: str | None = None) -> Event:
    data: dict[str, Any] = {
        "event_id": f"a-{next(_ids)}",
        "type": "access.login",
        "occurred_at": at.isoformat(),
        "unit_id": "U1",
        "user_ref": user,
        "outcome": outcome,
    }
    if reason is not None:
        data["reason"] = reason
    return parse_event(data)


def denied(at: datetime, user: str, role: str) -> Event:
    return parse_event(
        {
            "event_id": f"a-{next(_ids)}",
            "type": "access.permission_denied",
            "occurred_at": at.isoformat(),
            "unit_id": "U1",
            "user_ref": user,
            "role": role,
            "module": "PowerChart",
        }
    )


def fold(events: list[Event], *, now: datetime = NOW, state: dict[str, Any] | None = None) -> dict[str, Any]:
    state = state if state is not None else new_state("access")
    for event in events:
        apply_event("access", state, event, now=now)
        state = json.loads(json.dumps(state))
    return state


def block(state: dict[str, Any], now: datetime = NOW) -> dict[str, Any]:
    return access_state.summarize(state, now.timestamp()).block()


def ago(**kwargs: float) -> datetime:
    return NOW - timedelta(**kwargs)


def test_forty_logins_ten_failures() -> None:
    events = [login(ago(minutes=10, seconds=i), f"ok{i}") for i in range(30)]
    events += [login(ago(minutes=5, seconds=i), f"user{i % 7}", "failure", "wrong_password") for i in range(10)]
    result = block(fold(events))
    assert result == {
        "logins_15m": 40,
        "login_failures_15m": 10,
        "login_failure_rate_15m": 0.25,
        "distinct_users_failing_15m": 7,
        "locked_accounts_1h": 0,
        "permission_denied_1h": 0,
        "permission_denied_1h_by_role": {},
    }


def test_rate_is_zero_without_logins_and_rounded_to_four_decimals() -> None:
    assert block(new_state("access"))["login_failure_rate_15m"] == 0.0
    at = ago(minutes=1)
    state = fold([login(at, "a", "failure", "card_error"), login(at, "b"), login(at, "c")])
    assert block(state)["login_failure_rate_15m"] == 0.3333


def test_fifteen_minute_window_edges() -> None:
    state = fold(
        [
            login(ago(minutes=15, seconds=1), "out", "failure", "expired"),
            login(ago(minutes=15), "edge", "failure", "expired"),
            login(ago(minutes=14, seconds=59), "in", "failure", "expired"),
        ],
        now=ago(minutes=16),
    )
    result = block(state)
    assert (result["logins_15m"], result["login_failures_15m"], result["distinct_users_failing_15m"]) == (1, 1, 1)


def test_late_event_counts_in_its_own_window() -> None:
    state = fold([login(ago(minutes=1), "a")])
    state = fold([login(ago(minutes=14), "late", "failure", "mfa_failed")], state=state)
    result = block(state)
    assert (result["logins_15m"], result["login_failures_15m"]) == (2, 1)


def test_event_older_than_every_window_is_dropped() -> None:
    state = fold([login(ago(minutes=20), "old", "failure", "other")])
    assert state["logins"] == {} and state["failures"] == {} and state["failing_users"] == {}


def test_distinct_failing_users_use_the_latest_failure() -> None:
    state = fold(
        [
            login(ago(minutes=20), "u1", "failure", "wrong_password"),  # applied when still inside
            login(ago(minutes=10), "u1", "failure", "wrong_password"),
            login(ago(minutes=16), "u2", "failure", "wrong_password"),
        ],
        now=ago(minutes=6),
    )
    assert block(state)["distinct_users_failing_15m"] == 1
    assert block(state)["login_failures_15m"] == 1


def test_locked_accounts_are_distinct_users_in_the_last_hour() -> None:
    state = fold(
        [
            login(ago(minutes=50), "u1", "failure", "account_locked"),
            login(ago(minutes=10), "u1", "failure", "account_locked"),
            login(ago(minutes=59, seconds=59), "u2", "failure", "account_locked"),
            login(ago(minutes=60), "u3", "failure", "account_locked"),
            login(ago(minutes=5), "u4", "failure", "wrong_password"),
        ],
        now=ago(minutes=30),
    )
    assert block(state)["locked_accounts_1h"] == 2


def test_permission_denials_by_role_in_the_last_hour() -> None:
    state = fold(
        [
            denied(ago(minutes=30), "u1", "lakare"),
            denied(ago(minutes=20), "u2", "lakare"),
            denied(ago(minutes=10), "u3", "underskoterska"),
            denied(ago(minutes=61), "u4", "sjukskoterska"),
        ],
        now=ago(minutes=30),
    )
    result = block(state)
    assert result["permission_denied_1h"] == 3
    assert result["permission_denied_1h_by_role"] == {"lakare": 2, "underskoterska": 1}


def test_state_is_pruned_against_the_wall_clock() -> None:
    state = fold([login(ago(minutes=5), "a", "failure", "account_locked"), denied(ago(minutes=5), "b", "lakare")])
    later = NOW + timedelta(hours=2)
    state = fold([login(later, "c")], now=later, state=state)
    assert state["failures"] == {}
    assert state["failing_users"] == {}
    assert state["locked_users"] == {}
    assert state["denied_by_role"] == {}
    assert list(state["logins"]) == [str(int(later.timestamp()))]
