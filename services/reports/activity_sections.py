"""The report's tables of what happened: per administration (tickets, access, floor walkers, ED load),
per emergency department, and patient safety. Built from :class:`services.reports.activity.Activity`.

Each per-node row names its node in ``nodes`` (not a column), so a scoped reader's copy can be cut
(:mod:`services.reports.scope`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypercare.org.registry import UNMAPPED_ID, UNMAPPED_NAME
from hypercare.privacy.redact import redact
from services.reports.activity import REGION, Activity, Tally
from services.reports.figures import Column, figure, share, table
from services.reports.frame import Frame
from services.reports.labels import CATEGORIES, ROLES, SCOPES, label
from services.reports.period import local_text


def admin_rows(frame: Frame, activity: Activity) -> list[tuple[str, str, Tally]]:
    """Every administration of the registry, then "unmapped" when events came from unknown units."""
    rows = [(admin.id, admin.name, activity.tallies[admin.id]) for admin in frame.org.administrations]
    unmapped = activity.tallies.get(UNMAPPED_ID)
    if unmapped is not None:
        rows.append((UNMAPPED_ID, UNMAPPED_NAME, unmapped))
    return rows


def per_administration(
    frame: Frame,
    activity: Activity,
    key: str,
    title: str,
    columns: list[Column],
    row: Callable[[str, Tally], dict[str, Any]],
) -> dict[str, Any]:
    """A table with a row per administration and the region as its total row."""
    return table(
        key,
        title,
        columns,
        [{**row(name, tally), "nodes": [admin_id]} for admin_id, name, tally in admin_rows(frame, activity)],
        total=row(frame.org.region.name, activity.tallies[REGION]),
    )


def tickets_table(frame: Frame, activity: Activity) -> dict[str, Any]:
    """Opened, resolved and open tickets per administration, with the region as the total row."""
    cite = frame.sources.cite
    opened, resolved, open_now = cite("tickets_opened"), cite("tickets_resolved"), cite("tickets_open")
    safety = cite("patient_safety_opened")
    columns = [
        Column("name", "Förvaltning", "text"),
        Column("opened", "Öppnade", src=opened),
        Column("resolved", "Lösta", src=resolved),
        Column("median", "Median lösningstid (min)", "decimal", src=resolved),
        Column("open", "Öppna vid ställning", src=open_now),
        Column("open_p1", "varav prio 1", src=open_now),
        Column("safety", "Patientsäkerhet (öppnade)", src=safety),
    ]

    def row(name: str, tally: Tally) -> dict[str, Any]:
        return {
            "name": name,
            "opened": tally.tickets_opened,
            "resolved": tally.tickets_resolved,
            "median": tally.median_resolve_minutes,
            "open": tally.tickets_open,
            "open_p1": tally.tickets_open_p1,
            "safety": tally.patient_safety_opened,
        }

    return per_administration(frame, activity, "tickets", "Ärenden per förvaltning", columns, row)


def categories_table(frame: Frame, activity: Activity) -> dict[str, Any]:
    """What the period's tickets were about (region-wide), most frequent first."""
    src = frame.sources.cite("tickets_opened")
    counts = activity.tallies[REGION].opened_by_category
    rows = [
        {"category": label(CATEGORIES, category), "opened": n}
        for category, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]
    return table(
        "categories",
        "Öppnade ärenden per kategori (regionen)",
        [Column("category", "Kategori", "text"), Column("opened", "Öppnade", src=src)],
        rows,
    )


def access_table(frame: Frame, activity: Activity) -> dict[str, Any]:
    """Logins, failures (rate from the sums), users failing, locked accounts and permission denials."""
    cite = frame.sources.cite
    logins, users, denied = cite("logins"), cite("users_failing"), cite("permission_denied")
    columns = [
        Column("name", "Förvaltning", "text"),
        Column("logins", "Inloggningar", src=logins),
        Column("failures", "Misslyckade", src=logins),
        Column("rate", "Felandel", "percent", src=logins),
        Column("users", "Användare med fel", src=users),
        Column("locked", "Låsta konton", src=logins),
        Column("denied", "Behörighetsnekanden", src=denied),
    ]

    def row(name: str, tally: Tally) -> dict[str, Any]:
        return {
            "name": name,
            "logins": tally.logins,
            "failures": tally.login_failures,
            "rate": share(tally.login_failures, tally.logins),
            "users": len(tally.users_failing),
            "locked": tally.locked_accounts,
            "denied": tally.permission_denied,
        }

    return per_administration(frame, activity, "access", "Inloggning och behörighet per förvaltning", columns, row)


