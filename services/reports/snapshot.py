"""Build a report's content: a frozen, JSON-able snapshot of stored data for one period.

All numbers come from the event store and the alerts table as they stand at the snapshot time
``as_of``; counts cover the period up to ``counted_until`` and states are read at that moment. Each
number names its source (see :mod:`services.reports.sources`), whose text states the event types,
filter and interval and the snapshot time, so a reader can reproduce it against the console.
"""

from __future__ import annotations

from typing import Any

from hypercare.privacy.redact import redact
from hypercare.storage.db import Database
from hypercare.storage.events_store import get_event
from services.reports import activity_sections as act
from services.reports import coordination
from services.reports import register_sections as reg
from services.reports.activity import REGION, Activity, read_activity
from services.reports.context import ReportContext
from services.reports.figures import figure, share
from services.reports.frame import Frame
from services.reports.labels import MONTHS
from services.reports.period import Period, local_text
from services.reports.trends import trend_series, trends_section
from services.reports.waves_section import waves_comparison, waves_section

CONTENT_VERSION = 1
MAX_NOTE = 4000


def title_of(period: Period) -> str:
    day = f"{period.day.day} {MONTHS[period.day.month - 1]} {period.day.year}"
    if period.kind == "daily":
        return f"Lägesbild {day}"
    return f"Lägesbild sedan förra mötet ({local_text(period.start, period.zone)})"


def _overview(frame: Frame, activity: Activity, sections: dict[str, dict[str, Any]]) -> dict[str, Any]:
    region = activity.tallies[REGION]
    stop = sections["stop_criteria"]
    cited = frame.sources.cite

    figures = [
        figure("tickets_opened", "Öppnade ärenden", region.tickets_opened, src=cited("tickets_opened")),
        figure("tickets_resolved", "Lösta ärenden", region.tickets_resolved, src=cited("tickets_resolved")),
        figure("tickets_open", "Öppna ärenden vid ställning", region.tickets_open, src=cited("tickets_open")),
        figure("tickets_open_p1", "varav prioritet 1", region.tickets_open_p1, src=cited("tickets_open")),
        figure(
            "login_failure_rate",
            "Andel misslyckade inloggningar",
            share(region.login_failures, region.logins),
            fmt="percent",
            src=cited("logins"),
        ),
        figure("permission_denied", "Behörighetsnekanden", region.permission_denied, src=cited("permission_denied")),
        figure("checkins", "Floor-walker-incheckningar", region.checkins, src=cited("floorwalkers")),
        figure(
            "diversion_hours",
            "Hänvisningstimmar",
            round(region.diversion_seconds / 3600, 4),
            fmt="hours",
            src=cited("diversions"),
        ),
        figure(
            "diversions_active", "Aktiva hänvisningar vid ställning", region.diversions_active, src=cited("diversions")
        ),
        figure(
            "patient_safety",
            "Ärenden med patientsäkerhetsrisk",
            region.patient_safety_opened,
            src=cited("patient_safety_opened"),
        ),
        *stop["figures"],
        *sections["decisions"]["figures"],
        sections["alerts"]["figures"][0],
        sections["duties"]["figures"][0],
        sections["duties"]["figures"][1],
        sections["risks"]["figures"][0],
    ]
    return {
        "key": "overview",
        "title": "Övergripande läge",
        "figures": figures,
        "tables": [],
        "verdict": stop["verdict"],
    }


async def _safety_payloads(db: Database, activity: Activity, period: Period) -> dict[str, dict[str, Any]]:
    """The stored ticket.opened payloads (redacted at ingest) of the period's patient-safety tickets."""
    payloads = {}
    for ticket in activity.patient_safety_tickets(period):
        if ticket.event_id:
            stored = await get_event(db, event_id=ticket.event_id)
            if stored is not None:
                payloads[ticket.event_id] = stored["payload"]
    return payloads


async def build_snapshot(db: Database, context: ReportContext, period: Period, *, note: str = "") -> dict[str, Any]:
    """The report's content for ``period`` as the stores stand at ``period.as_of`` (JSON-able)."""
    frame = Frame(org=context.org, period=period)
    activity = await read_activity(db, context.org, period, presence_minutes=context.presence_minutes)
    duties = await coordination.duties_state(db, context.duties, period)
    alerts, raised = await coordination.alerts_at(db, period, context.alert_rules)
    evaluation = await coordination.stop_criteria_state(db, context.org, context.criteria, period)
    decisions = await coordination.decisions_in(db, context.org, period)
    risks = await coordination.open_risks(db, period)
    payloads = await _safety_payloads(db, activity, period)
    buckets, series = await trend_series(db, period)
    comparison = await waves_comparison(db, frame)

    administrations = {
        "key": "administrations",
        "title": "Per förvaltning",
        "figures": [],
        "tables": [
            act.tickets_table(frame, activity),
            act.categories_table(frame, activity),
            act.access_table(frame, activity),
            act.roles_table(frame, activity),
            act.floorwalkers_table(frame, activity),
            act.ed_load_table(frame, activity),
        ],
    }
    ed = {"key": "ed", "title": "Akutmottagningar", "figures": [], "tables": [act.ed_units_table(frame, activity)]}
    sections = {
        "patient_safety": act.patient_safety_section(frame, activity, duties, payloads),
        "stop_criteria": reg.stop_criteria_section(frame, evaluation),
        "decisions": reg.decisions_section(frame, decisions),
        "alerts": reg.alerts_section(frame, alerts, raised),
        "duties": reg.duties_section(frame, duties),
        "risks": reg.risks_section(frame, risks),
    }
    trends = trends_section(frame, buckets, series)
    overview = _overview(frame, activity, sections)
    ordered = [
        overview,
        administrations,
        ed,
        sections["patient_safety"],
        sections["stop_criteria"],
        sections["decisions"],
        sections["alerts"],
        sections["duties"],
        sections["risks"],
        trends,
        waves_section(frame, comparison),
    ]
    return {
        "version": CONTENT_VERSION,
        "kind": period.kind,
        "title": title_of(period),
        "region": {"id": context.org.region.id, "name": context.org.region.name},
        "zone": period.zone.key,
        "as_of": period.as_of.isoformat(),
        "period": {
            "day": period.day.isoformat(),
            "start": period.start.isoformat(),
            "end": period.end.isoformat(),
            "counted_until": period.counted_until.isoformat(),
            "complete": period.complete,
            "text": period.describe(),
        },
        "note": redact(note.strip())[:MAX_NOTE],
        "stop_criteria_overall": evaluation["overall"],
        "sections": ordered,
        "sources": frame.sources.as_json(),
    }
