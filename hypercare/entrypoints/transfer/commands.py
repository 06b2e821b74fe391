"""The three commands behind ``hypercare send``, ``export`` and ``replay`` (the typer layer only parses options)."""

from __future__ import annotations

import re
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from hypercare.entrypoints.simulator.command import api_base_url
from hypercare.entrypoints.transfer.export import export_to, parse_instant
from hypercare.entrypoints.transfer.records import InputError, format_of
from hypercare.entrypoints.transfer.replay import ahead_problem, pacing, parse_speed, replay_translation, scan
from hypercare.entrypoints.transfer.send import (
    UNUSABLE,
    Transfer,
    UsageProblem,
    load_progress,
    read_token,
    run_transfer,
    state_path_for,
)
from hypercare.entrypoints.transfer.sender import SendOptions
from hypercare.entrypoints.transfer.state import save
from hypercare.settings import Settings
from hypercare.storage.errors import describe

SOURCE_NAME = re.compile(r"[a-z][a-z0-9_-]{0,31}")  # a mapping's ``source`` (hypercare.sources.mapping)


@dataclass(frozen=True)
class SendArguments:
    source: str
    url: str | None
    token_file: Path | None
    fmt: str | None
    state: Path | None
    batch_size: int
    give_up_after: float
    mapping_source: str | None = None  # post raw records to this source's mapping instead of contract events
    timezone: str | None = None  # with mapping_source: what a time without an offset means


def _transfer(settings: Settings, args: SendArguments, *, suffix: str = ".hcsend") -> Transfer:
    return Transfer(
        source=args.source,
        fmt=format_of(args.source, args.fmt),
        state_path=state_path_for(args.source, args.state, suffix),
        options=SendOptions(
            url=(args.url or api_base_url(settings)).rstrip("/"),
            batch_size=args.batch_size,
            give_up_after=args.give_up_after,
            **_endpoint(args),
        ),
        token=read_token(args.token_file, settings.token),
    )


def _endpoint(args: SendArguments) -> dict[str, Any]:
    """The contract-event ingest, or (``--source``) the source's records endpoint with its mapping."""
    if args.mapping_source is None:
        if args.timezone is not None:
            raise UsageProblem("--timezone goes with --source (contract events carry their offsets)")
        return {}
    if not SOURCE_NAME.fullmatch(args.mapping_source):
        raise UsageProblem(
            f"--source: {args.mapping_source[:40]!r} is not a source name"
            " (a lower-case letter, then letters, digits, _ and -)"
        )
    params = {"timezone": args.timezone} if args.timezone is not None else {}
    return {"path": f"/api/v1/sources/{args.mapping_source}/records", "params": params}


def send_command(settings: Settings, args: SendArguments) -> int:
    try:
        transfer = _transfer(settings, args)
        progress = load_progress(transfer.state_path)
    except (UsageProblem, InputError) as error:
        print(error, file=sys.stderr)
        return UNUSABLE
    return run_transfer(transfer, progress, err=sys.stderr, out=sys.stdout)


def export_command(settings: Settings, *, since: str, until: str, out: Path | None) -> int:
    try:
        start, end = parse_instant("--from", since), parse_instant("--to", until)
    except ValueError as error:
        print(error, file=sys.stderr)
        return UNUSABLE
    if end <= start:
        print("--to must be later than --from", file=sys.stderr)
        return UNUSABLE
    try:
        count = export_to(settings.effective_database_url, since=start, until=end, path=out)
    except SQLAlchemyError as error:
        print(f"cannot read the event store: {describe(error)}", file=sys.stderr)
        return UNUSABLE
    except OSError as error:
        print(f"{error.filename or out}: {error.strerror or error}", file=sys.stderr)
        return UNUSABLE
    print(f"{count:,} events exported ({start.isoformat()} to {end.isoformat()})", file=sys.stderr)
    return 0


def replay_command(settings: Settings, args: SendArguments, *, speed: str, shift_to: str) -> int:
    """Replay a recorded file; the shift is fixed by the first run (kept in the progress file)."""
    if args.source == "-":
        print("replay reads a file (it is read twice: once for its time span)", file=sys.stderr)
        return UNUSABLE
    try:
        factor = parse_speed(speed)
        transfer = _transfer(settings, args, suffix=".hcreplay")
        progress = load_progress(transfer.state_path)
        span = scan(Path(args.source), transfer.fmt)
    except (UsageProblem, InputError, ValueError) as error:
        print(error, file=sys.stderr)
        return UNUSABLE
    except OSError as error:
        print(f"{args.source}: {error.strerror}", file=sys.stderr)
        return UNUSABLE
    if span is None:
        print(f"{args.source}: no event with an occurred_at to replay", file=sys.stderr)
        return UNUSABLE
    now = datetime.now(UTC)
    stored = progress.meta.get("shift_to")
    try:
        target = now if shift_to.strip().lower() == "now" else parse_instant("--shift-to", shift_to)
    except ValueError as error:
        print(error, file=sys.stderr)
        return UNUSABLE
    if stored is not None:
        kept = datetime.fromisoformat(stored)
        if shift_to.strip().lower() != "now" and target != kept:
            print(
                f"{transfer.state_path} was written for --shift-to {stored}; remove it to replay with another shift",
                file=sys.stderr,
            )
            return UNUSABLE
        target = kept
    else:
        problem = ahead_problem(span, target, factor, now)
        if problem is not None:
            print(problem, file=sys.stderr)
            return UNUSABLE
        progress.meta["shift_to"] = target.isoformat()
        if transfer.state_path is not None:
            save(transfer.state_path, progress)  # the shift (and so the ids) is fixed before anything is sent
    shift = target - span.first
    print(
        f"{args.source}: {span.events:,} events from {span.first.isoformat()} to {span.last.isoformat()}, "
        f"replayed from {target.isoformat()} at {'max' if factor is None else f'{factor:g}x'} speed",
        file=sys.stderr,
    )
    due = None if factor is None else pacing(target, factor, time.monotonic)
    replay = Transfer(
        source=transfer.source,
        fmt=transfer.fmt,
        state_path=transfer.state_path,
        options=transfer.options,
        token=transfer.token,
        translate=replay_translation(shift),
    )
    return run_transfer(replay, progress, err=sys.stderr, out=sys.stdout, due=due)


__all__ = ["SendArguments", "export_command", "replay_command", "send_command"]
