"""The decision log's CSV opens as text in a spreadsheet: no cell starts a formula."""

from __future__ import annotations

import csv
import io

from services.decisions.csv_export import COLUMNS, decisions_csv, safe_cell


def test_cells_that_would_start_a_formula_are_quoted_as_text() -> None:
    for dangerous in ('=HYPERLINK("http://x")', "+1+1", "-2", "@SUM(A1)", "\tx", "\rx"):
        assert safe_cell(dangerous) == "'" + dangerous
    assert safe_cell("Fortsätt driftstart") == "Fortsätt driftstart"
    assert safe_cell(None) == ""
    assert safe_cell(["A", "B"]) == "A; B"


def test_every_entry_is_one_row_under_the_header() -> None:
    entry = {"title": "=cmd|' /C calc'!A0", "decision": 'Pausa, "tills vidare"\nrad två', "affected_unit_ids": ["U1"]}
    rows = list(csv.reader(io.StringIO(decisions_csv([entry]))))
    assert rows[0] == list(COLUMNS)
    row = dict(zip(COLUMNS, rows[1], strict=False))
    assert row["title"] == "'=cmd|' /C calc'!A0"
    assert row["decision"] == 'Pausa, "tills vidare"\nrad två'
    assert row["affected_unit_ids"] == "U1"
