"""The catalogue of a report's sources: every query its numbers come from, in words.

Each text names the event types, the filter and the interval (local time) and, added by
:class:`services.reports.figures.Sources`, the snapshot time, so a reader can reproduce the number
against the console or the API at that moment.
"""

from __future__ import annotations

from services.reports.figures import Sources
from services.reports.period import Period, local_text


def define_sources(sources: Sources, period: Period) -> None:
    """Define every source a report may cite (the trends source follows once its buckets are known)."""
    span = f"occurred_at i {period.interval()}"
    state = f"ställning vid {local_text(period.counted_until, period.zone)}"
    texts = {
        "tickets_opened": (
            f"Ärenden: första ticket.opened per (unit_id, ticket_id) med {span}; per förvaltning via org-registret."
        ),
        "tickets_resolved": (
            f"Ärenden: första ticket.resolved per (unit_id, ticket_id) med {span}; lösningstid = resolved − opened, "
            "median över periodens lösta ärenden vars öppning finns."
        ),
        "tickets_open": (
            f"Öppna ärenden, {state}: ticket.opened före ställningen utan ticket.resolved före den; prioritet "
            "enligt senaste ticket.opened/ticket.updated som anger en (samma regel som konsolens öppna ärenden)."
        ),
        "patient_safety_opened": f"Ärenden med patient_safety = true: första ticket.opened med {span}.",
        "logins": (
            f"Inloggningar: access.login med {span}; misslyckade = outcome 'failure', låsta konton = reason "
            "'account_locked'; felandel = misslyckade / alla (ur summorna, aldrig ett medelvärde)."
        ),
        "users_failing": f"Användare med fel: unika user_ref bland access.login med outcome 'failure' och {span}.",
        "permission_denied": f"Behörighetsnekanden: access.permission_denied med {span}.",
        "floorwalkers": (
            f"Floor walkers: floorwalker.checkin och floorwalker.checkout med {span}; incheckningar, assists "
            "(summan av assists) och eskaleringar (needs_escalation = true) räknas på check-in; unika walker_id "
            "och besökta enheter (unika unit_id) på båda, utom check-in med status 'break' (rast är inget besök)."
        ),
        "floorwalkers_present": (
            f"Floor walkers på enhet respektive på rast vid ställningen ({state}): senaste floor-walker-händelse "
            "var som helst är en check-in på enheten, inom närvarofönstret; status 'break' räknas som rast."
        ),
        "unvisited": (f"Enheter med minst ett öppnat ärende ({span}) och inget floor-walker-besök under perioden."),
        "org_units": "Antal enheter per förvaltning i org-registret.",
        "ed_status": (
            f"Akutmottagningarnas egna rapporter: ed.status med {span}; beläggning = patients_in_department / capacity."
        ),
        "ed_latest": f"Senaste ed.status per akutmottagning före ställningen ({state}), hur gammal den än är.",
        "diversions": (
            "Hänvisningar: ed.diversion_started/ended före ställningen; en hänvisning löper från sin första start "
            "(en förnyelse behåller den) till sitt första slut; timmar = den del som ligger inom perioden; "
            f"aktiva = utan slut, {state}."
        ),
        "duties": (
            "Rapporteringsplikter: duty.opened/duty.fulfilled före ställningen; tidsfrist = öppnad + konfigurerade "
            f"timmar (reporting_duties); tid kvar räknad till {state}."
        ),
        "stop_criteria": (
            f"Stoppkriterierna i regelfilens stop_criteria (GET /api/v1/stop-criteria?at=…) vid {state}; ett "
            "kriterium är uppfyllt när värdet ligger under gränsen."
        ),
        "decisions": (
            "Beslutsloggen (GET /api/v1/decisions): decision.recorded, ed.diversion_started och "
            f"ed.diversion_ended med {span}."
        ),
        "alerts": (
            f"Larmtabellen: larm utlösta före ställningen och inte lösta då ({state}); kvitterade om kvitteringen "
            "skedde före ställningen."
        ),
        "alerts_raised": f"Larmtabellen: larm med raised_at i {period.interval()}.",
        "risks": (
            f"Riskregistret: senaste risk.recorded per risk_id före ställningen ({state}) med status open eller "
            "mitigating; flaggad när ägare eller åtgärdsplan saknas."
        ),
    }
    for key, text in texts.items():
        sources.define(key, text)
