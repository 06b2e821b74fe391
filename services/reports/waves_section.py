"""The report's wave comparison: each live wave's first 14 days side by side, per 100 users.

The numbers come from :func:`hypercare.waves.compare.compare_waves` over the same SQL counts as
``GET /api/v1/waves/compare?span=14d`` (:func:`services.waves.store.counted_since_go_live`), read as the events
stood at the report's state moment, so the report and the console's comparison chart agree.
"""

from __future__ import annotations

from typing import Any

from hypercare.storage.db import Database
from hypercare.waves.compare import compare_waves
from services.reports.figures import Column, table
from services.reports.frame import Frame
from services.reports.period import local_text
from services.waves.store import counted_since_go_live


async def waves_comparison(db: Database, frame: Frame) -> dict[str, Any]:
    """Every wave that had gone live by the state moment, daily over its first 14 days (region-wide)."""
    at = frame.period.counted_until
    org = frame.org
    wave_ids = [w.id for w in org.waves if w.actual_go_live is not None and w.actual_go_live <= at]
    counted = await counted_since_go_live(db, org, wave_ids=wave_ids, span="14d", at=at, units=None)
    return compare_waves(org, counted, wave_ids=wave_ids, span="14d", at=at)


def waves_section(frame: Frame, comparison: dict[str, Any]) -> dict[str, Any]:
    """One row per wave and day since its go-live (days begun by the state moment)."""
    zone = frame.period.zone
    frame.sources.define(
        "wave_compare",
        (
            "Vågjämförelse (GET /api/v1/waves/compare?span=14d): ticket.opened, access.login (felandel = outcome "
            "'failure' / alla), access.permission_denied och floorwalker.checkin (summan av assists) per enhet, "
            "räknade i dygn från enhetens vågs faktiska go-live i org-registret, till ställningen "
            f"{local_text(frame.period.counted_until, zone)}; per 100 användare = antal × 100 / personal (staff) "
            "på vågens enheter."
        ),
    )
    src = frame.sources.cite("wave_compare")
    columns = [
        Column("wave", "Våg", "text"),
        Column("day", "Dygn efter go-live", "text"),
        Column("tickets", "Ärenden per 100 anv.", "decimal", src=src),
        Column("denials", "Behörighetsnekanden per 100 anv.", "decimal", src=src),
        Column("assists", "Floor-walker-assists per 100 anv.", "decimal", src=src),
        Column("login_failure_rate", "Andel misslyckade inloggningar", "percent", src=src),
    ]
    rows = []
    for wave in comparison["waves"]:
        started = wave["actual_go_live"]
        label = f"{wave['name']} (go-live {local_text(started, zone)}, {wave['users']} anv.)"
        for bucket in wave["buckets"]:
            figures = bucket["figures"]
            if figures is None:
                continue
            rows.append(
                {
                    "wave": label,
                    "day": f"{bucket['index'] + 1}{'' if bucket['complete'] else ' (pågår)'}",
                    "tickets": figures["tickets_per_100_users"],
                    "denials": figures["permission_denials_per_100_users"],
                    "assists": figures["assists_per_100_users"],
                    "login_failure_rate": figures["login_failure_rate"],
                }
            )
    compared = table(
        "wave_compare",
        "Vågorna dygn för dygn efter go-live",
        columns,
        rows,
        src=src,
        empty="Ingen våg har gått live ännu.",
    )
    return {"key": "waves", "title": "Vågjämförelse", "figures": [], "tables": [compared]}
