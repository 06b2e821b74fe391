"""The decision log (beslutslogg): decision events shaped as log entries and searched (pure).

Decisions are ``decision.recorded`` events and ED diversions (``ed.diversion_started``/``_ended``); the event
store is insert-only, so entries are immutable by construction. A correction is a later entry whose
``corrects`` names the original's ``decision_id``; the original stays as it was and lists ``corrected_by``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hypercare.contract.events import stored_fields
from hypercare.org.registry import OrgRegistry
from hypercare.storage.models import StoredEvent

SEARCHED_FIELDS = ("title", "decision", "rationale", "mandate", "owner", "decided_by")


@dataclass(frozen=True)
class DecisionQuery:
    text: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    unit_id: str | None = None
    owner: str | None = None
    limit: int = 200
    # The nodes a scoped reader may read (services.auth.scope.readable); None: the whole region. An entry is
    # readable when its unit or one of its affected units is (a diversion to a reader's ED concerns them).
    readable: frozenset[str] | None = None


# A diversion's scope in the log's (Swedish) text; the console words it in its own language from ``diversion_scope``.
SCOPE_WORDS = {"ambulance": "ambulans", "walk_in": "egna sökande", "all": "alla patienter"}


def _name(org: OrgRegistry, node_id: str) -> str:
    if org.knows(node_id):
        return org.place(node_id).name
    if node_id == org.region.id:
        return org.region.name
    for admin in org.administrations:
        if admin.id == node_id:
            return admin.name
        for site in admin.sites:
            if site.id == node_id:
                return site.name
    return node_id


def _entry(event: StoredEvent, org: OrgRegistry) -> dict[str, Any]:
    payload = stored_fields(event.payload)  # through the contract model: its defaults, one place
    common = {
        "event_id": event.event_id,
        "type": event.type,
        "occurred_at": event.occurred_at.isoformat(),
        "stored_at": event.stored_at.isoformat(),
        "unit_id": event.unit_id,
        "unit_name": _name(org, event.unit_id),
        "decided_by": payload["decided_by"],
    }
    if event.type == "decision.recorded":
        return {
            **common,
            "decision_id": payload["decision_id"],
            "title": payload["title"],
            "decision": payload["decision"],
            "rationale": payload["rationale"],
            "mandate": payload["mandate"],
            "owner": payload["owner"],
            "follow_up_at": payload.get("follow_up_at"),
            "affected_unit_ids": payload["affected_unit_ids"],
            "linked_alert_ids": payload["linked_alert_ids"],
            "corrects": payload.get("corrects"),
            "rollout_decision": payload.get("rollout_decision"),
            "stop_criteria": payload.get("stop_criteria"),
            "wave_decision": payload.get("wave_decision"),
            "readiness": payload.get("readiness"),
            "handover_decision": payload.get("handover_decision"),
            "exit_criteria": payload.get("exit_criteria"),
            "override_reason": None,
        }
    receiving = [_name(org, unit_id) for unit_id in payload.get("to_unit_ids", [])]  # an end names none
    started = event.type == "ed.diversion_started"
    return {
        **common,
        "decision_id": payload["diversion_id"],
        "title": (
            f"Hänvisning startad: {common['unit_name']} → {', '.join(receiving)}"
            if started
            else f"Hänvisning avslutad: {common['unit_name']}"
        ),
        "decision": (
            f"Hänvisning ({SCOPE_WORDS.get(payload['scope'], payload['scope'])}) till {', '.join(receiving)}"
            if started
            else "Hänvisningen avslutas"
        ),
        "diversion_scope": payload["scope"] if started else None,
        "rationale": _diversion_rationale(payload),
        "mandate": "",
        "owner": payload["decided_by"],
        "follow_up_at": payload.get("expected_end"),
        "affected_unit_ids": [event.unit_id, *payload.get("to_unit_ids", [])],
        "linked_alert_ids": [],
        "corrects": None,
        "rollout_decision": None,
        "stop_criteria": None,
        "wave_decision": None,
        "readiness": None,
        "handover_decision": None,
        "exit_criteria": None,
        "override_reason": (payload.get("override_reason") or "").strip() or None,
    }


def _diversion_rationale(payload: dict[str, Any]) -> str:
    """The reason, and the override reason of a diversion to an ED that was itself diverting (ingest refuses
    it without one: services.ingest.diversions), so the log shows why it was taken anyway."""
    reason = payload.get("reason") or ""
    override = (payload.get("override_reason") or "").strip()
    if not override:
        return reason
    return f"{reason}\n\nÖverstyrd (mottagande akutmottagning hänvisar själv): {override}".lstrip()


def _matches(entry: dict[str, Any], query: DecisionQuery) -> bool:
    if query.readable is not None and not any(
        node in query.readable for node in (entry["unit_id"], *entry["affected_unit_ids"])
    ):
        return False
    if query.text:
        needle = query.text.casefold()
        if not any(needle in str(entry.get(name, "")).casefold() for name in SEARCHED_FIELDS):
            return False
    if query.unit_id and query.unit_id != entry["unit_id"] and query.unit_id not in entry["affected_unit_ids"]:
        return False
    return not (query.owner and query.owner.casefold() not in str(entry["owner"]).casefold())


def log_entries(events: Iterable[StoredEvent], org: OrgRegistry, query: DecisionQuery) -> list[dict[str, Any]]:
    """Entries matching ``query`` in the events' order, each with the decision_ids of the entries correcting it."""
    entries = [_entry(event, org) for event in events]
    corrected_by: dict[str, list[str]] = {}
    for entry in entries:
        if entry["corrects"]:
            corrected_by.setdefault(entry["corrects"], []).append(entry["decision_id"])
    for entry in entries:
        entry["corrected_by"] = (
            sorted(corrected_by.get(entry["decision_id"], [])) if entry["type"] == "decision.recorded" else []
        )
    return [entry for entry in entries if _matches(entry, query)][: query.limit]
