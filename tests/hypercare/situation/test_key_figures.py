"""The meeting's key figures read from a region block, and their change since the last published report."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from hypercare.situation.key_figures import FIGURES, change, changes, key_figures

REGION = {
    "tickets": {"open": 12},
    "access": {"login_failure_rate_15m": 0.25, "permission_denied_1h": 4},
    "units_by_health": {"red": 2, "yellow": 3, "not_assessed": 30, "green": 5},
    "ed": {"active_diversions": [{"diversion_id": "d1"}]},
}


def test_key_figures_read_the_picture() -> None:
    assert key_figures(REGION) == {
        "tickets_open": 12,
        "login_failure_rate": 0.25,
        "permission_denied": 4,
        "units_red": 2,
        "units_yellow": 3,
        "diversions_active": 1,
    }
    # A quiet region: no logins is no rate (not 0 %), no diversions is 0.
    assert key_figures({"access": {"login_failure_rate_15m": None}}) == {
        "tickets_open": None,
        "login_failure_rate": None,
        "permission_denied": None,
        "units_red": None,
        "units_yellow": None,
        "diversions_active": 0,
    }


def test_changes_compare_the_report_with_now() -> None:
    before = key_figures(REGION)
    now = {**before, "tickets_open": 15, "login_failure_rate": 0.1, "units_red": None}
    rows = {row["key"]: row for row in changes(before, now)}
    assert list(rows) == list(FIGURES)
    assert rows["tickets_open"] == {"key": "tickets_open", "before": 12, "now": 15, "delta": 3, "direction": "up"}
    assert rows["login_failure_rate"]["delta"] == -0.15 and rows["login_failure_rate"]["direction"] == "down"
    assert rows["units_red"]["direction"] == "unknown" and rows["units_red"]["delta"] is None
    assert rows["diversions_active"]["direction"] == "same"
    # A report stored before a figure existed: that figure is unknown, the others compared.
    assert {row["key"]: row["direction"] for row in changes({"tickets_open": 15}, now)}[
        "permission_denied"
    ] == "unknown"


numbers = st.one_of(st.none(), st.integers(-(10**6), 10**6), st.floats(0, 1))


@given(numbers, numbers)
def test_change_is_now_minus_before(before: int | float | None, now: int | float | None) -> None:
    delta, direction = change(before, now)
    if before is None or now is None:
        assert (delta, direction) == (None, "unknown")
        return
    assert delta is not None
    assert abs(delta - (now - before)) < 1e-6
    assert direction == ("up" if delta > 0 else "down" if delta < 0 else "same")
