"""Go-live figures of the live picture as Prometheus gauges, for the Grafana viewers.

Set from the same flattened situation the WebSocket deltas come from, so Grafana and the console
agree; labelled by administration name (a bounded set from the org registry), never by unit.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from hypercare.observability import metrics

HEALTH_COLOURS = ("green", "yellow", "red", "not_assessed")


def update_golive_gauges(flat: dict[str, dict[str, dict[str, Any]]]) -> None:
    for admin in flat["administrations"].values():
        name = admin["name"]
        for priority, n in admin["tickets"]["open_by_priority"].items():
            metrics.OPEN_TICKETS.labels(administration=name, priority=priority).set(n)
        metrics.LOGIN_FAILURE_RATE.labels(administration=name).set(admin["access"]["login_failure_rate_15m"])
        metrics.LOGINS_15M.labels(administration=name).set(admin["access"]["logins_15m"])
        metrics.FLOORWALKERS_ON_DUTY.labels(administration=name).set(admin["floorwalkers"]["on_unit"])
    units = flat["units"].values()
    colours = Counter(unit["health"]["status"] for unit in units)
    for colour in HEALTH_COLOURS:
        metrics.UNITS_BY_HEALTH.labels(status=colour).set(colours.get(colour, 0))
    metrics.ACTIVE_DIVERSIONS.set(sum(1 for unit in units if (unit.get("ed") or {}).get("diversion")))
