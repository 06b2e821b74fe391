"""The report's sections on the coordination group's records: stop criteria, decisions, open alerts,
reporting duties and risks, as they stood at the report's state moment.

Each per-node row names the nodes it concerns in ``nodes`` (not a column), so a scoped reader's copy can be
cut (:mod:`services.reports.scope`)."""

from __future__ import annotations

from typing import Any

from services.reports.figures import Column, Format, cell, figure, table
from services.reports.frame import Frame
from services.reports.labels import (
    ALERT_STATUSES,
    DUTY_TRIGGERS,
    LEVELS,
    RISK_FLAGS,
    RISK_SEVERITIES,
    RISK_STATUSES,
    SEVERITIES,
    label,
)


def _verdict(item: dict[str, Any]) -> str:
    """Wording that cannot be read backwards ("uppfyllt" reads as "stop" in go-live usage)."""
    if not item["met"]:
        return "Överskriden – stopp"
    return "Inom gräns" if item.get("judged", True) else "Ej bedömt (för få inloggningar)"


def stop_criteria_section(frame: Frame, evaluation: dict[str, Any]) -> dict[str, Any]:
    """The stop criteria as the console evaluates them at the state moment, each value citing its query."""
    overall = frame.sources.cite("stop_criteria")
    rows, breakdown_rows = [], []
    for criterion in evaluation["criteria"]:
        key = f"stop_{criterion['id']}"
        frame.sources.define(key, f"Stoppkriteriet '{criterion['id']}' vid {frame.state}: {criterion['source']}.")
        fmt: Format = "percent" if criterion["metric"] == "login_failure_rate_15m" else "decimal"
        rows.append(
            {
                "title": criterion["title"],
                "limit": cell(criterion["limit"], fmt=fmt, src=key),
                "value": cell(criterion["value"], fmt=fmt, src=key),
                "unit": criterion.get("unit", ""),
                "met": _verdict(criterion),
            }
        )
        for item in criterion.get("breakdown", []):
            breakdown_rows.append(
                {
                    "criterion": criterion["title"],
                    "name": item["name"],
                    "value": cell(item["value"], fmt=fmt, src=key),
                    "met": _verdict(item),
                    "nodes": [item["id"]],
                }
            )
    met = sum(1 for c in evaluation["criteria"] if c["met"] and c.get("judged", True))
    return {
        "key": "stop_criteria",
        "title": "Stoppkriterier",
        "figures": [
            figure("stop_met", "Stoppkriterier inom gräns", met, src=overall),
            figure("stop_total", "Stoppkriterier totalt", len(evaluation["criteria"]), src=overall),
        ],
        "verdict": "Inget stoppkriterium är överskridet."
        if evaluation["overall"] == "met"
        else "Minst ett stoppkriterium är överskridet – stopp.",
        "tables": [
            table(
                "stop_criteria",
                "Stoppkriterier",
                [
                    Column("title", "Kriterium", "text"),
                    Column("limit", "Gräns (överskriden från)", "decimal"),
                    Column("value", "Värde", "decimal"),
                    Column("unit", "Enhet", "text"),
                    Column("met", "Bedömning", "text"),
                ],
                rows,
                src=overall,
                empty="Inga stoppkriterier är konfigurerade.",
            ),
            table(
                "stop_breakdown",
                "Stoppkriterier per förvaltning",
                [
                    Column("criterion", "Kriterium", "text"),
                    Column("name", "Förvaltning", "text"),
                    Column("value", "Värde", "decimal"),
                    Column("met", "Bedömning", "text"),
                ],
                breakdown_rows,
                src=overall,
                empty="Inga kriterier bedöms per förvaltning.",
            ),
        ],
    }


def decisions_section(frame: Frame, decisions: list[dict[str, Any]]) -> dict[str, Any]:
    """Decision-log entries of the period, oldest first."""
    src = frame.sources.cite("decisions")
    rows = [
        {
            "at": entry["occurred_at"],
            "decision_id": entry["decision_id"],
            "title": entry["title"],
            "decision": entry["decision"],
            "mandate": entry.get("mandate", ""),
            "owner": entry.get("owner", ""),
            "decided_by": entry.get("decided_by", ""),
            "corrects": entry.get("corrects") or "",
            "nodes": [entry["unit_id"], *entry.get("affected_unit_ids", [])],
        }
        for entry in decisions
    ]
    return {
        "key": "decisions",
        "title": "Fattade beslut",
        "figures": [figure("decisions", "Beslut under perioden", len(rows), src=src)],
        "tables": [
            table(
                "decisions",
                "Beslut",
                [
                    Column("at", "Tid", "datetime", src=src),
                    Column("decision_id", "Beslut-ID", "text"),
                    Column("title", "Rubrik", "text"),
                    Column("decision", "Beslut", "text"),
                    Column("mandate", "Mandat", "text"),
                    Column("owner", "Ansvarig", "text"),
                    Column("decided_by", "Beslutat av", "text"),
                    Column("corrects", "Rättar", "text"),
                ],
                rows,
                empty="Inga beslut under perioden.",
            )
        ],
    }


