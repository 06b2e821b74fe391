"""Swedish wording of codes shown in a report (the report is written in Swedish, and frozen with it)."""

from __future__ import annotations

CATEGORIES = {
    "login": "Inloggning",
    "permissions": "Behörighet",
    "printing": "Utskrift",
    "orders": "Beställningar",
    "medication": "Läkemedel",
    "documentation": "Dokumentation",
    "scheduling": "Tidbokning",
    "lab": "Labb",
    "radiology": "Röntgen",
    "integration": "Integration",
    "performance": "Prestanda",
    "hardware": "Hårdvara",
    "other": "Övrigt",
}
# Professional roles (``access.permission_denied``'s ``role`` codes); an unknown code is printed as it came.
ROLES = {
    "lakare": "Läkare",
    "sjukskoterska": "Sjuksköterska",
    "underskoterska": "Undersköterska",
    "medicinsk_sekreterare": "Medicinsk sekreterare",
    "barnmorska": "Barnmorska",
    "biomedicinsk_analytiker": "Biomedicinsk analytiker",
    "fysioterapeut": "Fysioterapeut",
    "psykolog": "Psykolog",
    "rontgensjukskoterska": "Röntgensjuksköterska",
    "arbetsterapeut": "Arbetsterapeut",
    "kurator": "Kurator",
    "dietist": "Dietist",
    "apotekare": "Apotekare",
    "tandlakare": "Tandläkare",
}
SEVERITIES = {"critical": "Kritisk", "warning": "Varning", "info": "Info"}
ALERT_STATUSES = {"open": "Ej kvitterat", "acknowledged": "Kvitterat"}
LEVELS = {"team": "Team", "multi": "Flera team", "program": "Programnivå"}
RISK_SEVERITIES = {"high": "Hög", "medium": "Medel", "low": "Låg"}
# What opened a reporting duty (``duty.opened``'s ``trigger``), as the console's Swedish says it.
DUTY_TRIGGERS = {"ticket": "ärende", "decision": "beslut"}
RISK_STATUSES = {"open": "Öppen", "mitigating": "Åtgärdas", "closed": "Stängd"}
RISK_FLAGS = {"no_owner": "saknar ägare", "no_mitigation": "saknar åtgärdsplan"}
SCOPES = {"ambulance": "ambulans", "walk_in": "egna sökande", "all": "alla"}
KINDS = {"daily": "Dag", "since_last_meeting": "Sedan förra mötet"}
STATUSES = {
    "preview": "Förhandsvisning (ej sparad)",
    "draft": "Utkast",
    "approved": "Godkänd",
    "published": "Publicerad",
}
MONTHS = (
    "januari",
    "februari",
    "mars",
    "april",
    "maj",
    "juni",
    "juli",
    "augusti",
    "september",
    "oktober",
    "november",
    "december",
)


def label(mapping: dict[str, str], code: str | None) -> str:
    """The Swedish word for ``code``, or the code itself when it is not known (never hide data)."""
    if code is None:
        return ""
    return mapping.get(code, code)
