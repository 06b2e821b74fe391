"""Reading NDJSON and CSV for ``hypercare send``: line numbers, offsets, per-line errors, CSV cells typed by the
contract (every event type's example read back from a CSV row is the same event)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from typing import Any

import pytest
from event_examples import example_event
from hypothesis import given
from hypothesis import strategies as st

from hypercare.contract.events import EVENT_TYPES, event_to_json, parse_event
from hypercare.entrypoints.transfer.records import (
    InputError,
    Record,
    cell_value,
    format_of,
    read_csv,
    read_ndjson,
    row_to_event,
    translated,
)

UNIT = "SE2321000131-ESASBORAKM"


def ndjson(data: bytes) -> list[Record]:
    return list(read_ndjson(io.BytesIO(data)))


def test_ndjson_lines_offsets_and_errors() -> None:
    data = (
        b'\xef\xbb\xbf{"a": 1}\n'  # a byte order mark is skipped
        b"\n"  # blank lines are no records, but count as lines
        b"not json\n"
        b"[1, 2]\n"
        b'{"b": "\xff"}\n'
        b'{"c": "\xc3\xa5"}'  # no newline at the end
    )
    records = ndjson(data)
    assert [(r.line, r.data, r.error is None) for r in records] == [
        (1, {"a": 1}, True),
        (3, None, False),
        (4, None, False),
        (5, None, False),
        (6, {"c": "å"}, True),
    ]
    assert records[1].error == "not valid JSON: Expecting value at column 1"
    assert records[2].error == "an event must be a JSON object, not list"
    assert records[3].error is not None and "not UTF-8" in records[3].error
    for record in records:
        assert record.digest == hashlib.sha256(data[: record.end]).hexdigest()
    assert records[-1].end == len(data)


@given(
    st.lists(
        st.tuples(
            st.dictionaries(st.text(max_size=5), st.one_of(st.integers(), st.text(max_size=10)), max_size=3),
            st.integers(min_value=0, max_value=2),
        ),
        max_size=12,
    )
)
def test_ndjson_reads_back_every_object_with_its_line(items: list[tuple[dict[str, Any], int]]) -> None:
    lines: list[str] = []
    want: list[tuple[int, dict[str, Any]]] = []
    for item, blanks in items:
        lines += [""] * blanks
        lines.append(json.dumps(item, ensure_ascii=False))
        want.append((len(lines), item))
    data = "".join(line + "\n" for line in lines).encode()
    records = ndjson(data)
    assert [(r.line, r.data) for r in records] == want
    ends = [r.end for r in records]
    assert ends == sorted(ends) and (not ends or ends[-1] == len(data))


def as_cell(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "|".join(value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


@pytest.mark.parametrize("delimiter", [",", ";"])
def test_every_event_type_read_back_from_a_csv_row_is_the_same_event(delimiter: str) -> None:
    examples = [example_event(event_type, UNIT) for event_type in EVENT_TYPES]
    columns = sorted({name for example in examples for name in example})
    text = io.StringIO()
    writer = csv.writer(text, delimiter=delimiter)
    writer.writerow(columns)
    for example in examples:
        writer.writerow([as_cell(example[name]) if name in example else "" for name in columns])
    records = list(read_csv(io.BytesIO(text.getvalue().encode())))
    assert [r.error for r in records] == [None] * len(examples)
    assert [r.line for r in records] == list(range(2, 2 + len(examples)))
    for record, example in zip(records, examples, strict=True):
        assert event_to_json(parse_event(record.data)) == event_to_json(parse_event(example)), example["type"]


def test_csv_cells_dotted_columns_quoted_lines_and_problems() -> None:
    data = (
        "type;event_id;occurred_at;unit_id;priority;patient_safety;summary;stop_criteria.state;stop_criteria.limit\n"
        'ticket.opened;e1;2026-12-01T08:00:00+01:00;U1;2;ja;"två\nrader";;\n'
        "\n"
        "decision.recorded;e2;2026-12-01T08:00:00+01:00;U1;;;;within;0.05\n"
        "ticket.opened;e3;2026-12-01T08:00:00+01:00;U1;x2;nej;;;;extra\n"
        "ticket.opened;e4;2026-12-01T08:00:00+01:00;U1;1;false;kort\n"
    ).encode()
    records = list(read_csv(io.BytesIO(data)))
    assert [(r.line, r.error) for r in records] == [
        (2, None),
        (5, None),
        (6, "10 cells, but the header names 9 columns"),
        (7, None),  # fewer cells than columns: the rest is empty
    ]
    assert records[0].data == {
        "type": "ticket.opened",
        "event_id": "e1",
        "occurred_at": "2026-12-01T08:00:00+01:00",
        "unit_id": "U1",
        "priority": 2,
        "patient_safety": True,
        "summary": "två\nrader",
    }
    assert records[1].data is not None and records[1].data["stop_criteria"] == {"state": "within", "limit": 0.05}
    assert records[3].data is not None and records[3].data["patient_safety"] is False


def test_a_cell_that_is_not_its_fields_type_is_sent_as_text() -> None:
    header = ["type", "priority", "categories", "value"]
    assert row_to_event(header, ["ticket.opened", "två", "", ""]) == {"type": "ticket.opened", "priority": "två"}
    assert row_to_event(header, ["floorwalker.checkin", "", '["login","lab"]', ""])["categories"] == ["login", "lab"]
    # A readiness value: a number (never 1 read as true) or a check (ja/nej, true/false).
    assert row_to_event(header, ["readiness.assessed", "", "", "1"])["value"] == 1
    assert row_to_event(header, ["readiness.assessed", "", "", "92,5"])["value"] == 92.5
    assert row_to_event(header, ["readiness.assessed", "", "", "Ja"])["value"] is True


@pytest.mark.parametrize(
    ("header", "problem"),
    [("", "no column names"), ("type,,unit_id", "column 2 has no name"), ("type,a,a", "'a' appears twice")],
)
def test_csv_header_problems_stop_before_anything(header: str, problem: str) -> None:
    with pytest.raises(InputError, match=problem):
        list(read_csv(io.BytesIO(f"{header}\nx,y,z\n".encode())))


@given(st.integers(), st.booleans())
def test_cell_values_round_trip(number: int, flag: bool) -> None:
    assert cell_value(str(number), frozenset({"integer"})) == number
    assert cell_value(as_cell(flag), frozenset({"boolean"})) is flag
    assert cell_value(f" {number} ", frozenset({"string"})) == f" {number} "


def test_format_by_extension_or_option() -> None:
    assert format_of("a.CSV", None) == "csv"
    assert format_of("a.ndjson", None) == "ndjson"
    assert format_of("-", None) == "ndjson"
    assert format_of("a.txt", "csv") == "csv"
    with pytest.raises(InputError):
        format_of("a", "xml")


def test_translate_errors_become_line_errors() -> None:
    def translate(data: dict[str, Any]) -> list[dict[str, Any]]:
        if "bad" in data:
            raise ValueError("bad: no mapping for it")
        return [{**data, "part": part} for part in range(data.get("parts", 1))]

    records = list(translated(ndjson(b'{"ok": 1}\n{"bad": 1}\nnope\n{"parts": 2}\n{"parts": 0}\n'), translate))
    assert [(r.line, r.events, r.error) for r in records] == [
        (1, ({"ok": 1, "part": 0},), None),
        (2, (), "bad: no mapping for it"),
        (3, (), "not valid JSON: Expecting value at column 1"),
        (4, ({"parts": 2, "part": 0}, {"parts": 2, "part": 1}), None),
        (5, (), None),  # a record that gives no event: nothing sent, no problem
    ]


@given(
    st.lists(
        st.text(alphabet=st.sampled_from([*'ab åÖ,;"\n\r\t|[{', "\u2028"]), max_size=12),
        min_size=1,
        max_size=5,
    ),
    st.sampled_from([",", ";"]),
)
def test_any_text_cell_reads_back_as_written(summaries: list[str], delimiter: str) -> None:
    text = io.StringIO()
    writer = csv.writer(text, delimiter=delimiter)  # lines end in CRLF, as Excel writes them
    writer.writerow(["type", "summary", "priority"])
    for summary in summaries:
        writer.writerow(["ticket.opened", summary, "2"])
    records = list(read_csv(io.BytesIO(text.getvalue().encode())))
    want = [{"type": "ticket.opened", "priority": 2} | ({"summary": s} if s else {}) for s in summaries]
    assert [r.data for r in records] == want
    assert [r.error for r in records] == [None] * len(summaries)
