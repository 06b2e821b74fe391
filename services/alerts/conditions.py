"""One check per rule kind: does this node of the picture meet the rule's condition right now?

Each check reads one object of the flattened situation (the same blocks as ``GET /api/v1/units``)
and returns a :class:`Finding` (the measured value, the threshold and a Swedish message) or None.
Pure functions of their inputs; time enters only through the figures the picture was computed at.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from hypercare.org.registry import exact_hours_since
from services.alerts.rules import (
    AlertRule,
    EdStatusMissing,
    EdWaitingOverCapacity,
    HealthRed,
    LoginFailureRate,
    PatientSafetyTicket,
    TicketOpenTooLong,
    UnvisitedWithOpenTickets,
)


@dataclass(frozen=True)
class Finding:
    value: float
    threshold: float
    message: str


def _block(obj: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    block = obj.get(name)
    return block if isinstance(block, Mapping) else {}


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value


def _ed_status(obj: Mapping[str, Any]) -> Mapping[str, Any] | None:
    status = _block(obj, "ed").get("status")
    return status if isinstance(status, Mapping) else None


def _hours(obj: Mapping[str, Any]) -> float | None:
    """The node's hours since go-live at the picture's as_of (what health chose its threshold phase by)."""
    go_live, as_of = obj.get("go_live_at"), obj.get("as_of")
    if not isinstance(go_live, str) or not isinstance(as_of, str) or not as_of:
        return None
    return exact_hours_since(go_live, as_of)


def login_failure_rate(rule: LoginFailureRate, obj: Mapping[str, Any]) -> Finding | None:
    access = _block(obj, "access")
    logins = _number(access.get("logins_15m"))
    rate = _number(access.get("login_failure_rate_15m"))
    limits = rule.limits(_hours(obj)) if rule.phases else None
    minimum = rule.min_attempts if limits is None or limits.min_volume is None else max(1, limits.min_volume)
    if logins is None or rate is None or logins < minimum or not rule.exceeded(rate, limits):
        return None
    failures = access.get("login_failures_15m")
    limit = rule.limit if limits is None or limits.red is None else float(limits.red)
    phase = "" if limits is None or limits.phase is None else f" (fas {limits.phase.label})"
    return Finding(
        value=rate,
        threshold=limit,
        message=(
            f"Inloggningsfel {rate:.0%} ({failures} av {logins:.0f} inloggningar) senaste 15 min, "
            f"gräns {limit:.0%}{phase}"
        ),
    )


def ticket_open_too_long(rule: TicketOpenTooLong, obj: Mapping[str, Any]) -> Finding | None:
    by_priority = _block(obj, "tickets").get("oldest_open_minutes_by_priority")
    if not isinstance(by_priority, Mapping):
        return None
    minutes = _number(by_priority.get(str(rule.priority)))
    if minutes is None or minutes < rule.minutes:
        return None
    return Finding(
        value=minutes,
        threshold=rule.minutes,
        message=f"Ärende med prioritet {rule.priority} öppet i {minutes:.0f} min (gräns {rule.minutes} min)",
    )


def patient_safety_ticket(rule: PatientSafetyTicket, obj: Mapping[str, Any]) -> Finding | None:
    count = _number(_block(obj, "tickets").get("patient_safety_open"))
    if count is None or count < rule.min_open:
        return None
    return Finding(
        value=count,
        threshold=rule.min_open,
        message=f"{count:.0f} öppna ärenden med risk för patientsäkerheten",
    )


def unvisited_with_open_tickets(rule: UnvisitedWithOpenTickets, obj: Mapping[str, Any]) -> Finding | None:
    tickets = _block(obj, "tickets")
    open_tickets = _number(tickets.get("open"))
    if open_tickets is None or open_tickets < rule.min_open_tickets:
        return None
    limit = rule.hours * 60
    since_visit = _number(_block(obj, "floorwalkers").get("minutes_since_last_visit"))
    if since_visit is not None:
        if since_visit < limit:
            return None
        return Finding(
            value=since_visit,
            threshold=limit,
            message=(
                f"Inget floor walker-besök på {since_visit:.0f} min trots {open_tickets:.0f} öppna ärenden "
                f"(gräns {rule.hours:g} h)"
            ),
        )
    oldest = _number(tickets.get("oldest_open_minutes"))
    if oldest is None or oldest < limit:
        return None
    return Finding(
        value=oldest,
        threshold=limit,
        message=(
            f"Inget floor walker-besök registrerat; {open_tickets:.0f} öppna ärenden, "
            f"det äldsta {oldest:.0f} min (gräns {rule.hours:g} h)"
        ),
    )


def ed_waiting_over_capacity(rule: EdWaitingOverCapacity, obj: Mapping[str, Any]) -> Finding | None:
    status = _ed_status(obj)
    if status is None:
        return None
    waiting = _number(status.get("patients_waiting"))
    capacity = _number(status.get("capacity"))
    if waiting is None or not capacity:
        return None
    ratio = round(waiting / capacity, 4)
    if not ratio > rule.waiting_ratio_above:
        return None
    return Finding(
        value=ratio,
        threshold=rule.waiting_ratio_above,
        message=f"{waiting:.0f} väntande patienter på akutmottagningen, kapacitet {capacity:.0f}",
    )


def ed_status_missing(rule: EdStatusMissing, obj: Mapping[str, Any]) -> Finding | None:
    status = _ed_status(obj)
    minutes = _number(status.get("minutes_since_report")) if status is not None else None
    if minutes is None or minutes < rule.minutes:
        return None
    return Finding(
        value=minutes,
        threshold=rule.minutes,
        message=f"Ingen lägesrapport från akutmottagningen på {minutes:.0f} min (gräns {rule.minutes} min)",
    )


def health_red(rule: HealthRed, obj: Mapping[str, Any]) -> Finding | None:
    """The node's own health verdict: red, with the reasons the health rules gave (red ones first)."""
    health = _block(obj, "health")
    if health.get("status") != "red":
        return None
    codes = health.get("reason_codes")
    reds = (
        [code for code in codes if isinstance(code, Mapping) and code.get("level") == "red"]
        if isinstance(codes, list)
        else []
    )
    reasons = [str(text) for text in health.get("reasons") or []]
    shown = reasons[: max(1, len(reds))]
    return Finding(
        value=float(len(reds)),
        threshold=1.0,
        message="Röd status: " + ("; ".join(shown) if shown else "se hälsoreglerna"),
    )


_CHECKS: dict[type[Any], Callable[[Any, Mapping[str, Any]], Finding | None]] = {
    LoginFailureRate: login_failure_rate,
    TicketOpenTooLong: ticket_open_too_long,
    PatientSafetyTicket: patient_safety_ticket,
    UnvisitedWithOpenTickets: unvisited_with_open_tickets,
    EdWaitingOverCapacity: ed_waiting_over_capacity,
    EdStatusMissing: ed_status_missing,
    HealthRed: health_red,
}


def check(rule: AlertRule, obj: Mapping[str, Any]) -> Finding | None:
    """The rule's finding for one object of the picture, or None while its condition does not hold."""
    return _CHECKS[type(rule)](rule, obj)
