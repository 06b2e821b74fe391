"""The risk register: each ``risk.recorded`` event is a full version of a risk; the latest is its state.

An open risk (open or mitigating) without an owner or a mitigation plan is flagged, so no risk sits in
the register without someone on it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hypercare.contract.events import stored_fields
from hypercare.storage.db import Database
from hypercare.storage.models import StoredEvent
from services.risks import store

OPEN_STATUSES = ("open", "mitigating")


def _version(event: StoredEvent) -> dict[str, Any]:
    """One version, read back through the contract model (its defaults, not defaults written again here)."""
    risk = stored_fields(event.payload)
    return {
        "risk_id": risk["risk_id"],
        "title": risk["title"],
        "description": risk["description"],
        "owner": risk["owner"],
        "mitigation": risk["mitigation"],
        "status": risk["status"],
        "severity": risk["severity"],
        "linked_alert_ids": risk["linked_alert_ids"],
        "linked_decision_ids": risk["linked_decision_ids"],
        "unit_id": event.unit_id,
        "recorded_by": risk["recorded_by"],
        "recorded_at": event.occurred_at.isoformat(),
        "event_id": event.event_id,
    }


def flags_of(risk: dict[str, Any]) -> list[str]:
    if risk["status"] not in OPEN_STATUSES:
        return []
    return [
        flag
        for flag, missing in (
            ("no_owner", not risk["owner"].strip()),
            ("no_mitigation", not risk["mitigation"].strip()),
        )
        if missing
    ]


async def risk_versions(db: Database, *, until: datetime | None = None) -> dict[str, list[dict[str, Any]]]:
    """Every risk's versions recorded before ``until`` (default: all), oldest first."""
    versions: dict[str, list[dict[str, Any]]] = {}
    for event in await store.risk_events(db, until=until):
        version = _version(event)
        versions.setdefault(version["risk_id"], []).append(version)
    return versions


async def current_risks(db: Database, *, until: datetime | None = None) -> list[dict[str, Any]]:
    """The latest version (before ``until``) of every risk with its flags: open first, high severity first, newest."""
    severity_rank = {"high": 0, "medium": 1, "low": 2}
    risks = []
    for versions in (await risk_versions(db, until=until)).values():
        latest = dict(versions[-1])
        latest["first_recorded_at"] = versions[0]["recorded_at"]
        latest["versions"] = len(versions)
        latest["flags"] = flags_of(latest)
        risks.append(latest)
    risks.sort(key=lambda r: r["recorded_at"], reverse=True)
    risks.sort(key=lambda r: (r["status"] not in OPEN_STATUSES, severity_rank.get(r["severity"], 3)))
    return risks
