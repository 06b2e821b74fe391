"""The pure parts of the exit criteria: whole local days across a daylight-saving change, and a wave without users."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from hypercare.org.registry import OrgRegistry
from hypercare.rules.exit_criteria import load_exit_criteria
from services.wave_exit.evaluate import Day, ExitFigures, evaluate_wave
from services.wave_exit.service import whole_days

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def test_whole_days_are_local_days_of_23_or_25_hours_across_a_clock_change() -> None:
    # Summer time ended at 03:00 local on 27 October 2019: that day was 25 hours long.
    at = datetime(2019, 10, 29, 10, 0, tzinfo=STOCKHOLM)
    assert whole_days(at, STOCKHOLM, 3) == [
        (datetime(2019, 10, 25, 22, tzinfo=UTC), datetime(2019, 10, 26, 22, tzinfo=UTC)),
        (datetime(2019, 10, 26, 22, tzinfo=UTC), datetime(2019, 10, 27, 23, tzinfo=UTC)),
        (datetime(2019, 10, 27, 23, tzinfo=UTC), datetime(2019, 10, 28, 23, tzinfo=UTC)),
    ]
    assert whole_days(at, STOCKHOLM, 0) == []


def test_a_wave_whose_units_have_no_staff_is_not_assessed_on_the_daily_rate() -> None:
    org = OrgRegistry.model_validate(
        {
            "region": {"id": "R", "name": "Regionen"},
            "waves": [{"id": "w1", "name": "Våg 1", "status": "live", "actual_go_live": "2019-10-20T06:00:00+02:00"}],
            "administrations": [
                {
                    "id": "F",
                    "name": "Förvaltning",
                    "sites": [
                        {"id": "S", "name": "Plats", "wave": "w1", "units": [{"id": "U", "name": "U", "staff": 0}]}
                    ],
                }
            ],
        }
    )
    at = datetime(2019, 10, 29, 10, 0, tzinfo=STOCKHOLM).astimezone(UTC)
    days = [Day(start=start, end=end, opened=Counter({"U": 4})) for start, end in whole_days(at, STOCKHOLM, 3)]
    document = evaluate_wave(load_exit_criteria(), ExitFigures(at=at, days=days), org=org, wave_id="w1", zone=STOCKHOLM)
    daily = document["criteria"][0]
    assert (daily["state"], daily["value"], daily["reason"]) == (
        "not_assessed",
        None,
        "Vågens enheter har inga användare (staff 0)",
    )
    assert [(d["day"], d["opened"], d["per_100_users"]) for d in daily["daily"]] == [
        ("2019-10-26", 4, 0.0),
        ("2019-10-27", 4, 0.0),
        ("2019-10-28", 4, 0.0),
    ]
    assert (document["users"], document["overall"]) == (0, "not_assessed")
