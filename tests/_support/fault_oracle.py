"""An independent oracle for the fault suite: what the live picture must show for the events a test sent.

It recomputes every unit's counters from the sent events alone (deduplicated by ``event_id``, order ignored:
the live folds promise exactly that), reads the same counters from ``GET /api/v1/units/{id}`` and the
store of record, and reports per fault: events sent, counted, lost and counted twice.

Every event of the mixed load counts once in exactly one primary counter (a login in ``logins_15m``, a
permission denial in ``permission_denied_1h``, an opened or resolved ticket in ``opened_1h`` /
``resolved_1h``, a floor-walker check-in with one assist in ``assists_1h``), so sent = counted + lost −
duplicated when nothing else moved. Secondary figures (failures, distinct users failing, open tickets, the
latest ED report, active diversions) must be exact too; a mismatch there is reported as lost or duplicated
by its sign. Coordination events (diversions, decisions) are checked in the events table.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from hypercare.contract.events import new_id
from hypercare.storage.db import Database
from hypercare.storage.models import StoredEvent

# The chief token the fault runs post with (hc_testkit names it): a person records decisions as themself.

WARDS = ["SE2321000131-ESASBOR210", "SE2321000131-ESASBOR220", "SE2321000131-ENHBORCEN", "SE2321000131-ERHUMBOR"]
EDS = ["SE2321000131-ESASBORAKM", "SE2321000131-ESASSKEAKM"]
# Skene diverts here, not back to Borås (which diverts to Skene): the server refuses a circle of diversions.
RECEIVING_ED = "SE2321000131-ESUSAHAKM"
UNITS = [*WARDS, *EDS]
PRIMARY = ("logins_15m", "permission_denied_1h", "opened_1h", "resolved_1h", "assists_1h")
SECONDARY = ("login_failures_15m", "distinct_users_failing_15m", "open", "patients_waiting", "active_diversions")
CHIEF_TYPES = frozenset({"ed.diversion_started", "ed.diversion_ended", "decision.recorded"})


def _at(base: datetime, seconds_ago: float) -> str:
    return (base - timedelta(seconds=seconds_ago)).isoformat()


def mixed_load(seed: int, count: int, *, tag: str | None = None) -> list[dict[str, Any]]:
    """``count`` events of every family on :data:`UNITS`, occurred in the last five minutes, in time order."""
    rng = random.Random(seed)
    tag = tag or new_id("f")[2:10]  # letters: digits before "-{i}" could read as an identity number
    now = datetime.now(UTC)
    events: list[dict[str, Any]] = []
    open_tickets: dict[str, list[str]] = {unit: [] for unit in UNITS}
    for i in range(count):
        ago = 300.0 * (1 - i / count)  # oldest first
        unit = rng.choice(UNITS)
        base = {"event_id": f"{tag}-{i}", "occurred_at": _at(now, ago), "unit_id": unit, "source": "fault-suite"}
        roll = rng.random()
        if roll < 0.45:
            failed = rng.random() < 0.3
            item = {**base, "type": "access.login", "user_ref": f"u{rng.randint(0, 300)}"}
            item["outcome"] = "failure" if failed else "success"
            if failed:
                item["reason"] = rng.choice(["wrong_password", "card_error", "expired"])
        elif roll < 0.55:
            item = {
                **base,
                "type": "access.permission_denied",
                "user_ref": f"u{rng.randint(0, 300)}",
                "role": rng.choice(["lakare", "sjukskoterska", "underskoterska"]),
                "module": "ordination",
            }
        elif roll < 0.75:
            ticket_id = f"{tag}-T{i}"
            open_tickets[unit].append(ticket_id)
            item = {
                **base,
                "type": "ticket.opened",
                "ticket_id": ticket_id,
                "channel": rng.choice(["phone", "chat", "portal"]),
                "category": rng.choice(["login", "printing", "orders", "medication"]),
                "priority": rng.randint(1, 4),
                "summary": "kan inte skriva ut",
            }
        elif roll < 0.82 and open_tickets[unit]:
            ticket_id = open_tickets[unit].pop(rng.randrange(len(open_tickets[unit])))
            item = {**base, "type": "ticket.resolved", "ticket_id": ticket_id}
        elif roll < 0.92:
            item = {
                **base,
                "type": "floorwalker.checkin",
                "walker_id": f"fw-{rng.randint(0, 20)}",
                "status": rng.choice(["on_unit", "assisting"]),
                "assists": 1,
                "categories": ["login"],
            }
        else:
            ed = rng.choice(EDS)
            item = {
                **base,
                "unit_id": ed,
                "type": "ed.status",
                "patients_waiting": rng.randint(0, 40),
                "patients_in_department": rng.randint(5, 60),
                "capacity": 28,
            }
        events.append(item)
    # Coordination: a diversion declared and one declared and ended, a decision logged.
    events.append(
        {
            "event_id": f"{tag}-div-a",
            "type": "ed.diversion_started",
            "occurred_at": _at(now, 200),
            "unit_id": EDS[0],
            "diversion_id": f"{tag}-D1",
            "to_unit_ids": [EDS[1]],
            "scope": "ambulance",
            "reason": "överbeläggning",
        }
    )
    events.append({**events[-1], "event_id": f"{tag}-div-b", "diversion_id": f"{tag}-D2", "unit_id": EDS[1],
                   "to_unit_ids": [RECEIVING_ED], "occurred_at": _at(now, 150)})  # fmt: skip
    events.append(
        {
            "event_id": f"{tag}-div-b-end",
            "type": "ed.diversion_ended",
            "occurred_at": _at(now, 100),
            "unit_id": EDS[1],
            "diversion_id": f"{tag}-D2",
        }
    )
    events.append(
        {
            "event_id": f"{tag}-dec",
            "type": "decision.recorded",
            "occurred_at": _at(now, 50),
            "unit_id": EDS[0],
            "decision_id": f"{tag}-B1",
            "title": "Hänvisning av ambulanser",
            "decision": "Ambulanser till Skene",
        }
    )
    return events


def expected(events: list[dict[str, Any]]) -> dict[str, Counter[str]]:
    """Each unit's counters from the events alone: deduplicated by event_id, arrival order ignored."""
    unique = {e["event_id"]: e for e in reversed(events)}  # the first occurrence of an id wins
    counts: dict[str, Counter[str]] = {unit: Counter() for unit in UNITS}
    failing: dict[str, set[str]] = {unit: set() for unit in UNITS}
    opened: dict[str, set[str]] = {unit: set() for unit in UNITS}
    resolved: dict[str, set[str]] = {unit: set() for unit in UNITS}
    latest_report: dict[str, tuple[str, int]] = {}
    diversions: dict[str, set[str]] = {unit: set() for unit in UNITS}
    ended: set[str] = set()
    for item in unique.values():
        unit, kind = item["unit_id"], item["type"]
        c = counts[unit]
        if kind == "access.login":
            c["logins_15m"] += 1
            if item["outcome"] == "failure":
                c["login_failures_15m"] += 1
                failing[unit].add(item["user_ref"])
        elif kind == "access.permission_denied":
            c["permission_denied_1h"] += 1
        elif kind == "ticket.opened":
            c["opened_1h"] += 1
            opened[unit].add(item["ticket_id"])
        elif kind == "ticket.resolved":
            c["resolved_1h"] += 1
            resolved[unit].add(item["ticket_id"])
        elif kind == "floorwalker.checkin":
            c["assists_1h"] += item["assists"]
        elif kind == "ed.status":
            if unit not in latest_report or item["occurred_at"] > latest_report[unit][0]:
                latest_report[unit] = (item["occurred_at"], item["patients_waiting"])
        elif kind == "ed.diversion_started":
            diversions[unit].add(item["diversion_id"])
        elif kind == "ed.diversion_ended":
            ended.add(item["diversion_id"])
    for unit in UNITS:
        counts[unit]["distinct_users_failing_15m"] = len(failing[unit])
        counts[unit]["open"] = len(opened[unit] - resolved[unit])
        counts[unit]["patients_waiting"] = latest_report[unit][1] if unit in latest_report else 0
        counts[unit]["active_diversions"] = len(diversions[unit] - ended)
    return counts


