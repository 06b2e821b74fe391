"""Exit criteria at a moment: count the figures in the event store once (the stop criteria's measures, over the
shared folds), then judge every wave on them (:mod:`services.wave_exit.evaluate`)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypercare.org.registry import OrgRegistry
from hypercare.rules.exit_criteria import ExitCriteria
from hypercare.storage.db import Database
from services.stop_criteria.measures import active_diversions, open_priority1_tickets, tickets_opened_in
from services.wave_exit.evaluate import Day, ExitFigures, evaluate_wave
from services.wave_exit.schemas import WaveExit


class UnknownWave(LookupError):
    """The wave is not in the org registry."""


def whole_days(at: datetime, zone: ZoneInfo, count: int) -> list[tuple[datetime, datetime]]:
    """The ``count`` whole local days before the day ``at`` falls on, oldest first, as UTC ``[start, end)``
    (a day of a daylight-saving change is 23 or 25 hours long)."""
    today = at.astimezone(zone).date()

    def midnight(days_back: int) -> datetime:
        return datetime.combine(today - timedelta(days=days_back), time(0), tzinfo=zone).astimezone(UTC)

    return [(midnight(back), midnight(back - 1)) for back in range(count, 0, -1)]


async def exit_figures(db: Database, *, at: datetime, zone: ZoneInfo, days: int) -> ExitFigures:
    """Every unit's figures at ``at`` (aware), and tickets opened per unit in each of the ``days`` whole days."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("at must be an aware datetime")
    at = at.astimezone(UTC)
    spans = whole_days(at, zone, days)
    tickets = await tickets_opened_in(db, since=spans[0][0], until=spans[-1][1], at=at) if spans else []
    return ExitFigures(
        at=at,
        open_priority1_tickets=await open_priority1_tickets(db, at=at),
        active_diversions=await active_diversions(db, at=at),
        days=[
            Day(
                start=start,
                end=end,
                opened=Counter(
                    ticket.unit_id
                    for ticket in tickets
                    if ticket.opened_at is not None and start <= ticket.opened_at < end
                ),
            )
            for start, end in spans
        ],
    )


async def wave_exits(
    db: Database, org: OrgRegistry, criteria: ExitCriteria, *, at: datetime, zone: ZoneInfo
) -> dict[str, WaveExit]:
    """Every wave's exit criteria at ``at``, from one count of the figures."""
    figures = await exit_figures(db, at=at, zone=zone, days=criteria.longest_days)
    return {
        wave.id: WaveExit.model_validate(evaluate_wave(criteria, figures, org=org, wave_id=wave.id, zone=zone))
        for wave in org.waves
    }


async def wave_exit(
    db: Database, org: OrgRegistry, criteria: ExitCriteria, wave_id: str, *, at: datetime, zone: ZoneInfo
) -> WaveExit:
    """One wave's exit criteria at ``at``; raises :class:`UnknownWave`."""
    if wave_id not in org.waves_by_id:
        raise UnknownWave(f"wave {wave_id!r} is not a wave of the org registry")
    figures = await exit_figures(db, at=at, zone=zone, days=criteria.longest_days)
    return WaveExit.model_validate(evaluate_wave(criteria, figures, org=org, wave_id=wave_id, zone=zone))
