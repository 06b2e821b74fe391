"""The ingest check of a ``readiness.assessed`` event against the checklist in force (the rules file).

The contract takes any checklist-shaped item and value (an id, a bool or a number 0–100); only here is it known
whether the item is on the checklist and whether the value fits its kind: a percent item takes a number, a check
takes true or false. A refusal names the field and the item, so a spreadsheet row can be fixed from it.
"""

from __future__ import annotations

from hypercare.contract.events import Event, ReadinessAssessed
from hypercare.rules.readiness import ReadinessChecklist


def readiness_refusal(checklist: ReadinessChecklist | None, event: Event) -> str | None:
    """Why ``event`` does not fit ``checklist`` (a per-item reason), or ``None`` (also for other event types)."""
    if not isinstance(event, ReadinessAssessed):
        return None
    if checklist is None:
        return "type: readiness assessments are submitted to POST /api/v1/events"
    item = checklist.by_id.get(event.item)
    if item is None:
        listed = ", ".join(checklist.by_id) or "none"
        return f"item: {event.item!r} is not on the readiness checklist (items: {listed})"
    if item.kind == "check" and not isinstance(event.value, bool):
        return f"value: {item.id} is a check: true (done) or false (not done), not {event.value:g}"
    if item.kind == "percent" and isinstance(event.value, bool):
        return f"value: {item.id} is a percent: a number from 0 to 100, not {str(event.value).lower()}"
    return None
