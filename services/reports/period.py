"""The period a report covers: a local calendar day, or "since the last meeting".

Every count of a report is over ``[start, counted_until)`` in event time, and every state ("open
now", "active now") is taken at ``counted_until``: the end of the period, or the snapshot time when
the period has not ended yet (today's report at the morning meeting).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

ReportKind = Literal["daily", "since_last_meeting"]


class PeriodError(ValueError):
    """A period that cannot be reported on (a future day, an empty interval)."""


@dataclass(frozen=True)
class Period:
    kind: ReportKind
    day: date  # the reported day (daily) or the meeting day (since the last meeting), local
    start: datetime  # UTC, inclusive
    end: datetime  # UTC, exclusive: the nominal end (next local midnight, or the snapshot time)
    as_of: datetime  # UTC: the snapshot time
    zone: ZoneInfo

    @property
    def counted_until(self) -> datetime:
        """Where counting stops and where states are read: the end, or the snapshot time if earlier."""
        return min(self.end, self.as_of)

    @property
    def complete(self) -> bool:
        return self.as_of >= self.end

    def describe(self) -> str:
        """The counted interval in local time, e.g. ``2024-11-12 00:00 – 2024-11-13 00:00 (Europe/Stockholm)``."""
        return f"{local_text(self.start, self.zone)} – {local_text(self.counted_until, self.zone)} ({self.zone.key})"

    def interval(self) -> str:
        """The counted interval as a half-open range, e.g. ``[2024-11-12 00:00, 2024-11-13 00:00) Europe/Stockholm``."""
        return f"[{local_text(self.start, self.zone)}, {local_text(self.counted_until, self.zone)}) {self.zone.key}"


def local_text(moment: datetime, zone: ZoneInfo, *, seconds: bool = False) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The first moment of ``day`` in ``zone``, in UTC (DST days are 23 or 25 hours long)."""
    return datetime.combine(day, time(0, 0), tzinfo=zone).astimezone(UTC)


def local_day(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()


def daily_period(day: date, *, as_of: datetime, zone: ZoneInfo) -> Period:
    """The local calendar day ``day``; refused when it has not begun at ``as_of``."""
    start = local_midnight(day, zone)
    end = local_midnight(day + timedelta(days=1), zone)
    if start > as_of:
        raise PeriodError(f"{day.isoformat()} has not begun yet ({zone.key}); a report covers a day that has started")
    return Period(kind="daily", day=day, start=start, end=end, as_of=as_of, zone=zone)


def since_period(since: datetime, *, as_of: datetime, zone: ZoneInfo) -> Period:
    """From ``since`` (the previous meeting's snapshot) up to the snapshot time ``as_of``."""
    if since >= as_of:
        raise PeriodError("the last meeting's report was made at or after this moment; nothing to report since")
    return Period(kind="since_last_meeting", day=local_day(as_of, zone), start=since, end=as_of, as_of=as_of, zone=zone)