def alerts_section(frame: Frame, alerts: list[dict[str, Any]], raised: int) -> dict[str, Any]:
    """Alerts unresolved at the state moment, and how many were raised in the period."""
    src, raised_src = frame.sources.cite("alerts"), frame.sources.cite("alerts_raised")
    rows = [
        {
            "raised_at": alert["raised_at"],
            "severity": label(SEVERITIES, alert["severity"]),
            "node": alert["node_name"],
            "message": alert["message"],
            "status": label(ALERT_STATUSES, alert["status"]),
            "level": label(LEVELS, alert["level"]),
            "assigned_to": alert["assigned_to"] or "–",
            "nodes": [alert["node_id"]],
        }
        for alert in alerts
    ]
    return {
        "key": "alerts",
        "title": "Öppna larm",
        "figures": [
            figure("alerts_open", "Olösta larm vid ställning", len(alerts), src=src),
            figure(
                "alerts_unacknowledged", "varav ej kvitterade", sum(1 for a in alerts if a["status"] == "open"), src=src
            ),
            figure("alerts_raised", "Larm utlösta under perioden", raised, src=raised_src),
        ],
        "tables": [
            table(
                "alerts",
                "Olösta larm",
                [
                    Column("raised_at", "Utlöst", "datetime", src=src),
                    Column("severity", "Allvarlighet", "text"),
                    Column("node", "Gäller", "text"),
                    Column("message", "Larm", "text"),
                    Column("status", "Status", "text"),
                    Column("level", "Nivå", "text"),
                    Column("assigned_to", "Tilldelat", "text"),
                ],
                rows,
                empty="Inga olösta larm.",
            )
        ],
    }


def duties_section(frame: Frame, duties: list[dict[str, Any]]) -> dict[str, Any]:
    """Reporting duties still open at the state moment, with deadline and time left."""
    src = frame.sources.cite("duties")
    open_duties = [duty for duty in duties if duty["status"] == "open"]
    rows = [
        {
            "duty": duty["name"],
            "authority": duty["authority"] or "–",
            "trigger": f"{DUTY_TRIGGERS.get(duty['trigger'], duty['trigger'])} {duty['trigger_id']}",
            "unit": frame.unit_name(duty["unit_id"]),
            "deadline": duty["deadline"],
            "minutes_left": duty["minutes_left"],
            "overdue": "FÖRSENAD" if duty["overdue"] else "",
            "nodes": [duty["unit_id"]],
        }
        for duty in open_duties
    ]
    return {
        "key": "duties",
        "title": "Rapporteringsplikter",
        "figures": [
            figure("duties_open", "Öppna rapporteringsplikter", len(open_duties), src=src),
            figure("duties_overdue", "varav försenade", sum(1 for d in open_duties if d["overdue"]), src=src),
        ],
        "tables": [
            table(
                "duties",
                "Öppna rapporteringsplikter",
                [
                    Column("duty", "Plikt", "text"),
                    Column("authority", "Myndighet", "text"),
                    Column("trigger", "Utlöst av", "text"),
                    Column("unit", "Enhet", "text"),
                    Column("deadline", "Tidsfrist", "datetime", src=src),
                    Column("minutes_left", "Minuter kvar", src=src),
                    Column("overdue", "", "text"),
                ],
                rows,
                empty="Inga öppna rapporteringsplikter.",
            )
        ],
    }


def risks_section(frame: Frame, risks: list[dict[str, Any]]) -> dict[str, Any]:
    """Open risks at the state moment, flagged when an owner or a mitigation plan is missing."""
    src = frame.sources.cite("risks")
    rows = [
        {
            "risk_id": risk["risk_id"],
            "title": risk["title"],
            "severity": label(RISK_SEVERITIES, risk["severity"]),
            "status": label(RISK_STATUSES, risk["status"]),
            "owner": risk["owner"] or "–",
            "mitigation": risk["mitigation"] or "–",
            "flags": ", ".join(label(RISK_FLAGS, flag) for flag in risk["flags"]),
            "recorded_at": risk["recorded_at"],
            "nodes": [risk["unit_id"]],
        }
        for risk in risks
    ]
    return {
        "key": "risks",
        "title": "Risker",
        "figures": [
            figure("risks_open", "Öppna risker", len(rows), src=src),
            figure("risks_flagged", "varav flaggade", sum(1 for r in risks if r["flags"]), src=src),
        ],
        "tables": [
            table(
                "risks",
                "Öppna risker",
                [
                    Column("risk_id", "Risk-ID", "text"),
                    Column("title", "Risk", "text"),
                    Column("severity", "Allvarlighet", "text"),
                    Column("status", "Status", "text"),
                    Column("owner", "Ägare", "text"),
                    Column("mitigation", "Åtgärdsplan", "text"),
                    Column("flags", "Flaggor", "text"),
                    Column("recorded_at", "Senast ändrad", "datetime", src=src),
                ],
                rows,
                empty="Inga öppna risker.",
            )
        ],
    }
