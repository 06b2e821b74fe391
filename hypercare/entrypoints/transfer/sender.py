"""Posting records to ``POST /api/v1/events`` (or a source's records endpoint) in batches: retries, backoff,
per-item results, resumable.

One batch is in flight at a time. A batch the API did not answer for (a broken connection, a timeout), or
answered 429 (rate limit), 502, 503 or 504 is sent again after an exponential backoff with jitter, never sooner
than the answer's ``Retry-After``; the event ids make a resend harmless. Any other answer that is not a
per-item result (401, a 403 or 413 without items, a 500) stops the run: retrying cannot help, and the progress
file lets a later run go on from the last acknowledged batch. A batch retried longer than ``give_up_after``
seconds stops the run the same way.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Protocol

import httpx

from hypercare.entrypoints.transfer.records import Record
from hypercare.entrypoints.transfer.state import Progress, save

RETRY_STATUSES = frozenset({429, 502, 503, 504})
BACKOFF_BASE = 0.5
BACKOFF_CAP = 30.0
# A Retry-After beyond this is not waited for as given (a confused proxy); the batch's give-up time still holds.
RETRY_AFTER_CAP = 300.0


class Stopped(Exception):
    """The run stopped before the end of the input (the API refused the whole request, or never answered):
    what was acknowledged is in the progress file, and the message says what happened."""


class Reporter(Protocol):
    def acknowledged(self, progress: Progress) -> None: ...

    def note(self, message: str) -> None: ...


@dataclass(frozen=True)
class SendOptions:
    url: str  # the API's base URL
    # Where batches go: the ingest API for contract events, or a source's records endpoint (its mapping turns each
    # raw record into events on the server, and refuses and quarantines what it cannot translate).
    path: str = "/api/v1/events"
    params: dict[str, str] = field(default_factory=dict)
    batch_size: int = 1000
    max_batch_bytes: int = 1_000_000  # well under the API's default body limit of 5 MiB
    give_up_after: float = 300.0  # seconds of retrying one batch before the run stops
    timeout: float = 60.0


def backoff_delay(attempt: int, retry_after: float | None, rng: random.Random) -> float:
    """Seconds to wait before attempt ``attempt + 1`` (``attempt`` >= 1 failed so far).

    Without ``Retry-After``: "equal jitter", half of ``min(cap, base · 2^(attempt-1))`` plus a random part of the
    other half, so clients that failed together do not come back together. With it: that many seconds (capped at
    :data:`RETRY_AFTER_CAP`), never sooner, plus up to a tenth more (at most a second) of jitter.
    """
    if retry_after is not None:
        wait = min(max(retry_after, 0.0), RETRY_AFTER_CAP)
        return wait + rng.uniform(0.0, min(1.0, 0.1 * wait + 0.05))
    ceiling: float = min(BACKOFF_CAP, BACKOFF_BASE * 2.0 ** min(max(attempt - 1, 0), 30))
    return ceiling / 2 + rng.uniform(0.0, ceiling / 2)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """``Retry-After`` as seconds from ``now``: delta-seconds or an HTTP date; ``None`` if absent or unreadable."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def encode(data: dict[str, Any]) -> str:
    """One NDJSON line. ASCII only: the API splits lines as Python does, which breaks at U+2028 and kin too."""
    return json.dumps(data, ensure_ascii=True, separators=(",", ":"))


@dataclass
class _Batch:
    records: list[Record] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)  # the encoded events, in the order of ``sent``
    sent: list[Record] = field(default_factory=list)  # the record of each event
    size: int = 0

    def add(self, record: Record) -> None:
        self.records.append(record)
        for event in record.events:
            line = encode(event)
            self.lines.append(line)
            self.sent.append(record)
            self.size += len(line) + 1


@dataclass
class _Answer:
    accepted: int
    rejected: list[tuple[int, str]]  # (index in the batch, reason)


