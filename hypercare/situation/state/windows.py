"""Event-time window helpers shared by the family states.

Windowed counts are sparse per-second buckets ``{"<epoch_second>": count}``: JSON-safe, compact
for bursty traffic, and a read at any later wall-clock ``now`` can cut its own window from them.
Writers prune against the wall clock at most once a minute (see :func:`prune_due`) so per-event
work stays O(1) amortised; readers never rely on pruning and always filter against their ``now``.

Window membership is ``now - window < t <= now`` (the last 15 minutes exclude an event exactly
15 minutes old). Buckets have one-second resolution: a bucket's key is the floored second.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, MutableMapping, Sequence
from datetime import UTC, datetime
from typing import Any

MINUTE = 60
QUARTER = 15 * MINUTE
HOUR = 60 * MINUTE
DAY = 24 * HOUR
WEEK = 7 * DAY
PRUNE_EVERY_SECONDS = 60.0

Buckets = dict[str, int]


def add(buckets: MutableMapping[str, int], ts: float, n: int = 1) -> None:
    key = str(math.floor(ts))
    buckets[key] = buckets.get(key, 0) + n


def remove(buckets: MutableMapping[str, int], ts: float, n: int = 1) -> None:
    """Take back ``n`` counted at ``ts`` (a fold that learned an earlier time for the same fact)."""
    key = str(math.floor(ts))
    left = buckets.get(key, 0) - n
    if left > 0:
        buckets[key] = left
    else:
        buckets.pop(key, None)


def count(buckets: MutableMapping[str, int], now: float, window: float) -> int:
    """Sum of the buckets whose second lies in ``(now - window, now]``."""
    low = now - window
    total = 0
    for key, n in buckets.items():
        second = int(key)
        if low < second <= now:
            total += n
    return total


def in_window(ts: float, now: float, window: float) -> bool:
    return now - window < ts <= now


def too_old(ts: float, now: float, window: float) -> bool:
    """True when an event can never again fall inside a window read at ``now`` or later."""
    return ts <= now - window


def prune_buckets(buckets: MutableMapping[str, int], cutoff: float) -> None:
    """Drop buckets at or before ``cutoff`` (an epoch second)."""
    stale = [key for key in buckets if int(key) <= cutoff]
    for key in stale:
        del buckets[key]


def prune_times(times: MutableMapping[str, Any], cutoff: float, *, at: int | None = None) -> None:
    """Drop entries of ``{key: epoch}`` (or ``{key: [epoch, ...]}`` with ``at=index``) at or before cutoff."""
    if at is None:
        stale = [key for key, ts in times.items() if ts <= cutoff]
    else:
        stale = [key for key, value in times.items() if value[at] <= cutoff]
    for key in stale:
        del times[key]


def prune_nested(groups: MutableMapping[str, Buckets], cutoff: float) -> None:
    """Prune ``{group: buckets}`` and drop groups that became empty."""
    for group in list(groups):
        buckets = groups[group]
        prune_buckets(buckets, cutoff)
        if not buckets:
            del groups[group]


def prune_due(state: MutableMapping[str, Any], now: float) -> bool:
    """True (and records ``now``) when the state has not been pruned in the last minute.

    A clock that stepped backwards also prunes, so a bad ``pruned_at`` cannot stall pruning.
    """
    last = state.get("pruned_at")
    if last is None or now - last >= PRUNE_EVERY_SECONDS or now < last:
        state["pruned_at"] = now
        return True
    return False


def distinct_in_window(times: MutableMapping[str, float], now: float, window: float) -> set[str]:
    low = now - window
    return {key for key, ts in times.items() if low < ts <= now}


def values_in_window(pairs: Iterable[Sequence[float]], now: float, window: float) -> list[float]:
    """The values of ``[[epoch, value], ...]`` whose epoch lies in the window, in their order."""
    low = now - window
    return [pair[1] for pair in pairs if low < pair[0] <= now]


def floor_minutes(seconds: float) -> int:
    return max(0, math.floor(seconds / MINUTE))


def iso(ts: float) -> str:
    """ISO 8601 in UTC (``+00:00``), the one time format of the read side."""
    return datetime.fromtimestamp(ts, UTC).isoformat()


# --- when a read at a later ``now`` can differ (the gateway's incremental picture) ----------------
# Each returns the moment after ``now`` at which a figure read with the same state first moves by the
# clock alone (``math.inf``: never), from the same float expressions the reads use. The moments are exact
# up to float rounding (well under a microsecond at today's epoch), so callers ask a little earlier.


def window_change(ts: float, now: float, window: float) -> float:
    """When ``in_window(ts, ·, window)`` next flips after ``now``: it enters at ``ts``, leaves at ``ts + window``."""
    return next_window_change((ts,), now, window)


def next_window_change(times: Iterable[float], now: float, window: float) -> float:
    """The soonest :func:`window_change` of ``times``.

    One loop with the window's low edge taken once: the gateway asks this for every buffered time of every
    unit it computes, and a call per time was a large part of that.
    """
    low = now - window
    soonest = math.inf
    for ts in times:
        if ts > now:
            moment = ts
        elif low < ts:
            moment = ts + window
        else:
            continue
        if moment < soonest:
            soonest = moment
    return soonest


def next_bucket_change(buckets: Mapping[str, int], now: float, window: float) -> float:
    """When :func:`count` of ``buckets`` over ``window`` can next differ from its value at ``now``."""
    return next_window_change(map(int, buckets), now, window)


def next_minute(since: float, now: float) -> float:
    """When ``floor_minutes(now - since)`` next steps up."""
    return since + MINUTE * (floor_minutes(now - since) + 1)
