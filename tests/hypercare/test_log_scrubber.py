"""The log scrubber: no token in any form survives into a log line."""

from __future__ import annotations

import logging
import sys

from hypercare.observability import logging as scrubbing
from hypercare.observability.logging import REDACTED, TokenScrubber, install, scrub

TOKEN = "hc_" + "a1B2-c3_D4" * 4


def test_the_scrubber_removes_every_token_form_from_text_and_record_args() -> None:
    assert TOKEN not in scrub(f"GET /ws/situation?token={TOKEN}&x=1 HTTP/1.1")
    assert "x=1" in scrub(f"GET /ws/situation?token={TOKEN}&x=1 HTTP/1.1")
    assert scrub("Authorization: Bearer abc.def-ghi") == f"Authorization: Bearer {REDACTED}"
    assert TOKEN not in scrub(f'{{"type": "auth", "token": "{TOKEN}"}}')
    assert TOKEN not in scrub(f"some text {TOKEN} more")
    plain = "hypercare_http_requests_total and no token at all"
    assert scrub(plain) == plain

    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:1", "GET", f"/x?token={TOKEN}", "1.1", 200), None,
    )  # fmt: skip
    TokenScrubber().filter(record)
    assert TOKEN not in record.getMessage() and record.args and record.args[4] == 200


def test_installed_it_scrubs_every_record_made_afterwards_exceptions_included() -> None:
    previous = logging.getLogRecordFactory()
    try:
        install()
        install()  # idempotent
        try:
            raise ValueError(f"bad token {TOKEN}")
        except ValueError:
            record = logging.getLogger("test").makeRecord(
                "test", logging.ERROR, __file__, 1, "failed: %s", ({"auth": f"Bearer {TOKEN}"},), sys.exc_info()
            )
        text = logging.Formatter().format(record)
        assert TOKEN not in text and "ValueError" in text and REDACTED in text
    finally:
        logging.setLogRecordFactory(previous)
        scrubbing._installed.clear()
