"""Identity-number redaction: no 10- or 12-digit personnummer, samordningsnummer or reserve number survives in
any written form, and ordinary numbers, organisation numbers and times do."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hypercare.org.registry import load_org
from hypercare.privacy.redact import (
    REDACTED,
    SEPARATORS,
    contains_identity_number,
    identifier_holds_identity_number,
    luhn_valid,
    redact,
)

DAYS = (date(2025, 12, 31) - date(1890, 1, 1)).days


@st.composite
def identity_numbers(draw: st.DrawFn) -> str:
    """A personnummer or samordningsnummer as people write it: 10 or 12 digits, any separator or none."""
    born = date(1890, 1, 1) + timedelta(days=draw(st.integers(0, DAYS)))
    day = born.day + (60 if draw(st.booleans()) else 0)  # samordningsnummer: day + 60
    head = f"{born.year:04d}" if draw(st.booleans()) else f"{born.year % 100:02d}"
    serial = draw(st.integers(0, 999))
    check = draw(st.integers(0, 9))  # a wrong check digit is still a person's number (a typo)
    separator = draw(st.sampled_from(["", *SEPARATORS]))
    return f"{head}{born.month:02d}{day:02d}{separator}{serial:03d}{check}"


# Text around a number: anything, except that the characters touching it are not digits.
around = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20).map(
    lambda s: re.sub(r"\d", "x", s)
)


@settings(max_examples=300)
@given(number=identity_numbers(), before=around, after=around)
def test_no_identity_number_survives(number: str, before: str, after: str) -> None:
    text = f"{before}{number}{after}"
    redacted = redact(text)
    assert number not in redacted
    assert REDACTED in redacted
    assert contains_identity_number(text)


@given(number=identity_numbers(), before=around, after=around)
def test_redaction_is_idempotent(number: str, before: str, after: str) -> None:
    once = redact(f"{before}{number}{after}")
    assert redact(once) == once


@given(value=st.integers(min_value=0, max_value=10**9 - 1))
def test_numbers_of_up_to_nine_digits_survive(value: int) -> None:
    text = f"{value} patienter väntar, {value:,} kr"
    assert redact(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "P191212-1212",
        "pnr:19121212-1212",
        "19121212–1212",  # en dash
        "191212.1212",
        "191212\u00a01212",  # no-break space
        "191212\u202f1212",
        "1912121212",
        "701063-2391",  # samordningsnummer
        "20121212K12A",  # VGR reserve number
        "patient 121212-1212 i väntrummet",
    ],
)
def test_written_forms_found_in_the_field_are_redacted(text: str) -> None:
    assert contains_identity_number(text), text


@pytest.mark.parametrize(
    "text",
    [
        "SE2321000131-ESASBORAKM",  # an HSA id: organisation numbers have month digits of 20 or more
        "SE2120001355-HEMTJANST1",
        "2024-11-12T05:30:00+01:00",
        "031-123 45 67",
        "INC0012345",
        "ticket 123456",
        "12:30-14:00",
    ],
)
def test_ordinary_ids_times_and_numbers_survive(text: str) -> None:
    assert redact(text) == text


def test_no_id_of_the_shipped_registry_looks_like_an_identity_number() -> None:
    org = load_org(None)
    ids = [
        node_id
        for admin in org.administrations
        for node_id in [admin.id, *(s.id for s in admin.sites), *(u.id for s in admin.sites for u in s.units)]
    ]
    assert ids and not [i for i in ids if contains_identity_number(i)]


def test_luhn() -> None:
    assert luhn_valid("8112189876")
    assert not luhn_valid("8112189875")


@given(value=st.uuids())
def test_a_uuid_written_as_hex_is_never_taken_for_an_identity_number(value: object) -> None:
    """Sources use UUIDs and hashes as ids: a run of hex digits is one token, whatever digits it holds."""
    assert not identifier_holds_identity_number(value.hex)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("value", "holds"),
    [
        ("pat-191212-1212", True),
        ("P191212-1212", True),
        ("19121212-1212", True),
        ("ticket_191212.1212", True),
        ("20121212K12A", True),
        ("ab121212-1234-4abc-8def-0123456789ab", False),  # a UUID whose digits happen to look like one
        ("INC0012345", False),
        ("fw-3f9a1c2b", False),
    ],
)
def test_identifiers(value: str, holds: bool) -> None:
    assert identifier_holds_identity_number(value) is holds


# Text where the patterns have something to work on: digits, every separator, the reserve letters and a few others.
_DENSE = st.text(alphabet="0123456789" + SEPARATORS + "KMXAfz-", max_size=30)


@settings(max_examples=1000)
@given(text=_DENSE, number=st.one_of(st.just(""), identity_numbers()))
def test_the_quick_precheck_never_hides_a_candidate(text: str, number: str) -> None:
    """The C precheck that spares the full patterns (``_CANDIDATE``) answers exactly as the full patterns alone."""
    from hypercare.privacy import redact as module

    for value in (text, f"{text}{number}", f"{number}{text}"):
        full_text = module._PNR.sub(module._replace_pnr, module._RESERVE.sub(REDACTED, value))
        assert redact(value) == full_text
        full_id = bool(module._RESERVE.search(value)) or any(
            module._is_calendar_date(m["century"], m["yy"], m["mm"], m["dd"]) for m in module._PNR_IN_ID.finditer(value)
        )
        assert identifier_holds_identity_number(value) is full_id
