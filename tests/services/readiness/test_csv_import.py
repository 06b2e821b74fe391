"""The readiness sheet's own reading: separators, the byte order mark, values, and refusals by line."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.readiness.csv_import import ReadinessFileError, parse_sheet, parse_value

NOW = datetime(2025, 2, 10, 13, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("92", 92.0),
        ("92,5", 92.5),
        ("92.5 %", 92.5),
        ("100%", 100.0),
        ("\u00a092 %", 92.0),
        ("Ja", True),
        ("nej", False),
        ("YES", True),
        ("no", False),
        ("true", True),
        ("False", False),
    ],
)
def test_values_as_spreadsheets_write_them(text: str, value: bool | float) -> None:
    parsed = parse_value(text)
    assert parsed == value and type(parsed) is type(value)


def test_semicolons_a_bom_and_rows_refused_with_their_line_numbers() -> None:
    text = (
        "\ufeffUNIT_ID ; Item ; Value\r\n"
        "U1;staff_trained;91\r\n"
        "\r\n"
        "U2;staff_trained;kanske\r\n"
        "U3;;90\r\n"
        "U4;staff_trained;90;extra\r\n"
        'U5;devices_verified;"ja"\r\n'
    )
    sheet = parse_sheet(text, now=NOW)
    assert [(row.line, row.event["unit_id"], row.event["value"]) for row in sheet.events] == [
        (2, "U1", 91.0),
        (7, "U5", True),
    ]
    assert sheet.events[0].event["occurred_at"] == NOW.isoformat()  # no assessed_at column: the import's time
    assert "assessor" not in sheet.events[0].event  # a person's token: the server fills it in
    assert sheet.rejects == [
        (4, "value: must be ja/nej (yes/no, true/false) for a check or a number 0–100 for a percent"),
        (5, "item: empty"),
        (6, "4 cells, the header has 3"),
    ]


def test_commas_with_quoted_cells() -> None:
    text = 'unit_id,item,value,evidence\nU1,permissions_matched,"88,5","Matchning, vecka 48"\n'
    (row,) = parse_sheet(text, now=NOW).events
    assert (row.line, row.event["value"], row.event["evidence"]) == (2, 88.5, "Matchning, vecka 48")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "line 1: a header row is needed (unit_id, item, value[, assessed_at, assessor, evidence])"),
        ("unit;item;value\n", "line 1: missing column unit_id (columns: unit, item, value)"),
        (
            "unit_id;item;value;score\n",
            "line 1: unknown column score; use unit_id, item, value, assessed_at, assessor, evidence",
        ),
    ],
)
def test_a_file_that_is_no_readiness_sheet(text: str, reason: str) -> None:
    with pytest.raises(ReadinessFileError) as refused:
        parse_sheet(text, now=NOW)
    assert str(refused.value) == reason
