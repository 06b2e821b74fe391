"""The meeting's key figures of the region and their change since the last published report.

Each figure is read from the live picture's region block by one function (the picture computes the number; this
module only names it), so the figure a report stores at its snapshot and the figure shown now are the same
function of the same kind of block. :func:`changes` compares the two.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

Value = int | float | None


def open_tickets(region: Mapping[str, Any]) -> Value:
    """Open tickets in the region now."""
    return _number((region.get("tickets") or {}).get("open"))


def login_failure_rate(region: Mapping[str, Any]) -> Value:
    """The share of failed logins in the last 15 minutes (None without logins)."""
    return _number((region.get("access") or {}).get("login_failure_rate_15m"))


def permission_denials(region: Mapping[str, Any]) -> Value:
    """Permission denials in the last hour."""
    return _number((region.get("access") or {}).get("permission_denied_1h"))


def units_red(region: Mapping[str, Any]) -> Value:
    """Units with red health."""
    return _number((region.get("units_by_health") or {}).get("red"))


def units_yellow(region: Mapping[str, Any]) -> Value:
    """Units with yellow health."""
    return _number((region.get("units_by_health") or {}).get("yellow"))


def active_diversions(region: Mapping[str, Any]) -> Value:
    """ED diversions in progress."""
    return len((region.get("ed") or {}).get("active_diversions") or [])


# In the order the console shows them.
FIGURES: dict[str, Callable[[Mapping[str, Any]], Value]] = {
    "tickets_open": open_tickets,
    "login_failure_rate": login_failure_rate,
    "permission_denied": permission_denials,
    "units_red": units_red,
    "units_yellow": units_yellow,
    "diversions_active": active_diversions,
}


def key_figures(region: Mapping[str, Any]) -> dict[str, Value]:
    """Every key figure of a region block of the live picture."""
    return {key: read(region) for key, read in FIGURES.items()}


Direction = Literal["up", "down", "same", "unknown"]


def change(before: Value, now: Value) -> tuple[Value, Direction]:
    """``now - before`` and its direction; unknown when either side is missing."""
    if before is None or now is None:
        return None, "unknown"
    delta = now - before
    if isinstance(delta, float):
        delta = round(delta, 6)
    return delta, "up" if delta > 0 else "down" if delta < 0 else "same"


def changes(before: Mapping[str, Value], now: Mapping[str, Value]) -> list[dict[str, Any]]:
    """Per key figure: the report's value, the value now, the delta and its direction."""
    rows = []
    for key in FIGURES:
        delta, direction = change(before.get(key), now.get(key))
        rows.append(
            {"key": key, "before": before.get(key), "now": now.get(key), "delta": delta, "direction": direction}
        )
    return rows


def _number(value: Any) -> Value:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None
