"""The progress file of a send: how far the API has acknowledged, and the tally so far; written atomically.

After every acknowledged batch the sender writes where the input was acknowledged up to (byte offset, line,
SHA-256 of the bytes before it) and the running tally (sent, accepted, rejected per reason, the first
rejections by line). A send started again with the same progress file checks that the input starts with
the same bytes and goes on after them, so a killed send sends nothing twice but the one batch that was in
flight (which the event ids make harmless). The file is replaced in one step (written aside, flushed,
renamed), so a kill leaves the old state or the new one, never half of one.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

VERSION = 1
FIRST_REJECTIONS = 20
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")


def reason_kind(reason: str) -> str:
    """A rejection reason with its quoted values left out, so alike rejections count together."""
    return _QUOTED.sub("…", reason)


@dataclass
class Tally:
    """What happened to the input's records so far."""

    sent: int = 0
    accepted: int = 0
    rejected: int = 0
    unreadable: int = 0  # lines not sent: not JSON, not UTF-8, a CSV row that does not fit, not translatable
    reasons: Counter[str] = field(default_factory=Counter)  # reason kind → rejected or unreadable lines
    first: list[tuple[int, str]] = field(default_factory=list)  # (line, reason) of the first problems, by line

    def problem(self, line: int, reason: str) -> None:
        self.reasons[reason_kind(reason)] += 1
        if len(self.first) < FIRST_REJECTIONS:
            self.first.append((line, reason))
            self.first.sort()

    def to_json(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "unreadable": self.unreadable,
            "reasons": dict(self.reasons),
            "first": [list(item) for item in self.first],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Tally:
        return cls(
            sent=int(data["sent"]),
            accepted=int(data["accepted"]),
            rejected=int(data["rejected"]),
            unreadable=int(data["unreadable"]),
            reasons=Counter({str(k): int(v) for k, v in data["reasons"].items()}),
            first=[(int(line), str(reason)) for line, reason in data["first"]],
        )


@dataclass
class Progress:
    """Acknowledged up to ``offset`` (after line ``line``); ``meta`` is the command's own (replay: its shift)."""

    offset: int = 0
    line: int = 0
    digest: str = ""
    tally: Tally = field(default_factory=Tally)
    meta: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": VERSION,
            "offset": self.offset,
            "line": self.line,
            "sha256": self.digest,
            "tally": self.tally.to_json(),
            "meta": self.meta,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Progress:
        if data.get("version") != VERSION:
            raise ValueError(f"version {data.get('version')!r}, expected {VERSION}")
        return cls(
            offset=int(data["offset"]),
            line=int(data["line"]),
            digest=str(data["sha256"]),
            tally=Tally.from_json(data["tally"]),
            meta=dict(data.get("meta") or {}),
        )


class StateError(ValueError):
    """A progress file that cannot be read: the message says which and why."""


def load(path: Path) -> Progress | None:
    """The progress in ``path``; ``None`` when there is none yet."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        return Progress.from_json(json.loads(text))
    except (ValueError, KeyError, TypeError) as error:
        raise StateError(f"{path}: not a progress file of hypercare send ({error}); remove it to start over") from None


def save(path: Path, progress: Progress) -> None:
    """Replace ``path`` with ``progress`` in one step (a kill leaves the old file or the new one)."""
    directory = path.parent
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(progress.to_json(), out, ensure_ascii=False)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)  # the rename itself survives a crash of the machine
    finally:
        os.close(descriptor)


def default_path(input_path: Path, suffix: str = ".hcsend") -> Path:
    """The progress file next to the input: ``events.ndjson`` → ``events.ndjson.hcsend`` (a replay's:
    ``.hcreplay``, so sending and replaying one file keep apart)."""
    return input_path.with_name(input_path.name + suffix)


__all__ = ["Progress", "StateError", "Tally", "default_path", "load", "reason_kind", "save"]
