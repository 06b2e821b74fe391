"""Tokens never reach a log: every log record is scrubbed of token-looking text before any handler sees it.

What is removed, from the message and from every argument (``%`` args, a dict of args, an exception's
text and the stack):

- ``token=<value>`` (a query string in uvicorn's access log: the WebSocket's deprecated ``?token=``),
- ``Bearer <value>`` (an ``Authorization`` header quoted somewhere),
- ``hc_…`` (a Hypercare API token anywhere, in any form),
- ``"token": "<value>"`` (a JSON body such as the WebSocket's first message).

:func:`install` puts :class:`TokenScrubber` into the record factory, so it holds for every logger and
every handler, including the ones uvicorn and Faust configure after start; it is idempotent. Every process
calls it: the CLI (API, worker, simulator, ``up``) and :func:`services.app.create_app`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from typing import Any

REDACTED = "[redacted]"

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?i)(\btoken=)[^&\s\"'<>]+"), rf"\g<1>{REDACTED}"),
    (re.compile(r"(?i)(\bbearer\s+)[^\s\"',;]+"), rf"\g<1>{REDACTED}"),
    (re.compile(r"(?i)(\"token\"\s*:\s*\")[^\"]*"), rf"\g<1>{REDACTED}"),
    (re.compile(r"\bhc_[A-Za-z0-9_\-]{6,}"), f"hc_{REDACTED}"),
)


def scrub(text: str) -> str:
    """``text`` with every token-looking value replaced by ``[redacted]``."""
    if "token" not in text.lower() and "bearer" not in text.lower() and "hc_" not in text:
        return text
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _scrub_arg(value: Any) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    try:
        text = str(value)
    except Exception:  # an argument whose __str__ fails is the formatter's to report
        return value
    cleaned = scrub(text)
    return value if cleaned == text else cleaned


class TokenScrubber(logging.Filter):
    """A filter that rewrites a record in place (and never drops one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        scrub_record(record)
        return True


def scrub_record(record: logging.LogRecord) -> None:
    if isinstance(record.msg, str):
        record.msg = scrub(record.msg)
    else:
        record.msg = _scrub_arg(record.msg)
    if isinstance(record.args, Mapping):
        record.args = {key: _scrub_arg(value) for key, value in record.args.items()}
    elif isinstance(record.args, tuple):
        record.args = tuple(_scrub_arg(value) for value in record.args)
    if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
        record.exc_text = scrub(logging.Formatter().formatException(record.exc_info))
    elif record.exc_text:
        record.exc_text = scrub(record.exc_text)
    if record.stack_info:
        record.stack_info = scrub(record.stack_info)


_installed: list[Callable[..., logging.LogRecord]] = []


def install() -> None:
    """Scrub every record this process creates from now on (idempotent)."""
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        scrub_record(record)
        return record

    _installed.append(factory)
    logging.setLogRecordFactory(factory)
