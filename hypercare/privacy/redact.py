"""Redaction of Swedish personal identity numbers (personnummer, samordningsnummer, reserve numbers).

Hypercare must never hold a patient's or staff member's identity. Every candidate whose date part is
a real calendar date is redacted, whether or not its Luhn check digit holds: a mistyped number
still identifies a person (DOMAIN.md).
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache

REDACTED = "[personnummer borttaget]"

# What people type between the date and the last four digits: hyphen, plus (100 years and older), space, and
# what word processors and copy-paste make of them (en/em/figure dash, minus sign, non-breaking hyphen, dot,
# no-break and narrow no-break space).
SEPARATORS = "-+ .\u2010\u2011\u2012\u2013\u2014\u2212\u00a0\u202f"
# YYMMDD or YYYYMMDD, an optional separator, 3 digits and a check digit. Any non-digit may stand before it
# ("P191212-1212", "pnr:191212-1212"), as in DOMAIN.md's pattern. Day 61-91 is a samordningsnummer (day + 60).
# Organisation numbers (HSA prefixes such as SE2321000131) never match: their month digits are 20 or more.
_PNR = re.compile(
    r"(?<!\d)(?P<century>18|19|20)?(?P<yy>\d{2})(?P<mm>0[1-9]|1[0-2])"
    r"(?P<dd>0[1-9]|[12]\d|3[01]|6[1-9]|[78]\d|9[01])[" + re.escape(SEPARATORS) + r"]?\d{4}(?!\d)"
)
# Region Västra Götaland reserve numbers: yyyymmdd + K/M/X + two digits + a check character.
_RESERVE = re.compile(
    r"(?<!\d)(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])[KMX]\d{2}[0-9A-Z](?![\dA-Za-z])"
)


# Every candidate of both patterns holds six digits in a row (YYMMDD, or the last six of YYYYMMDD) followed by four
# digits (with at most one separator between) or by a reserve number's K/M/X: text without such a run holds none.
# Checked in C first, it spares the full patterns for almost every id and text (UUIDs, unit ids with their ten-digit
# HSA prefix, event and ticket ids with a serial number, free text with a time).
_CANDIDATE = re.compile(r"\d{6}(?:[" + re.escape(SEPARATORS) + r"]?\d{4}|[KMX])")


def luhn_valid(ten_digits: str) -> bool:
    """Swedish check-digit rule over YYMMDDNNNC."""
    total = 0
    for index, char in enumerate(ten_digits[:9]):
        product = int(char) * (2 if index % 2 == 0 else 1)
        total += product // 10 + product % 10
    return (10 - total % 10) % 10 == int(ten_digits[9])


def _is_calendar_date(century: str | None, yy: str, mm: str, dd: str) -> bool:
    day = int(dd)
    if day > 60:
        day -= 60
    years = [int(century + yy)] if century else [1900 + int(yy), 2000 + int(yy)]
    for year in years:
        try:
            date(year, int(mm), day)
        except ValueError:
            continue
        return True
    return False


def _replace_pnr(match: re.Match[str]) -> str:
    if _is_calendar_date(match["century"], match["yy"], match["mm"], match["dd"]):
        return REDACTED
    return match.group(0)


def redact(text: str) -> str:
    """Return ``text`` with every identity-number candidate replaced by a marker."""
    if _CANDIDATE.search(text) is None:  # the common case: it runs for every string of every event
        return text
    text = _RESERVE.sub(REDACTED, text)
    return _PNR.sub(_replace_pnr, text)


# In an identifier, a run of hex digits is one token: a UUID or a hash whose digits happen to form a date and four
# more is random, not a person. So in ids a candidate must not touch a hex digit or letter on either side:
# "pat-191212-1212", "P191212-1212" and "19121212-1212" are found, "ab121212-1234-…" (a UUID) is not.
_PNR_IN_ID = re.compile(
    r"(?<![0-9A-Fa-f])" + _PNR.pattern.removeprefix(r"(?<!\d)").removesuffix(r"(?!\d)") + r"(?![0-9A-Fa-f])"
)


@lru_cache(maxsize=65_536)
def identifier_holds_identity_number(value: str) -> bool:
    """Whether an id (stored and shown as it is, never redacted) holds an identity number; see ``_PNR_IN_ID``.

    Remembered for the most recent 65,536 ids (at most 128 characters each as the contract allows, a few MB): the
    same unit ids (whose HSA prefix is ten digits, so the full patterns run) and user refs come in every event.
    """
    if _CANDIDATE.search(value) is None:
        return False
    if _RESERVE.search(value):
        return True
    return any(_is_calendar_date(m["century"], m["yy"], m["mm"], m["dd"]) for m in _PNR_IN_ID.finditer(value))


def contains_identity_number(text: str) -> bool:
    """Whether ``text`` holds anything :func:`redact` would remove (ids that do are refused, never stored)."""
    return redact(text) != text
