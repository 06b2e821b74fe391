"""Properties of the live per-unit folds that the worker relies on (hypothesis): the order in which a unit's
events arrive never changes its figures, and the figures equal a count made here from the events alone.

Duplicates are the worker's business (the events table recognises a resent event_id before a fold sees it),
so these folds see each event once, in any order.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from hypercare.contract.events import Event, parse_event
from hypercare.situation.state import access, apply_event, ed, new_state

NOW = datetime.now(UTC).replace(microsecond=0)
UNIT = "U1"


@st.composite
def access_events(draw: st.DrawFn) -> list[Event]:
    count = draw(st.integers(0, 40))
    events = []
    for n in range(count):
        seconds_ago = draw(st.integers(0, 2 * 3600))  # inside and outside the 15-minute and 1-hour windows
        base = {"event_id": f"a{n}", "occurred_at": (NOW - timedelta(seconds=seconds_ago)).isoformat(), "unit_id": UNIT}
        user = f"u{draw(st.integers(0, 6))}"
        if draw(st.booleans()):
            failed = draw(st.booleans())
            item: dict[str, Any] = {**base, "type": "access.login", "user_ref": user}
            item["outcome"] = "failure" if failed else "success"
            if failed:
                item["reason"] = draw(st.sampled_from(["wrong_password", "account_locked", "card_error"]))
        else:
            role = draw(st.sampled_from(["lakare", "sjukskoterska"]))
            item = {**base, "type": "access.permission_denied", "user_ref": user, "role": role, "module": "x"}
        events.append(parse_event(item))
    return events


def fold(family: str, events: list[Event]) -> dict[str, Any]:
    state = new_state(family)
    for event in events:
        apply_event(family, state, event, now=NOW)
    return state


@given(events=access_events(), order=st.randoms(use_true_random=False))
def test_access_figures_do_not_depend_on_arrival_order_and_match_a_plain_count(events: list[Event], order: Any) -> None:
    shuffled = list(events)
    order.shuffle(shuffled)
    now = NOW.timestamp()
    got = access.summarize(fold("access", shuffled), now).block()
    assert got == access.summarize(fold("access", events), now).block()

    def within(event: Event, seconds: int) -> bool:
        return now - event.occurred_at.timestamp() < seconds

    logins = [e for e in events if e.type == "access.login" and within(e, 15 * 60)]
    failures = [e for e in logins if e.outcome == "failure"]  # type: ignore[union-attr]
    denied = [e for e in events if e.type == "access.permission_denied" and within(e, 3600)]
    assert got["logins_15m"] == len(logins)
    assert got["login_failures_15m"] == len(failures)
    assert got["distinct_users_failing_15m"] == len({e.user_ref for e in failures})  # type: ignore[union-attr]
    assert got["permission_denied_1h"] == len(denied)


@given(
    reports=st.lists(st.tuples(st.integers(0, 3 * 3600), st.integers(0, 80)), min_size=1, max_size=12),
    order=st.randoms(use_true_random=False),
)
def test_the_latest_ed_report_by_its_own_time_wins_whatever_arrives_last(
    reports: list[tuple[int, int]], order: Any
) -> None:
    events = [
        parse_event(
            {
                "event_id": f"s{n}",
                "type": "ed.status",
                "occurred_at": (NOW - timedelta(seconds=ago)).isoformat(),
                "unit_id": UNIT,
                "patients_waiting": waiting,
                "patients_in_department": 10,
                "capacity": 28,
            }
        )
        for n, (ago, waiting) in enumerate(reports)
    ]
    shuffled = list(events)
    order.shuffle(shuffled)
    status = ed.summarize(fold("ed", shuffled), NOW.timestamp(), UNIT).block(rollup=False)["status"]
    newest = min(reports, key=lambda r: r[0])[0]
    assert status is not None
    assert status["patients_waiting"] in {w for ago, w in reports if ago == newest}
    # Equal times are settled by the event id, so even a tie does not depend on the order of arrival.
    assert status == ed.summarize(fold("ed", events), NOW.timestamp(), UNIT).block(rollup=False)["status"]