def roles_table(frame: Frame, activity: Activity) -> dict[str, Any]:
    """Permission denials by professional role (region-wide): where role mapping fails."""
    src = frame.sources.cite("permission_denied")
    counts = activity.tallies[REGION].denied_by_role
    rows = [
        {"role": ROLES.get(role, role), "denied": n}
        for role, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]
    return table(
        "roles",
        "Behörighetsnekanden per yrkesroll (regionen)",
        [Column("role", "Roll", "text"), Column("denied", "Nekanden", src=src)],
        rows,
    )


def floorwalkers_table(frame: Frame, activity: Activity) -> dict[str, Any]:
    """Floor-walker coverage: visits, assists, escalations and units with tickets but no visit."""
    cite = frame.sources.cite
    visits, unvisited, units = cite("floorwalkers"), cite("unvisited"), cite("org_units")
    present = cite("floorwalkers_present")
    columns = [
        Column("name", "Förvaltning", "text"),
        Column("checkins", "Incheckningar", src=visits),
        Column("walkers", "Floor walkers", src=visits),
        Column("assists", "Assists", src=visits),
        Column("escalations", "Eskaleringar", src=visits),
        Column("visited", "Besökta enheter", src=visits),
        Column("units", "Enheter totalt", src=units),
        Column("unvisited", "Enheter med ärenden utan besök", src=unvisited),
        Column("on_unit", "På enhet vid ställningen", src=present),
        Column("on_break", "På rast vid ställningen", src=present),
    ]

    def row(name: str, tally: Tally, units_total: int) -> dict[str, Any]:
        return {
            "name": name,
            "checkins": tally.checkins,
            "walkers": len(tally.walkers),
            "assists": tally.assists,
            "escalations": tally.escalations,
            "visited": len(tally.units_visited),
            "units": units_total,
            "unvisited": tally.units_with_tickets_unvisited,
            "on_unit": tally.walkers_on_unit,
            "on_break": tally.walkers_on_break,
        }

    rows = [
        {**row(name, tally, frame.units_in(admin_id)), "nodes": [admin_id]}
        for admin_id, name, tally in admin_rows(frame, activity)
    ]
    return table(
        "floorwalkers",
        "Floor-walker-täckning per förvaltning",
        columns,
        rows,
        total=row(frame.org.region.name, activity.tallies[REGION], len(frame.org.placements)),
    )


def ed_load_table(frame: Frame, activity: Activity) -> dict[str, Any]:
    """Emergency-department reports and diversions summed per administration."""
    status, diversions = frame.sources.cite("ed_status"), frame.sources.cite("diversions")
    columns = [
        Column("name", "Förvaltning", "text"),
        Column("reports", "Statusrapporter", src=status),
        Column("max_waiting", "Flest väntande", src=status),
        Column("max_occupancy", "Högsta beläggning", "percent", src=status),
        Column("started", "Hänvisningar startade", src=diversions),
        Column("hours", "Hänvisningstimmar", "hours", src=diversions),
        Column("active", "Aktiva hänvisningar", src=diversions),
    ]

    def row(name: str, tally: Tally) -> dict[str, Any]:
        return {
            "name": name,
            "reports": tally.ed.reports,
            "max_waiting": tally.ed.max_waiting,
            "max_occupancy": tally.ed.max_occupancy,
            "started": tally.diversions_started,
            "hours": round(tally.diversion_seconds / 3600, 4),
            "active": tally.diversions_active,
        }

    return per_administration(
        frame, activity, "ed_load", "Akutmottagningar och hänvisningar per förvaltning", columns, row
    )


