"""One valid example of every event type, with every field of its model filled in (tests check that they are).

Used by the contract's string tests (every string of every type) and the ingest role × family matrix.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypercare.contract.events import new_id


def _fields(type_: str, unit_id: str, other_unit: str, walker_id: str) -> dict[str, Any]:
    later = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    tag = new_id("x")[2:12]
    return {
        "ticket.opened": {
            "ticket_id": f"T-{tag}",
            "channel": "phone",
            "category": "login",
            "priority": 2,
            "summary": "Kan inte logga in",
            "patient_safety": False,
        },
        "ticket.updated": {"ticket_id": f"T-{tag}", "status": "in_progress", "priority": 3, "category": "printing"},
        "ticket.resolved": {"ticket_id": f"T-{tag}", "resolution_code": "fixed", "known_issue_id": "KI-1"},
        "access.login": {"user_ref": "u-1", "outcome": "failure", "reason": "card_error"},
        "access.permission_denied": {"user_ref": "u-2", "role": "lakare", "module": "orders", "privilege": "sign"},
        "floorwalker.checkin": {
            "walker_id": walker_id,
            "status": "on_unit",
            "assists": 1,
            "categories": ["login"],
            "needs_escalation": False,
            "note": "Hjälpte med kortläsaren",
        },
        "floorwalker.checkout": {"walker_id": walker_id},
        "ed.status": {"patients_waiting": 3, "patients_in_department": 10, "capacity": 20, "longest_wait_minutes": 30},
        "ed.diversion_started": {
            "diversion_id": f"D-{tag}",
            "to_unit_ids": [other_unit],
            "scope": "ambulance",
            "reason": "Överbeläggning",
            "decided_by": "Produktionschef",
            "expected_end": later,
            "override_reason": "Mottagande akut hänvisar bara traumalarm",
        },
        "ed.diversion_ended": {"diversion_id": f"D-{tag}", "decided_by": "Produktionschef", "reason": "Läget lugnt"},
        "decision.recorded": {
            "decision_id": f"B-{tag}",
            "title": "Pausa utrullningen",
            "decision": "Vi pausar",
            "rationale": "Inloggningsproblem",
            "mandate": "Särskild sjukvårdsledning",
            "owner": "Produktionschef",
            "follow_up_at": later,
            "affected_unit_ids": [unit_id],
            "linked_alert_ids": ["A-1"],
            "corrects": "B-earlier",
            "decided_by": "Produktionschef",
            "rollout_decision": "pause",
            "stop_criteria": {"met": False, "criteria": [{"key": "login_failure_rate", "status": "not_met"}]},
            "wave_decision": "no_go",
            "readiness": {"wave_id": "w2", "gate": {"status": "red", "blocking_unit_ids": [unit_id]}},
            "handover_decision": "extend",
            "exit_criteria": {"wave_id": "w1", "overall": "not_ready", "criteria": [{"id": "no_open_p1"}]},
        },
        "risk.recorded": {
            "risk_id": f"R-{tag}",
            "title": "Kortläsare",
            "description": "Kortläsare saknas",
            "owner": "IT",
            "mitigation": "Beställ fler",
            "status": "open",
            "severity": "high",
            "linked_alert_ids": ["A-1"],
            "linked_decision_ids": ["B-1"],
            "recorded_by": "Produktionschef",
        },
        "duty.opened": {
            "duty_id": f"P-{tag}",
            "duty": "lex_maria",
            "trigger": "ticket",
            "trigger_id": "T-1",
            "description": "Fel läkemedel",
            "opened_by": "Produktionschef",
        },
        "duty.fulfilled": {"duty_id": f"P-{tag}", "reference": "IVO-1", "fulfilled_by": "Produktionschef"},
        "readiness.assessed": {
            "item": "staff_trained",
            "value": 92.5,
            "assessor": "Utbildningssamordnare",
            "evidence": "Utbildningssystemets export",
        },
    }[type_]


def example_event(
    type_: str, unit_id: str, *, other_unit: str = "", walker_id: str = "fw-example", **overrides: Any
) -> dict[str, Any]:
    """A valid ``type_`` event of ``unit_id``, every optional field set; ``overrides`` replace fields."""
    return {
        "event_id": new_id("ex"),
        "type": type_,
        "occurred_at": datetime.now(UTC).isoformat(),
        "unit_id": unit_id,
        "source": "examples",
        **_fields(type_, unit_id, other_unit or unit_id, walker_id),
        **overrides,
    }
