"""What a send shows while it runs (on standard error) and the summary at its end.

On a terminal: a progress bar (rich) over the input's bytes with the counts so far. Elsewhere (a log, CI, a
pipe): one plain line every few seconds, so a long send still says how far it is. Retries are always noted.
"""

from __future__ import annotations

import time
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from hypercare.entrypoints.transfer.state import Progress as SendProgress
from hypercare.entrypoints.transfer.state import Tally

PLAIN_EVERY_SECONDS = 2.0


def _counts(tally: Tally) -> str:
    text = f"{tally.sent:,} sent, {tally.accepted:,} accepted, {tally.rejected:,} rejected"
    if tally.unreadable:
        text += f", {tally.unreadable:,} unreadable"
    return text


class BarReporter:
    """A rich progress bar on standard error (a terminal)."""

    def __init__(self, label: str, total_bytes: int | None, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self._bar = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("line {task.fields[line]:,}"),
            TextColumn("{task.fields[counts]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=self.console,
            transient=False,
        )
        self._task = self._bar.add_task(label, total=total_bytes, line=0, counts="")
        self._bar.start()

    def acknowledged(self, progress: SendProgress) -> None:
        self._bar.update(self._task, completed=progress.offset, line=progress.line, counts=_counts(progress.tally))

    def note(self, message: str) -> None:
        self._bar.console.print(message, markup=False, highlight=False)

    def close(self) -> None:
        self._bar.stop()


class LineReporter:
    """A plain progress line every :data:`PLAIN_EVERY_SECONDS` (standard error is no terminal)."""

    def __init__(self, label: str, total_bytes: int | None, out: TextIO) -> None:
        self._label = label
        self._total = total_bytes
        self._out = out
        self._last = 0.0
        self._pending: SendProgress | None = None

    def acknowledged(self, progress: SendProgress) -> None:
        self._pending = progress
        now = time.monotonic()
        if now - self._last >= PLAIN_EVERY_SECONDS:
            self._write(progress)
            self._last = now

    def _write(self, progress: SendProgress) -> None:
        share = f" ({100 * progress.offset / self._total:.0f} %)" if self._total else ""
        print(f"{self._label}: line {progress.line:,}{share}: {_counts(progress.tally)}", file=self._out, flush=True)
        self._pending = None

    def note(self, message: str) -> None:
        print(message, file=self._out, flush=True)

    def close(self) -> None:
        if self._pending is not None:
            self._write(self._pending)


def summary(label: str, progress: SendProgress, *, resumed_after: int) -> list[str]:
    """The end-of-run summary: the whole input's tally (earlier runs of a resumed send included)."""
    tally = progress.tally
    lines = [f"{label}: {_counts(tally)}" + (f" (resumed after line {resumed_after:,})" if resumed_after else "")]
    if tally.reasons:
        lines.append("problems by reason:")
        lines += [f"  {count:>8,}  {reason}" for reason, count in tally.reasons.most_common(20)]
        if len(tally.reasons) > 20:
            lines.append(f"  … and {len(tally.reasons) - 20} other reasons")
        shown = len(tally.first)
        total = tally.rejected + tally.unreadable
        lines.append(f"first {shown} of {total:,} by line:" if total > shown else "by line:")
        lines += [f"  {label}:{line}: {reason}" for line, reason in tally.first]
    return lines


__all__ = ["BarReporter", "LineReporter", "summary"]