class Sender:
    """Posts batches with one token over one connection pool; see the module docstring for retries."""

    def __init__(
        self,
        options: SendOptions,
        token: str,
        reporter: Reporter,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self.options = options
        self.reporter = reporter
        self._sleep = sleep
        self._clock = clock
        self._rng = rng or random.Random()
        self._client = httpx.Client(
            base_url=options.url,
            timeout=options.timeout,
            transport=transport,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/x-ndjson"},
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Sender:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def run(
        self,
        records: Iterable[Record],
        progress: Progress,
        state_path: Path | None,
        *,
        due: Callable[[Record], float | None] | None = None,
    ) -> Progress:
        """Send the events of every record after ``progress`` (checked to be the same input), saving progress
        after each batch (a record's events go in one batch, which may hold more than ``batch_size`` for them).

        ``due`` (replay) gives the monotonic time a record may be sent at; a record not yet due first sends the
        batch gathered so far, then waits. Raises :class:`Stopped` or :class:`ResumeMismatch`.
        """
        batch = _Batch()
        skipping = progress.offset > 0
        for record in records:
            if skipping:
                if record.end < progress.offset:
                    continue
                if record.end != progress.offset or record.digest != progress.digest:
                    raise ResumeMismatch(progress)
                skipping = False
                continue
            if due is not None and record.events:
                when = due(record)
                if when is not None and when > self._clock():
                    if batch.records:
                        self._flush(batch, progress, state_path)
                        batch = _Batch()
                    wait = when - self._clock()
                    if wait > 0:
                        self._sleep(wait)
            batch.add(record)
            if len(batch.sent) >= self.options.batch_size or batch.size >= self.options.max_batch_bytes:
                self._flush(batch, progress, state_path)
                batch = _Batch()
        if skipping:
            raise ResumeMismatch(progress)
        if batch.records:
            self._flush(batch, progress, state_path)
        return progress

    def _flush(self, batch: _Batch, progress: Progress, state_path: Path | None) -> None:
        answer = self._post(batch) if batch.sent else _Answer(0, [])
        tally = progress.tally
        tally.sent += len(batch.sent)
        tally.accepted += answer.accepted
        tally.rejected += len(answer.rejected)
        problems = [(record.line, record.error) for record in batch.records if record.error is not None]
        tally.unreadable += len(problems)
        problems += [(batch.sent[index].line, reason) for index, reason in answer.rejected]
        for line, reason in sorted(problems):
            tally.problem(line, reason)
        last = batch.records[-1]
        progress.offset, progress.line, progress.digest = last.end, last.line, last.digest
        if state_path is not None:
            save(state_path, progress)
        self.reporter.acknowledged(progress)

    def _post(self, batch: _Batch) -> _Answer:
        body = ("\n".join(batch.lines) + "\n").encode("ascii")
        lines = f"lines {batch.sent[0].line}–{batch.sent[-1].line}"
        started = self._clock()
        attempt = 0
        while True:
            attempt += 1
            retry_after: float | None = None
            try:
                response = self._client.post(self.options.path, content=body, params=self.options.params)
            except httpx.TransportError as error:
                problem = f"no answer from {self.options.url} ({type(error).__name__})"
            else:
                answer = _answer(response, len(batch.sent))
                if answer is not None:
                    return answer
                if response.status_code not in RETRY_STATUSES:
                    raise Stopped(f"{lines}: the API answered HTTP {response.status_code}: {_detail(response)}")
                retry_after = parse_retry_after(response.headers.get("Retry-After"), datetime.now(UTC))
                problem = f"HTTP {response.status_code}: {_detail(response)}"
            elapsed = self._clock() - started
            if elapsed >= self.options.give_up_after:
                raise Stopped(
                    f"{lines}: still failing after {attempt} attempts over {elapsed:.0f} s ({problem}); "
                    "run the command again to go on from the last acknowledged batch"
                )
            delay = backoff_delay(attempt, retry_after, self._rng)
            delay = min(delay, max(0.0, self.options.give_up_after - elapsed) + 0.1)
            self.reporter.note(f"{lines}: {problem}; retrying in {delay:.1f} s (attempt {attempt + 1})")
            self._sleep(delay)


class ResumeMismatch(Exception):
    """The input does not start with the bytes the progress file was written for."""

    def __init__(self, progress: Progress) -> None:
        super().__init__(
            f"the input does not match the progress file: it was written after line {progress.line} "
            f"(byte {progress.offset}) of an input whose first {progress.offset} bytes differ from this one's"
        )


def _answer(response: httpx.Response, count: int) -> _Answer | None:
    """The per-item result (200, or 403/422 when every item was refused), else ``None``."""
    if response.status_code not in (200, 403, 422):
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict) or not isinstance(body.get("rejected"), list) or "accepted" not in body:
        return None
    rejected = [
        (int(item["index"]), str(item["reason"]))
        for item in body["rejected"]
        if isinstance(item, dict) and isinstance(item.get("index"), int) and 0 <= item["index"] < count
    ]
    return _Answer(int(body["accepted"]), rejected)


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200] or response.reason_phrase
    detail = body.get("detail") if isinstance(body, dict) else None
    return str(detail if detail is not None else body)[:300]


__all__ = [
    "RETRY_STATUSES",
    "Reporter",
    "ResumeMismatch",
    "SendOptions",
    "Sender",
    "Stopped",
    "backoff_delay",
    "encode",
    "parse_retry_after",
]