def observed(unit: dict[str, Any]) -> Counter[str]:
    access, tickets, walkers, ed = unit["access"], unit["tickets"], unit["floorwalkers"], unit["ed"]
    status = ed.get("status") or {}
    return Counter(
        {
            "logins_15m": access["logins_15m"],
            "login_failures_15m": access["login_failures_15m"],
            "distinct_users_failing_15m": access["distinct_users_failing_15m"],
            "permission_denied_1h": access["permission_denied_1h"],
            "opened_1h": tickets["opened_1h"],
            "resolved_1h": tickets["resolved_1h"],
            "open": tickets["open"],
            "assists_1h": walkers["assists_1h"],
            "patients_waiting": status.get("patients_waiting", 0),
            "active_diversions": len(ed.get("active_diversions", [])),
        }
    )


@dataclass
class Verdict:
    fault: str
    sent: int
    counted: int = 0
    lost: int = 0
    duplicated: int = 0
    mismatches: list[str] = field(default_factory=list)

    @property
    def exact(self) -> bool:
        return self.lost == 0 and self.duplicated == 0 and not self.mismatches


def judge(fault: str, events: list[dict[str, Any]], units: dict[str, dict[str, Any]], stored_ids: set[str]) -> Verdict:
    """Compare the live units and the stored event ids with the oracle."""
    want = expected(events)
    unique_ids = {e["event_id"] for e in events}
    verdict = Verdict(fault, sent=sum(want[u][k] for u in UNITS for k in PRIMARY))
    for unit in UNITS:
        got = observed(units[unit])
        for key in (*PRIMARY, *SECONDARY):
            difference = got[key] - want[unit][key]
            if key in PRIMARY:
                verdict.counted += got[key]
            if difference > 0:
                verdict.duplicated += difference
            elif difference < 0:
                verdict.lost -= difference
            if difference:
                verdict.mismatches.append(f"{unit} {key}: expected {want[unit][key]}, got {got[key]}")
    missing = unique_ids - stored_ids
    if missing:
        verdict.lost += len(missing)
        verdict.mismatches.append(f"{len(missing)} events missing from the events table, e.g. {sorted(missing)[:3]}")
    return verdict


async def stored_event_ids(database_url: str, event_ids: set[str]) -> set[str]:
    db = Database.from_url(database_url)
    try:
        async with db.sessions() as session:
            found: set[str] = set()
            ids = sorted(event_ids)
            for start in range(0, len(ids), 1000):
                chunk = ids[start : start + 1000]
                rows = await session.execute(select(StoredEvent.event_id).where(StoredEvent.event_id.in_(chunk)))
                found.update(row[0] for row in rows)
            return found
    finally:
        await db.close()
