"""``hypercare send FILE|-`` (and the sending half of ``hypercare replay``): read, translate, post, summarise.

Exit status: 0 when every record was accepted; 1 when any line was rejected by the API or could not be read
(each reported by line); 2 when the input, the token or the progress file is unusable (nothing sent); 3 when
the run stopped on the way (the API refused a whole request, or kept failing): run it again to go on.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TextIO

from pydantic import SecretStr

from hypercare.entrypoints.transfer.display import BarReporter, LineReporter, summary
from hypercare.entrypoints.transfer.records import (
    Format,
    InputError,
    Record,
    Translate,
    identity,
    read_records,
    translated,
)
from hypercare.entrypoints.transfer.sender import ResumeMismatch, Sender, SendOptions, Stopped
from hypercare.entrypoints.transfer.state import Progress, StateError, default_path, load

OK, REJECTED, UNUSABLE, STOPPED = 0, 1, 2, 3


class UsageProblem(ValueError):
    """The command cannot start (no token, an unreadable file or progress file): exit status 2."""


def read_token(token_file: Path | None, from_settings: SecretStr | None) -> str:
    """The API token: from ``--token-file`` when given, else ``HYPERCARE_TOKEN``; never from the command line."""
    if token_file is not None:
        try:
            token = token_file.read_text(encoding="utf-8").strip()
        except OSError as error:
            raise UsageProblem(f"--token-file {token_file}: {error.strerror}") from None
        if not token:
            raise UsageProblem(f"--token-file {token_file}: the file is empty")
        return token
    if from_settings is not None and from_settings.get_secret_value().strip():
        return from_settings.get_secret_value().strip()
    raise UsageProblem("no API token: set HYPERCARE_TOKEN or give --token-file FILE")


def state_path_for(source: str, state: Path | None, suffix: str = ".hcsend") -> Path | None:
    """``--state`` when given; next to an input file otherwise; none for standard input without ``--state``."""
    if state is not None:
        return state
    return None if source == "-" else default_path(Path(source), suffix)


@contextmanager
def open_input(source: str) -> Iterator[tuple[BinaryIO, int | None]]:
    """The input as bytes, with its size when it is a regular file (for the progress bar)."""
    if source == "-":
        yield sys.stdin.buffer, None
        return
    path = Path(source)
    try:
        stream = path.open("rb")
    except OSError as error:
        raise UsageProblem(f"{source}: {error.strerror}") from None
    with stream:
        size = path.stat().st_size if path.is_file() else None
        yield stream, size


@dataclass(frozen=True)
class Transfer:
    source: str  # a path, or "-" for standard input
    fmt: Format
    state_path: Path | None
    options: SendOptions
    token: str
    translate: Translate = identity


def load_progress(state_path: Path | None) -> Progress:
    if state_path is None:
        return Progress()
    try:
        return load(state_path) or Progress()
    except StateError as error:
        raise UsageProblem(str(error)) from None


def run_transfer(
    transfer: Transfer,
    progress: Progress,
    *,
    err: TextIO,
    out: TextIO,
    due: Callable[[Record], float | None] | None = None,
) -> int:
    """Send the input after ``progress``; print the summary to ``out``; the exit status."""
    label = "-" if transfer.source == "-" else transfer.source
    resumed_after = progress.line
    if resumed_after:
        print(f"{label}: going on after line {resumed_after:,} (progress file {transfer.state_path})", file=err)
    with open_input(transfer.source) as (stream, size):
        reporter: BarReporter | LineReporter = (
            BarReporter(label, size) if err.isatty() else LineReporter(label, size, err)
        )
        problem: str | None = None
        try:
            with Sender(transfer.options, transfer.token, reporter) as sender:
                records = translated(read_records(stream, transfer.fmt), transfer.translate)
                sender.run(records, progress, transfer.state_path, due=due)
        except InputError as error:
            status, problem = UNUSABLE, str(error)
        except ResumeMismatch as error:
            status, problem = UNUSABLE, f"{error}; remove {transfer.state_path} to send it from the start"
        except Stopped as error:
            status, problem = STOPPED, f"stopped: {error}"
        except OSError as error:  # the progress file cannot be written, the input not read on
            status, problem = STOPPED, f"stopped: {error.filename or 'input'}: {error.strerror or error}"
        except KeyboardInterrupt:
            status, problem = STOPPED, "stopped: interrupted"
        else:
            status = OK
        finally:
            reporter.close()
    if problem is not None:
        print(f"{label}: {problem}", file=err)
        if status == UNUSABLE:
            return status
    for line in summary(label, progress, resumed_after=resumed_after):
        print(line, file=out)
    out.flush()
    if status == OK and (progress.tally.rejected or progress.tally.unreadable):
        status = REJECTED
    return status


__all__ = [
    "OK",
    "REJECTED",
    "STOPPED",
    "UNUSABLE",
    "Transfer",
    "UsageProblem",
    "load_progress",
    "open_input",
    "read_token",
    "run_transfer",
    "state_path_for",
]
