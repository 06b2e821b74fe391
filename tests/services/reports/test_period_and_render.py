"""Report periods (local days, DST, "since the last meeting") and rendering details, without a database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from services.reports.charts import bar_chart
from services.reports.figures import Column, Sources, cell, table
from services.reports.period import PeriodError, daily_period, since_period
from services.reports.render import footnotes, format_value, render_html, render_markdown
from services.reports.trends import buckets_for

ZONE = ZoneInfo("Europe/Stockholm")
NOW = datetime(2024, 11, 20, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("day", "hours"), [(date(2024, 11, 12), 24), (date(2024, 3, 31), 23), (date(2024, 10, 27), 25)]
)
def test_a_day_is_the_local_calendar_day_with_its_dst_length(day: date, hours: int) -> None:
    period = daily_period(day, as_of=NOW, zone=ZONE)
    assert period.start.astimezone(ZONE).hour == 0 and period.start.astimezone(ZONE).date() == day
    assert period.end - period.start == timedelta(hours=hours)
    assert period.complete and period.counted_until == period.end
    assert len(buckets_for(period).starts) == hours


def test_today_counts_to_the_snapshot_and_a_day_not_begun_is_refused() -> None:
    today = daily_period(date(2024, 11, 20), as_of=NOW, zone=ZONE)
    assert not today.complete and today.counted_until == NOW
    assert len(buckets_for(today).starts) == 10  # 00:00 to 10:00 local, hour by hour
    with pytest.raises(PeriodError, match="has not begun"):
        daily_period(date(2024, 11, 21), as_of=NOW, zone=ZONE)


def test_since_the_last_meeting_runs_to_the_snapshot_with_at_most_48_buckets() -> None:
    period = since_period(NOW - timedelta(days=3, minutes=10), as_of=NOW, zone=ZONE)
    assert (period.kind, period.day, period.end) == ("since_last_meeting", date(2024, 11, 20), NOW)
    buckets = buckets_for(period)
    assert len(buckets.starts) <= 48 and buckets.starts[-1] + buckets.size >= NOW
    with pytest.raises(PeriodError):
        since_period(NOW, as_of=NOW, zone=ZONE)


@pytest.mark.parametrize(
    ("value", "fmt", "text"),
    [
        (12, "int", "12"),
        (0.125, "percent", "12,5 %"),
        (2 / 3, "percent", "66,7 %"),
        (None, "percent", "–"),
        (3.5, "hours", "3,5"),
        (2.0, "hours", "2,0"),
        (0.25, "hours", "0,3"),
        (60.0, "decimal", "60"),
        (47.25, "decimal", "47,25"),
        (0.2, "decimal", "0,2"),
        ("2024-11-12T07:15:00+00:00", "datetime", "2024-11-12 08:15"),
        ("<b>", "text", "<b>"),
        (None, "text", ""),
    ],
)
def test_numbers_print_the_swedish_way(value: Any, fmt: str, text: str) -> None:
    assert format_value(value, fmt, ZONE) == text


def test_a_number_column_without_a_source_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="needs a source"):
        table("x", "X", [Column("n", "N")], [])
    sources = Sources(snapshot_text="2024-11-12 08:00:00")
    sources.define("a", "A.")
    with pytest.raises(KeyError):
        sources.cite("b")


def _content(note: str = "") -> dict[str, Any]:
    sources = Sources(snapshot_text="2024-11-12 08:00:00 (Europe/Stockholm)")
    sources.define("first", "Första frågan.")
    sources.define("second", "Andra frågan.")
    sources.define("own", "Cellens egen fråga.")
    rows = [{"name": "A | <img src=x onerror=alert(1)>", "n": 3, "m": cell(0.5, fmt="percent", src="own")}]
    return {
        "version": 1,
        "kind": "daily",
        "title": "Lägesbild 12 november 2024",
        "zone": "Europe/Stockholm",
        "region": {"id": "R", "name": "Regionen"},
        "as_of": "2024-11-12T07:00:00+00:00",
        "period": {
            "day": "2024-11-12",
            "start": "2024-11-11T23:00:00+00:00",
            "end": "2024-11-12T23:00:00+00:00",
            "counted_until": "2024-11-12T07:00:00+00:00",
            "complete": False,
            "text": "i dag",
        },
        "note": note,
        "stop_criteria_overall": "met",
        "sections": [
            {
                "key": "overview",
                "title": "Övergripande läge",
                "tables": [],
                "figures": [{"key": "f", "label": "Siffra", "value": 7, "fmt": "int", "src": "second"}],
            },
            {
                "key": "t",
                "title": "Tabell",
                "figures": [],
                "tables": [
                    table(
                        "t",
                        "Tabell",
                        [
                            Column("name", "Namn", "text"),
                            Column("n", "Antal", src="first"),
                            Column("m", "Andel", "percent"),
                        ],
                        rows,
                        src="second",
                    )
                ],
                "charts": [
                    {
                        "key": "c",
                        "title": "Per timme",
                        "buckets": ["2024-11-11T23:00:00+00:00"],
                        "bucket_minutes": 60,
                        "src": "first",
                        "series": [{"key": "s", "label": "Öppnade <x>", "values": [4]}],
                    }
                ],
            },
        ],
        "sources": sources.as_json(),
    }


META = {
    "id": 3,
    "status": "draft",
    "kind": "daily",
    "day": "2024-11-12",
    "created_by": "chef <b>",
    "created_at": None,
    "approved_by": None,
    "approved_at": None,
    "published_by": None,
    "published_at": None,
    "snapshot_at": "2024-11-12T07:00:00+00:00",
    "period_start": "",
    "period_end": "",
    "title": "",
}


def test_footnotes_are_numbered_in_reading_order_and_cells_cite_their_own() -> None:
    content = _content()
    assert footnotes(content) == {"second": 1, "first": 2, "own": 3}
    html = render_html(META, content)
    assert 'Antal <span class="ref">[2]</span>' in html
    assert '50,0 % <span class="ref">[3]</span>' in html
    assert "[1] Andra frågan. Ögonblicksbild 2024-11-12 08:00:00 (Europe/Stockholm)." in html


def test_free_text_cannot_become_markup_in_html_markdown_or_the_chart() -> None:
    content = _content(note="Läget *är* <script>bra</script>")
    html = render_html(META, content)
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<script>bra" not in html and "chef &lt;b&gt;" in html
    assert "Öppnade &lt;x&gt;" in html
    markdown = render_markdown(META, content)
    assert "A \\| \\<img src=x onerror=alert(1)\\>" in markdown
    assert "> Läget \\*är\\* \\<script\\>bra\\</script\\>" in markdown
    assert "| **Regionen**" not in markdown  # no total row in this table


def test_the_chart_is_plain_svg_scaled_to_a_round_maximum() -> None:
    chart = {
        "title": "T & <b>",
        "buckets": [f"2024-11-11T{h:02d}:00:00+00:00" for h in range(23, 24)],
        "bucket_minutes": 60,
        "series": [{"label": "A", "values": [7]}, {"label": "B", "values": [0]}],
    }
    svg = str(bar_chart(chart, ZONE))
    assert svg.startswith("<svg") and "<script" not in svg and "T &amp; &lt;b&gt;" in svg
    assert ">10</text>" in svg  # 7 rounds up to an axis of 10
    assert ">00:00</text>" in svg  # hours in local time