def ed_units_table(frame: Frame, activity: Activity) -> dict[str, Any]:
    """Every emergency department: its latest report at the state moment, the period's load and diversion."""
    cite = frame.sources.cite
    status, diversions, latest = cite("ed_status"), cite("diversions"), cite("ed_latest")
    columns = [
        Column("name", "Akutmottagning", "text"),
        Column("admin", "Förvaltning", "text"),
        Column("reported_at", "Senaste rapport", "datetime", src=latest),
        Column("waiting", "Väntande", src=latest),
        Column("inside", "På akuten", src=latest),
        Column("capacity", "Kapacitet", src=latest),
        Column("reports", "Rapporter under perioden", src=status),
        Column("max_waiting", "Flest väntande under perioden", src=status),
        Column("hours", "Hänvisningstimmar", "hours", src=diversions),
        Column("diversion", "Aktiv hänvisning", "text"),
    ]
    rows = []
    ordered = sorted(activity.eds.items(), key=lambda item: (frame.admin_of(item[0]), frame.unit_name(item[0])))
    for unit_id, ed in ordered:
        current = ed.latest or {}
        active = ed.active
        rows.append(
            {
                "name": frame.unit_name(unit_id),
                "admin": frame.admin_of(unit_id),
                "reported_at": current.get("reported_at"),
                "waiting": current.get("patients_waiting"),
                "inside": current.get("patients_in_department"),
                "capacity": current.get("capacity"),
                "reports": ed.load.reports,
                "max_waiting": ed.load.max_waiting,
                "hours": round(ed.diversion_seconds / 3600, 4),
                "diversion": (
                    f"{label(SCOPES, active.scope)} sedan {local_text(active.since, frame.period.zone)} till "
                    + ", ".join(frame.unit_name(target) for target in active.to_unit_ids)
                    if active is not None and active.since is not None
                    else "–"
                ),
                "nodes": [unit_id],
            }
        )
    return table("ed_units", "Akutmottagningar", columns, rows, empty="Inga akutmottagningar i org-registret.")


def patient_safety_section(
    frame: Frame, activity: Activity, duties: list[dict[str, Any]], payloads: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """Patient-safety tickets of the period with their summaries and status, and the duties they opened."""
    cite = frame.sources.cite
    opened, open_now, duty_src = cite("patient_safety_opened"), cite("tickets_open"), cite("duties")
    region = activity.tallies[REGION]
    tickets = activity.patient_safety_tickets(frame.period)
    rows = []
    for ticket in tickets:
        payload = payloads.get(ticket.event_id or "", {})
        resolved = ticket.resolved_at
        rows.append(
            {
                "opened_at": ticket.opened_at.isoformat() if ticket.opened_at else None,
                "ticket_id": ticket.ticket_id,
                "unit": frame.unit_name(ticket.unit_id),
                "admin": frame.admin_of(ticket.unit_id),
                "priority": ticket.priority,
                "category": label(CATEGORIES, ticket.category),
                "summary": redact(str(payload.get("summary", ""))),
                "status": f"löst {local_text(resolved, frame.period.zone)}" if resolved else "öppet",
                "nodes": [ticket.unit_id],
            }
        )
    ticket_ids = {ticket.ticket_id for ticket in tickets}
    related = [duty for duty in duties if duty["trigger"] == "ticket" and duty["trigger_id"] in ticket_ids]
    return {
        "key": "patient_safety",
        "title": "Patientsäkerhet",
        "figures": [
            figure(
                "safety_opened",
                "Ärenden med patientsäkerhetsrisk, öppnade under perioden",
                region.patient_safety_opened,
                src=opened,
            ),
            figure(
                "safety_open",
                "Ärenden med patientsäkerhetsrisk, öppna vid ställning",
                region.patient_safety_open,
                src=open_now,
            ),
            figure("safety_duties", "Rapporteringsplikter utlösta av dessa ärenden", len(related), src=duty_src),
        ],
        "tables": [
            table(
                "patient_safety_tickets",
                "Ärenden med patientsäkerhetsrisk under perioden",
                [
                    Column("opened_at", "Öppnat", "datetime", src=opened),
                    Column("ticket_id", "Ärende", "text"),
                    Column("unit", "Enhet", "text"),
                    Column("admin", "Förvaltning", "text"),
                    Column("priority", "Prio", src=opened),
                    Column("category", "Kategori", "text"),
                    Column("summary", "Sammanfattning", "text"),
                    Column("status", "Status vid ställning", "text"),
                ],
                rows,
                empty="Inga ärenden med patientsäkerhetsrisk under perioden.",
            )
        ],
    }
