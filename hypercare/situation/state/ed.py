"""Emergency-department state of one unit (the diverting ED), and its read-side summary.

State::

    {"v": 1,
     "status": {"patients_waiting", "patients_in_department", "capacity",
                "longest_wait_minutes": int|None, "reported_at": iso, "at": epoch,
                "key": [epoch, event_id]} | None,          # the latest by (occurred_at, event_id)
     "diversions": {diversion_id: {"scope", "to_unit_ids", "since": iso, "since_ts": epoch,
                                   "reason", "decided_by", "expected_end": iso|None,
                                   "updated_at": epoch, ...}},   # facts.diversions.new_record()
     "ended": {diversion_id: ended_epoch},                                  # tombstones, 7 days
     "pruned_at": epoch|None}

Tombstones make "ended" final: a late or resent ``ed.diversion_started`` never resurrects it.
The span rules (earliest start, latest renewal, earliest end) are the shared fold's,
:mod:`hypercare.situation.facts.diversions`; an active diversion here is one of its records.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hypercare.contract.events import EdDiversionEnded, EdDiversionStarted, EdStatus, Event
from hypercare.situation.facts import diversions
from hypercare.situation.facts.order import after, order_key
from hypercare.situation.state import windows as w

TOMBSTONE_TTL = w.WEEK


def new_state() -> dict[str, Any]:
    return {"v": 1, "status": None, "diversions": {}, "ended": {}, "pruned_at": None}


def apply(state: dict[str, Any], event: Event, now: float) -> None:
    ts = event.occurred_at.timestamp()
    if isinstance(event, EdStatus):
        current = state["status"]
        key = order_key(event)  # the latest report by its own time, the event id settling a tie (facts.order)
        if current is None or after(key, current.get("key", [current["at"]])):
            state["status"] = {
                "patients_waiting": event.patients_waiting,
                "patients_in_department": event.patients_in_department,
                "capacity": event.capacity,
                "longest_wait_minutes": event.longest_wait_minutes,
                "reported_at": event.occurred_at.isoformat(),
                "at": ts,
                "key": list(key),
            }
    elif isinstance(event, EdDiversionStarted):
        _started(state, event)
    elif isinstance(event, EdDiversionEnded):
        state["diversions"].pop(event.diversion_id, None)
        previous = state["ended"].get(event.diversion_id)
        state["ended"][event.diversion_id] = ts if previous is None else min(previous, ts)  # the earliest end
    else:
        raise ValueError(f"{event.type} is not an emergency-department event")
    if w.prune_due(state, now):
        w.prune_times(state["ended"], now - TOMBSTONE_TTL)


def _started(state: dict[str, Any], event: EdDiversionStarted) -> None:
    """Start or renewal, by the shared rules (:mod:`hypercare.situation.facts.diversions`)."""
    if event.diversion_id in state["ended"]:
        return  # an end is final
    diversion = state["diversions"].get(event.diversion_id)
    if diversion is None:
        diversion = state["diversions"][event.diversion_id] = diversions.new_record()
    diversions.absorb(diversion, event)


def _public(diversion_id: str, diversion: dict[str, Any], now: float) -> dict[str, Any]:
    expected_end = diversion["expected_end"]
    # Past its expected end with neither an end nor a renewal (a new diversion_started with a later
    # expected_end): flagged so a diversion cannot silently outlive its reason.
    overdue = expected_end is not None and datetime.fromisoformat(expected_end).timestamp() <= now
    return {
        "diversion_id": diversion_id,
        "scope": diversion["scope"],
        "to_unit_ids": list(diversion["to_unit_ids"]),
        "since": diversion["since"],
        "reason": diversion["reason"],
        "decided_by": diversion["decided_by"],
        "expected_end": expected_end,
        "review_overdue": overdue,
        "overdue_minutes": w.floor_minutes(now - datetime.fromisoformat(expected_end).timestamp()) if overdue else 0,
    }


@dataclass
class EdSummary:
    """ED figures of a unit or a roll-up: all active diversions, and the reporting EDs' statuses."""

    diversions: list[tuple[float, str, dict[str, Any]]] = field(default_factory=list)  # (since_ts, unit_id, public)
    statuses: list[tuple[float, dict[str, Any]]] = field(default_factory=list)  # (reported_ts, public)

    def merge(self, other: EdSummary) -> None:
        self.diversions.extend(other.diversions)
        self.statuses.extend(other.statuses)

    def active_diversions(self) -> list[dict[str, Any]]:
        return [{"unit_id": unit_id, **public} for _, unit_id, public in sorted(self.diversions, key=_by_since)]

    def block(self, *, rollup: bool) -> dict[str, Any]:
        if rollup:
            return {"diversion": None, "active_diversions": self.active_diversions(), "status": self._summed_status()}
        latest = max(self.diversions, key=_by_since)[2] if self.diversions else None
        return {
            "diversion": dict(latest) if latest is not None else None,
            "active_diversions": self.active_diversions(),
            "status": dict(max(self.statuses, key=lambda item: item[0])[1]) if self.statuses else None,
        }

    def _summed_status(self) -> dict[str, Any] | None:
        if not self.statuses:
            return None
        reports = [public for _, public in self.statuses]
        waits = [s["longest_wait_minutes"] for s in reports if s["longest_wait_minutes"] is not None]
        stalest = min(self.statuses, key=lambda item: item[0])[1]
        return {
            "patients_waiting": sum(s["patients_waiting"] for s in reports),
            "patients_in_department": sum(s["patients_in_department"] for s in reports),
            "capacity": sum(s["capacity"] for s in reports),
            "longest_wait_minutes": max(waits) if waits else None,
            "reported_at": stalest["reported_at"],
            "minutes_since_report": stalest["minutes_since_report"],
            "reporting_units": len(reports),
        }


def _by_since(item: tuple[float, str, dict[str, Any]]) -> tuple[float, str, str]:
    return (item[0], item[1], item[2]["diversion_id"])


def summarize(state: dict[str, Any] | None, now: float, unit_id: str) -> EdSummary:
    summary = EdSummary()
    if not state:
        return summary
    for diversion_id, diversion in state.get("diversions", {}).items():
        summary.diversions.append((diversion["since_ts"], unit_id, _public(diversion_id, diversion, now)))
    status = state.get("status")
    if status is not None:
        summary.statuses.append(
            (
                status["at"],
                {
                    "patients_waiting": status["patients_waiting"],
                    "patients_in_department": status["patients_in_department"],
                    "capacity": status["capacity"],
                    "longest_wait_minutes": status["longest_wait_minutes"],
                    "reported_at": status.get("reported_at") or w.iso(status["at"]),
                    "minutes_since_report": w.floor_minutes(now - status["at"]),
                },
            )
        )
    return summary


def changes_at(state: dict[str, Any] | None, now: float) -> float:
    """When :func:`summarize` of this state first gives other figures after ``now`` with no new event:
    a diversion's expected end and each whole minute past it, each whole minute since the latest
    report; ``math.inf`` when none."""
    if not state:
        return math.inf
    moments = [math.inf]
    for diversion in state.get("diversions", {}).values():
        expected_end = diversion["expected_end"]
        if expected_end is not None:
            end = datetime.fromisoformat(expected_end).timestamp()
            moments.append(w.next_minute(end, now) if end <= now else end)
    status = state.get("status")
    if status is not None:
        moments.append(w.next_minute(status["at"], now))
    return min(moments)
