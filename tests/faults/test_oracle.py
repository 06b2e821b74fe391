"""The fault oracle itself: it must see a lost event, a double count and a missing stored row."""

from __future__ import annotations

from collections import Counter
from typing import Any

from fault_oracle import PRIMARY, SECONDARY, UNITS, expected, judge, mixed_load


def picture(counts: dict[str, Counter[str]]) -> dict[str, dict[str, Any]]:
    """Unit views as the API shows them, built from oracle counters (the inverse of ``observed``)."""
    return {
        unit: {
            "access": {k: c[k] for k in ("logins_15m", "login_failures_15m", "distinct_users_failing_15m",
                                         "permission_denied_1h")},
            "tickets": {k: c[k] for k in ("opened_1h", "resolved_1h", "open")},
            "floorwalkers": {"assists_1h": c["assists_1h"]},
            "ed": {"status": {"patients_waiting": c["patients_waiting"]},
                   "active_diversions": [{}] * c["active_diversions"]},
        }
        for unit, c in counts.items()
    }  # fmt: skip


def test_an_exact_picture_is_exact_and_every_event_counts_once() -> None:
    events = mixed_load(seed=9, count=500)
    ids = {e["event_id"] for e in events}
    verdict = judge("exact", events, picture(expected(events)), ids)
    assert verdict.exact and verdict.counted == verdict.sent
    countable = [e for e in events if e["type"] in {"access.login", "access.permission_denied", "ticket.opened",
                                                     "ticket.resolved", "floorwalker.checkin"}]  # fmt: skip
    assert verdict.sent == len(countable)


def test_duplicates_and_order_do_not_change_the_expectation() -> None:
    events = mixed_load(seed=9, count=500)
    assert expected(events) == expected(list(reversed(events)) + events[:50])


def test_a_lost_event_a_double_count_and_a_missing_row_are_reported() -> None:
    events = mixed_load(seed=9, count=500)
    counts = expected(events)
    counts[UNITS[0]]["logins_15m"] -= 2  # two logins lost
    counts[UNITS[1]]["open"] += 1  # a ticket counted open twice
    stored = {e["event_id"] for e in events} - {events[0]["event_id"]}
    verdict = judge("broken", events, picture(counts), stored)
    assert (verdict.lost, verdict.duplicated) == (3, 1)
    assert not verdict.exact and len(verdict.mismatches) == 3
    assert set(PRIMARY).isdisjoint(SECONDARY)
