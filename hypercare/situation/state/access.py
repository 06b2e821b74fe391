"""Login and permission state of one unit, and its read-side summary.

State::

    {"v": 1,
     "logins": {"<second>": n}, "failures": {"<second>": n},      # 15 min buckets
     "failing_users": {user_ref: last_failure_epoch},               # 15 min
     "locked_users": {user_ref: last_account_locked_epoch},         # 1 h
     "denied_by_role": {role: {"<second>": n}},                     # 1 h buckets
     "pruned_at": epoch|None}

User refs are kept (pseudonymous) so roll-ups can count distinct users across units.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from hypercare.contract.events import AccessLogin, Event, PermissionDenied
from hypercare.situation.state import windows as w

LOGIN_WINDOW = w.QUARTER
LOCKED_WINDOW = w.HOUR
DENIED_WINDOW = w.HOUR


def new_state() -> dict[str, Any]:
    return {
        "v": 1,
        "logins": {},
        "failures": {},
        "failing_users": {},
        "locked_users": {},
        "denied_by_role": {},
        "pruned_at": None,
    }


def apply(state: dict[str, Any], event: Event, now: float) -> None:
    ts = event.occurred_at.timestamp()
    if isinstance(event, AccessLogin):
        if not w.too_old(ts, now, LOGIN_WINDOW):
            w.add(state["logins"], ts)
            if event.outcome == "failure":
                w.add(state["failures"], ts)
                _latest(state["failing_users"], event.user_ref, ts)
        if event.outcome == "failure" and event.reason == "account_locked" and not w.too_old(ts, now, LOCKED_WINDOW):
            _latest(state["locked_users"], event.user_ref, ts)
    elif isinstance(event, PermissionDenied):
        if not w.too_old(ts, now, DENIED_WINDOW):
            w.add(state["denied_by_role"].setdefault(event.role, {}), ts)
    else:
        raise ValueError(f"{event.type} is not an access event")
    if w.prune_due(state, now):
        prune(state, now)


def _latest(times: dict[str, float], key: str, ts: float) -> None:
    previous = times.get(key)
    if previous is None or ts > previous:
        times[key] = ts


def prune(state: dict[str, Any], now: float) -> None:
    w.prune_buckets(state["logins"], now - LOGIN_WINDOW)
    w.prune_buckets(state["failures"], now - LOGIN_WINDOW)
    w.prune_times(state["failing_users"], now - LOGIN_WINDOW)
    w.prune_times(state["locked_users"], now - LOCKED_WINDOW)
    w.prune_nested(state["denied_by_role"], now - DENIED_WINDOW)


@dataclass
class AccessSummary:
    """Access figures of a unit or a roll-up: counts add up, user sets unite, the rate is recomputed."""

    logins: int = 0
    failures: int = 0
    failing_users: set[str] = field(default_factory=set)
    locked_users: set[str] = field(default_factory=set)
    denied_by_role: dict[str, int] = field(default_factory=dict)

    def merge(self, other: AccessSummary) -> None:
        self.logins += other.logins
        self.failures += other.failures
        self.failing_users |= other.failing_users
        self.locked_users |= other.locked_users
        for role, n in other.denied_by_role.items():
            self.denied_by_role[role] = self.denied_by_role.get(role, 0) + n

    def block(self) -> dict[str, Any]:
        return {
            "logins_15m": self.logins,
            "login_failures_15m": self.failures,
            "login_failure_rate_15m": round(self.failures / self.logins, 4) if self.logins else 0.0,
            "distinct_users_failing_15m": len(self.failing_users),
            "locked_accounts_1h": len(self.locked_users),
            "permission_denied_1h": sum(self.denied_by_role.values()),
            "permission_denied_1h_by_role": {r: n for r, n in sorted(self.denied_by_role.items()) if n},
        }


def summarize(state: dict[str, Any] | None, now: float) -> AccessSummary:
    summary = AccessSummary()
    if not state:
        return summary
    summary.logins = w.count(state.get("logins", {}), now, LOGIN_WINDOW)
    summary.failures = w.count(state.get("failures", {}), now, LOGIN_WINDOW)
    summary.failing_users = w.distinct_in_window(state.get("failing_users", {}), now, LOGIN_WINDOW)
    summary.locked_users = w.distinct_in_window(state.get("locked_users", {}), now, LOCKED_WINDOW)
    for role, buckets in state.get("denied_by_role", {}).items():
        n = w.count(buckets, now, DENIED_WINDOW)
        if n:
            summary.denied_by_role[role] = n
    return summary


def changes_at(state: dict[str, Any] | None, now: float) -> float:
    """When :func:`summarize` of this state first gives other figures after ``now`` with no new event
    (the next window edge of any count or user set); ``math.inf`` when none."""
    if not state:
        return math.inf
    return min(
        w.next_bucket_change(state.get("logins", {}), now, LOGIN_WINDOW),
        w.next_bucket_change(state.get("failures", {}), now, LOGIN_WINDOW),
        w.next_window_change(state.get("failing_users", {}).values(), now, LOGIN_WINDOW),
        w.next_window_change(state.get("locked_users", {}).values(), now, LOCKED_WINDOW),
        min(
            (w.next_bucket_change(buckets, now, DENIED_WINDOW) for buckets in state.get("denied_by_role", {}).values()),
            default=math.inf,
        ),
    )
