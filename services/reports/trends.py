"""Trend series of a report: tickets opened and resolved, logins and login failures per time bucket.

The same counting as the console's trend charts (``GET /api/v1/trends``: events of the type in the
bucket, each stored event once), but the buckets start at the period's start, so a day's report has
its 24 local hours (23 or 25 on a DST day).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from hypercare.storage.db import Database
from services.console_api.store import count_by_unit_and_bucket
from services.console_api.trends import SERIES
from services.reports.frame import Frame
from services.reports.period import Period

MAX_BUCKETS = 48


@dataclass(frozen=True)
class Buckets:
    starts: list[datetime]
    size: timedelta

    @property
    def minutes(self) -> int:
        return int(self.size.total_seconds() // 60)


def buckets_for(period: Period) -> Buckets:
    """Whole hours (or multiples of them, at most 48 buckets) from the start to the end of counting."""
    span = max(timedelta(0), period.counted_until - period.start)
    hours = max(1, math.ceil(span / timedelta(hours=1) / MAX_BUCKETS))
    size = timedelta(hours=hours)
    count = max(1, math.ceil(span / size))
    return Buckets(starts=[period.start + i * size for i in range(count)], size=size)


async def trend_series(db: Database, period: Period) -> tuple[Buckets, dict[str, list[int]]]:
    """Region-wide counts per bucket for each series of ``SERIES``, counted as the console counts them."""
    buckets = buckets_for(period)
    size = int(buckets.size.total_seconds())
    first = int(period.start.timestamp())
    rows = await count_by_unit_and_bucket(
        db, start=period.start, end=period.counted_until, bucket_seconds=size, origin=first
    )
    series = {name: [0] * len(buckets.starts) for name in SERIES}
    for _, bucket, counts in rows:
        position = (bucket - first) // size
        if 0 <= position < len(buckets.starts):
            for name, n in counts.items():
                series[name][position] += n
    return buckets, series


def trends_section(frame: Frame, buckets: Buckets, series: dict[str, list[int]]) -> dict[str, Any]:
    """Two charts (tickets, logins) over the same buckets, citing the trend query."""
    frame.sources.define(
        "trends",
        (
            f"Händelser per {buckets.minutes} min från periodens början: ticket.opened, ticket.resolved, access.login "
            f"(alla / outcome 'failure') med occurred_at i {frame.period.interval()}; samma räkning som konsolens "
            "trenddiagram (GET /api/v1/trends)."
        ),
    )
    src = frame.sources.cite("trends")
    starts = [start.isoformat() for start in buckets.starts]
    per = "timme" if buckets.minutes == 60 else f"{buckets.minutes} min"

    def chart(key: str, title: str, *names: tuple[str, str]) -> dict[str, Any]:
        return {
            "key": key,
            "title": f"{title} per {per}",
            "buckets": starts,
            "bucket_minutes": buckets.minutes,
            "src": src,
            "series": [{"key": name, "label": text, "values": series[name]} for name, text in names],
        }

    charts = [
        chart("tickets", "Ärenden", ("tickets_opened", "Öppnade ärenden"), ("tickets_resolved", "Lösta ärenden")),
        chart("logins", "Inloggningar", ("logins", "Inloggningar"), ("login_failures", "Misslyckade inloggningar")),
    ]
    return {"key": "trends", "title": "Trender", "figures": [], "tables": [], "charts": charts}
