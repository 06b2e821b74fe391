"""Every string of every event: no C0 control (but TAB, LF, CR), no lone surrogate, strict strings; identifiers
never hold an identity number (refused, not redacted); free text is redacted. Examples, then properties."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, Literal, Union, get_args, get_origin

import pytest
from event_examples import example_event
from hypothesis import assume, given
from hypothesis import strategies as st
from pydantic import BaseModel

from hypercare.contract.events import (
    EVENT_TYPES,
    SERVER_FIELDS,
    Event,
    InvalidEvent,
    escape_unsafe_characters,
    parse_event,
    parse_event_json,
    stored_event,
    unsafe_character_problem,
)
from hypercare.privacy.redact import REDACTED, redact

MODELS: dict[str, type[BaseModel]] = {
    get_args(model.model_fields["type"].annotation)[0]: model for model in get_args(get_args(Event)[0])
}
UNIT = "SE2321000131-ESASBOR240"

# Every string field, by what it is. A new field fails test_every_string_field_is_classified until it is added
# here, so nobody adds a string field without deciding whether it is an id (refused) or free text (redacted).
ID_FIELDS = {
    "event_id", "unit_id", "source", "ticket_id", "known_issue_id", "user_ref", "walker_id", "diversion_id",
    "to_unit_ids", "decision_id", "affected_unit_ids", "linked_alert_ids", "corrects", "risk_id",
    "linked_decision_ids", "duty_id", "trigger_id",
}  # fmt: skip
FREE_TEXT_FIELDS = {
    "summary", "resolution_code", "module", "privilege", "note", "reason", "decided_by", "title", "decision",
    "rationale", "mandate", "owner", "description", "mitigation", "recorded_by", "opened_by", "reference",
    "fulfilled_by", "submitted_by", "override_reason", "assessor", "evidence",
}  # fmt: skip
CODE_FIELDS = {"role", "duty", "submitted_role", "item"}  # [a-z_]: no digits, no controls
DOCUMENT_FIELDS = {"stop_criteria", "readiness", "exit_criteria"}
C0_ALLOWED = {"\t", "\n", "\r"}
SURROGATES = ["\ud800", "\udbff", "\udc00", "\udfff"]
FORBIDDEN = [chr(code) for code in range(0x20) if chr(code) not in C0_ALLOWED] + SURROGATES


def _is_literal(annotation: Any) -> bool:
    """A Literal, an optional Literal, or a list of Literals: a closed set of values, safe by construction."""
    if get_origin(annotation) is Literal:
        return True
    if get_origin(annotation) in (Union, list) or type(annotation).__name__ == "UnionType":
        return all(_is_literal(arg) or arg is type(None) for arg in get_args(annotation))
    return False


def _holds_str(annotation: Any) -> bool:
    if annotation is str:
        return True
    return any(_holds_str(arg) for arg in get_args(annotation))


def string_fields() -> Iterator[tuple[str, str]]:
    for type_, model in MODELS.items():
        for name, info in model.model_fields.items():
            if name == "type" or _is_literal(info.annotation):
                continue
            if _holds_str(info.annotation) or name in DOCUMENT_FIELDS:
                yield type_, name


def _with(type_: str, field: str, text: str) -> tuple[dict[str, Any], str]:
    """The example event of ``type_`` with ``text`` in ``field`` (in its first element for lists; inside the
    document for ``stop_criteria``), and the location a reason names."""
    event = example_event(type_, UNIT)
    if field in DOCUMENT_FIELDS:
        event[field] = {"criteria": [{"key": text}]}
        return event, field
    if isinstance(event.get(field), list):
        event[field] = [text]
        return event, f"{field}.0"
    event[field] = text
    return event, field


def _reason(item: dict[str, Any]) -> str:
    with pytest.raises(InvalidEvent) as refused:
        parse_event(item)
    return str(refused.value)


def test_the_examples_fill_every_field_of_every_type() -> None:
    assert set(MODELS) == set(EVENT_TYPES)
    for type_, model in MODELS.items():
        # The server-only fields are stamped by the ingest API (services.ingest.actors), never sent.
        assert set(example_event(type_, UNIT)) == set(model.model_fields) - set(SERVER_FIELDS), type_
        parse_event(example_event(type_, UNIT))


def test_every_string_field_is_classified() -> None:
    names = {name for _, name in string_fields()}
    assert names == ID_FIELDS | FREE_TEXT_FIELDS | CODE_FIELDS | DOCUMENT_FIELDS


@pytest.mark.parametrize(("type_", "field"), list(string_fields()))
def test_a_control_character_in_any_string_field_is_refused_naming_the_field(type_: str, field: str) -> None:
    for char in ("\x00", "\x1f", "\x0b", "\ud800"):
        event, location = _with(type_, field, f"a{char}b")
        what = "a control character" if char < " " else "a lone surrogate"
        assert _reason(event) == f"{location}: contains {what} (U+{ord(char):04X})"
    if field not in CODE_FIELDS:
        event, _ = _with(type_, field, "a\tb\nc\rd")
        if field in ID_FIELDS - {"source"}:
            return  # ids have their own character rules; TAB, LF and CR are only ever refused by those
        parse_event(event)


@pytest.mark.parametrize("char", ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x0e", "\x1b", "\x1f"])
def test_each_forbidden_control_is_named_by_code_point(char: str) -> None:
    item = example_event("ticket.opened", UNIT, summary=f"x{char}")
    assert _reason(item) == f"summary: contains a control character (U+{ord(char):04X})"


def test_strings_are_strict_bytes_are_not_text() -> None:
    assert _reason(example_event("ticket.opened", UNIT, summary=b"x")) == "summary: Input should be a valid string"
    assert _reason(example_event("ticket.opened", UNIT, ticket_id=b"T1")) == "ticket_id: Input should be a valid string"
    assert _reason(example_event("ticket.opened", UNIT, source=7)) == "source: Input should be a valid string"


def test_the_json_path_refuses_the_same_way() -> None:
    # What the stream worker decodes: a NUL record produced past ingest is invalid there too (dead-lettered).
    raw = json.dumps(example_event("ticket.opened", UNIT, summary="nul \u0000 here")).encode()
    with pytest.raises(InvalidEvent, match=r"^summary: contains a control character \(U\+0000\)$"):
        parse_event_json(raw)
    raw = json.dumps(example_event("ticket.opened", UNIT, ticket_id="T\ud800")).encode()
    with pytest.raises(InvalidEvent, match=r"^ticket_id: contains a lone surrogate \(U\+D800\)$"):
        parse_event_json(raw)


IDENTITY_NUMBERS = ["191212-1212", "19121212-1212", "pnr191212-1212", "X.20191212.1212", "P1912121212"]


@pytest.mark.parametrize("field", sorted(ID_FIELDS))
def test_an_identity_number_in_an_id_is_refused_never_kept(field: str) -> None:
    type_ = next(type_ for type_, name in string_fields() if name == field)
    for number in IDENTITY_NUMBERS:
        event, location = _with(type_, field, number)
        reason = _reason(event)
        assert reason.startswith(f"{location}: must ")
        assert "personal identity number" in reason
        assert number not in reason


def test_identity_numbers_with_other_separators_in_references_are_refused() -> None:
    for number in ("191212\u20131212", "191212\u00a01212", "T 191212.1212"):
        assert "personal identity number" in _reason(example_event("ticket.opened", UNIT, ticket_id=number))


def test_hsa_ids_and_ordinary_ids_pass() -> None:
    event = parse_event(
        example_event("ticket.opened", "SE2321000131-ESASBORAKM", ticket_id="INC0012345", source="serviceportal")
    )
    assert (event.unit_id, event.source) == ("SE2321000131-ESASBORAKM", "serviceportal")


def test_free_text_is_still_redacted_not_refused() -> None:
    event = parse_event(example_event("ticket.opened", UNIT, summary="pnr 191212-1212\tlinje två"))
    assert event.summary == f"pnr {REDACTED}\tlinje två"


def test_events_read_back_from_the_store_are_not_judged_again() -> None:
    # Accepted before these rules existed: readers of the store must still load them.
    old = example_event("ticket.opened", UNIT, summary="bell \x07", ticket_id="191212-1212")
    assert stored_event(old).summary == "bell \x07"


def test_quarantined_raw_text_is_escaped_storable_and_readable() -> None:
    assert escape_unsafe_characters("a\x00b\ud800c\td") == "a\\u0000b\\ud800c\td"
    assert escape_unsafe_characters("åäö 😀") == "åäö 😀"


# Properties -------------------------------------------------------------------------------------------------

PRINTABLE = st.characters(blacklist_categories=("Cc", "Cs")) | st.sampled_from(
    ["\t", "\n", "\r", "å", "ä", "ö", "Å", "Ä", "Ö", "é", "😀", "🏥", "\u00a0"]
)
STRING_FIELDS = list(string_fields())


@given(
    field=st.sampled_from(STRING_FIELDS),
    before=st.text(PRINTABLE, max_size=20),
    bad=st.sampled_from(FORBIDDEN),
    after=st.text(st.characters(codec=None), max_size=20),
)
def test_any_string_with_a_c0_control_or_lone_surrogate_is_refused(
    field: tuple[str, str], before: str, bad: str, after: str
) -> None:
    text = before + bad + after
    assert unsafe_character_problem(text) is not None
    event, location = _with(*field, text)
    what = "a control character" if bad < " " else "a lone surrogate"
    assert _reason(event) == f"{location}: contains {what} (U+{ord(bad):04X})"


@given(text=st.text(PRINTABLE, max_size=500))
def test_any_printable_free_text_passes_and_is_only_redacted(text: str) -> None:
    assert unsafe_character_problem(text) is None
    item = example_event("ticket.opened", UNIT, summary=text)
    event = parse_event(item)
    assert event.summary == redact(text)
    # The JSON path (ingest's hot path and the stream worker) agrees.
    assert parse_event_json(json.dumps(item, ensure_ascii=False).encode()) == event


@given(text=st.text(PRINTABLE, min_size=1, max_size=100))
def test_any_printable_reference_without_an_identity_number_passes(text: str) -> None:
    assume(text.strip() and redact(text) == text)
    event = parse_event(example_event("floorwalker.checkout", UNIT, walker_id=text))
    assert event.walker_id == text.strip()
