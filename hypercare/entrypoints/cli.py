"""The ``hypercare`` command."""

from __future__ import annotations

import asyncio
import logging
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from hypercare.observability.logging import install as install_log_scrubber
from hypercare.settings import get_settings

app = typer.Typer(help="Hypercare: live situation picture for an EHR go-live.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)
readiness_app = typer.Typer(help="Readiness before go-live.", no_args_is_help=True)
connector_app = typer.Typer(
    help="Connectors: fetch a source system's records and post them to /api/v1/sources/{source}/records.",
    no_args_is_help=True,
)
app.add_typer(db_app, name="db")
app.add_typer(connector_app, name="connector")
app.add_typer(token_app, name="token")
app.add_typer(readiness_app, name="readiness")


def _logging() -> None:
    install_log_scrubber()  # no token in any log line of any process (hypercare/observability/logging.py)
    settings = get_settings()
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


@app.command()
def up(
    simulate: bool = typer.Option(False, "--simulate", help="Also run the cut-over traffic generator."),
    speed: float = typer.Option(1.0, help="Simulated minutes per real minute (with --simulate)."),
    api_workers: int = typer.Option(1, "--api-workers", min=1, help="API processes (hypercare api --workers)."),
) -> None:
    """Start everything: embedded broker (unless HYPERCARE_KAFKA_BOOTSTRAP is set), migrations, worker, API."""
    from hypercare.entrypoints.up import run_up

    raise typer.Exit(run_up(get_settings(), simulate=simulate, simulate_speed=speed, api_workers=api_workers))


@app.command()
def api(
    workers: int = typer.Option(
        1,
        "--workers",
        min=1,
        help="API processes sharing the port (about one per core); each reads the whole situation topic and "
        "serves its own clients.",
    ),
) -> None:
    """Run the API and console gateway (needs a broker and a migrated database: migrations run once, before)."""
    import uvicorn

    from hypercare.rules.loader import ConfigFileError
    from services.app import create_app

    settings = get_settings()
    _logging()
    try:
        # A bad org, rules, duties or source mapping file (or a mapping's pseudonymised fields without the key)
        # refuses the start here, with its message, not in N restarting workers.
        create_app(settings)
    except ConfigFileError as error:
        typer.echo(f"hypercare api: {error}", err=True)
        raise typer.Exit(2) from None
    # An import string and a factory: with workers > 1 uvicorn starts each process from it, reading Settings from
    # the environment; migrations are not run here (`hypercare db upgrade` or `hypercare up` runs them once first).
    uvicorn.run(
        "services.app:serve_app",
        factory=True,
        workers=workers,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        ws_max_size=1 << 20,
        # HYPERCARE_WEBSOCKET_DEFLATE: compression runs once per client and message (README, measured at 1,000 clients).
        ws_per_message_deflate=settings.websocket_deflate,
    )


@app.command()
def worker() -> None:
    """Run a stream worker (scale out by running more; partitions are shared)."""
    from streams.worker import run_worker

    _logging()
    run_worker(get_settings())


@app.command()
def simulate(
    speed: float = typer.Option(1.0, help="Simulated seconds per real second."),
    seed: int = typer.Option(20241112, help="Seed of the generated day (same seed, same events)."),
    duration: float | None = typer.Option(None, help="Stop after this many real seconds (default: run on)."),
    wait_for_api: bool = typer.Option(False, "--wait-for-api", help="Wait until the API answers first."),
) -> None:
    """Post a generated cut-over day (login storm at 07:00, tickets, floor walkers, ED diversion) to the API."""
    from hypercare.entrypoints.simulator.command import simulate_command

    _logging()
    simulate_command(get_settings(), speed=speed, seed=seed, duration=duration, wait=wait_for_api)


@app.command()
def report(
    day: str | None = typer.Option(None, "--date", help="Local date YYYY-MM-DD (default: today, HYPERCARE_TIMEZONE)."),
    fmt: str = typer.Option("html", "--format", help="html, pdf or md"),
    output: str | None = typer.Option(None, "--output", "-o", help="Write to this file (default: standard output)."),
) -> None:
    """The daily situation report (lägesbild) of a date: the published one, else its draft, else a preview."""
    from datetime import date

    from hypercare.storage.migrate import upgrade_database
    from services.reports.cli import FORMATS, daily_report_document
    from services.reports.store import ReportError

    if fmt not in FORMATS:
        typer.echo(f"unknown format {fmt!r}; use html, pdf or md", err=True)
        raise typer.Exit(2)
    try:
        parsed = date.fromisoformat(day) if day else None
    except ValueError:
        typer.echo(f"--date: {day!r} is not a date YYYY-MM-DD", err=True)
        raise typer.Exit(2) from None
    if fmt == "pdf" and output is None and sys.stdout.isatty():
        typer.echo("a PDF is binary; give --output FILE or redirect standard output", err=True)
        raise typer.Exit(2)
    settings = get_settings()
    upgrade_database(settings.effective_database_url)
    try:
        document, status = asyncio.run(daily_report_document(settings, parsed, FORMATS[fmt]))
    except ReportError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from None
    if output is None:
        sys.stdout.buffer.write(document)
        sys.stdout.buffer.flush()
    else:
        with open(output, "wb") as handle:
            handle.write(document)
    typer.echo(f"report status: {status}", err=True)


_URL_HELP = "The API's base URL (default: HYPERCARE_HOST and HYPERCARE_PORT)."
_TOKEN_FILE_HELP = "A file holding the API token (default: the HYPERCARE_TOKEN environment variable)."
_STATE_HELP = "The progress file (default: next to FILE, FILE.hcsend; none for standard input)."


@app.command()
def send(
    source: Annotated[
        str, typer.Argument(metavar="FILE|-", help="NDJSON of contract-v1 events, or CSV with a header.")
    ],
    url: Annotated[str | None, typer.Option(help=_URL_HELP)] = None,
    token_file: Annotated[Path | None, typer.Option("--token-file", help=_TOKEN_FILE_HELP)] = None,
    fmt: Annotated[str | None, typer.Option("--format", help="ndjson or csv (default: by extension).")] = None,
    state: Annotated[Path | None, typer.Option("--state", help=_STATE_HELP)] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Events per request.")] = 1000,
    give_up_after: Annotated[
        float, typer.Option("--give-up-after", min=1, help="Seconds of retrying one batch before stopping.")
    ] = 300.0,
    mapping_source: Annotated[
        str | None,
        typer.Option(
            "--source",
            help="Post the file's records raw to this source's mapping (POST /api/v1/sources/NAME/records), e.g. a"
            " ServiceNow incident export as CSV or NDJSON with --source servicenow.",
        ),
    ] = None,
    timezone: Annotated[
        str | None, typer.Option(help="With --source: what a time without an offset means (IANA zone, e.g. UTC).")
    ] = None,
) -> None:
    """Send events to the ingest API in batches, with retries; a killed send started again goes on where the
    API last acknowledged. Exit 0: all accepted; 1: some rejected or unreadable; 2: unusable input; 3: stopped."""
    from hypercare.entrypoints.transfer.commands import SendArguments, send_command

    arguments = SendArguments(
        source, url, token_file, fmt, state, batch_size, give_up_after, mapping_source=mapping_source, timezone=timezone
    )
    raise typer.Exit(send_command(get_settings(), arguments))


@app.command()
def export(
    since: Annotated[str, typer.Option("--from", help="ISO time with offset; events at or after it.")],
    until: Annotated[str, typer.Option("--to", help="ISO time with offset; events before it.")],
    out: Annotated[Path | None, typer.Option("--out", help="Write to this file (default: standard output).")] = None,
) -> None:
    """Stored events (redacted) as NDJSON in event time, streamed from the configured database."""
    from hypercare.entrypoints.transfer.commands import export_command

    raise typer.Exit(export_command(get_settings(), since=since, until=until, out=out))


@app.command()
def replay(
    source: Annotated[Path, typer.Argument(metavar="FILE", help="A recorded day: the NDJSON of hypercare export.")],
    speed: Annotated[str, typer.Option(help="10x: ten times the recorded pace; max: as fast as allowed.")] = "1x",
    shift_to: Annotated[
        str, typer.Option("--shift-to", help="now or an ISO time: where the first event lands.")
    ] = "now",
    url: Annotated[str | None, typer.Option(help=_URL_HELP)] = None,
    token_file: Annotated[Path | None, typer.Option("--token-file", help=_TOKEN_FILE_HELP)] = None,
    state: Annotated[
        Path | None, typer.Option("--state", help="The progress file (default: next to FILE, FILE.hcreplay).")
    ] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Events per request.")] = 1000,
    give_up_after: Annotated[
        float, typer.Option("--give-up-after", min=1, help="Seconds of retrying one batch before stopping.")
    ] = 300.0,
) -> None:
    """Replay a recorded day with its times shifted and new event ids derived from the originals and the shift,
    through the same sender as `send` (same exit statuses)."""
    from hypercare.entrypoints.transfer.commands import SendArguments, replay_command

    arguments = SendArguments(str(source), url, token_file, "ndjson", state, batch_size, give_up_after)
    raise typer.Exit(replay_command(get_settings(), arguments, speed=speed, shift_to=shift_to))


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply all database migrations."""
    from hypercare.storage.migrate import upgrade_database

    upgrade_database(get_settings().effective_database_url)
    typer.echo("database is up to date", err=True)


@token_app.command("issue")
def token_issue(
    role: str = typer.Option(..., help="admin, chief, agent, floorwalker, viewer or source"),
    name: str = typer.Option(..., help="Who or what holds the token (unique; no personal identity numbers)."),
    families: str | None = typer.Option(
        None,
        help="Source tokens: the event families it may submit, comma-separated (tickets, access, floorwalkers, ed, "
        "readiness); without it a source may submit all of them.",
    ),
    units: str | None = typer.Option(
        None, help="Source tokens: the only unit ids (of the org registry) it may submit events for, comma-separated."
    ),
    expires: str | None = typer.Option(None, help="Expire after this long: 90d, 12h or 30m (default: never)."),
    scope: str | None = typer.Option(
        None,
        help="The org node the holder acts for: the region, an administration, a site or a unit id (default: the "
        "region). Reads show the region totals plus that subtree; writes outside it are refused.",
    ),
    sources: str | None = typer.Option(
        None,
        help="Source tokens: the source systems whose raw records it may post to /api/v1/sources/{source}/records "
        "(the `source:` of a mapping file, e.g. servicenow, entra), comma-separated.",
    ),
) -> None:
    """Print a new token (only the token, on stdout)."""
    from hypercare.org.registry import load_org
    from hypercare.storage.db import Database
    from hypercare.storage.migrate import upgrade_database
    from services.auth.roles import Role
    from services.auth.tokens import issue_token, parse_duration

    if role not in {r.value for r in Role}:
        typer.echo(f"unknown role {role!r}; use one of {', '.join(r.value for r in Role)}", err=True)
        raise typer.Exit(2)
    family_list = None if families is None else families.split(",")
    unit_list = None if units is None else [unit.strip() for unit in units.split(",") if unit.strip()]
    settings = get_settings()
    org = load_org(settings.org_file)
    if unit_list:
        unknown = [unit for unit in unit_list if not org.knows(unit)]
        if unknown:
            typer.echo(f"not units of the org registry: {', '.join(unknown)}", err=True)
            raise typer.Exit(2)
    try:
        expires_in = None if expires is None else parse_duration(expires)
    except ValueError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(2) from None
    url = settings.effective_database_url
    upgrade_database(url)

    async def issue() -> str:
        db = Database.from_url(url)
        try:
            return await issue_token(
                db,
                role=role,
                name=name,
                families=family_list,
                units=unit_list,
                expires_in=expires_in,
                scope=scope,
                org_scope_ids=org.node_ids,
                sources=None if sources is None else sources.split(","),
            )
        finally:
            await db.close()

    try:
        token = asyncio.run(issue())
    except ValueError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(2) from None
    typer.echo(token)


def _listed_cell(values: list[str] | None) -> str:
    """A token's families or sources: ``-`` when not narrowed (every family; for sources: none), else comma-joined."""
    if values is None:
        return "-"
    return ",".join(values) or "(none)"


@token_app.command("list")
def token_list() -> None:
    """Every token: id, name, role, scope, families, sources, created, expires, last used, revoked (never the token
    or its hash). The same listing as GET /api/v1/tokens."""
    from hypercare.storage.db import Database
    from hypercare.storage.migrate import upgrade_database
    from services.tokens.service import list_tokens

    url = get_settings().effective_database_url
    upgrade_database(url)

    def when(value: str | None) -> str:
        return "-" if value is None else datetime.fromisoformat(value).isoformat(timespec="seconds")

    async def rows() -> list[list[str]]:
        db = Database.from_url(url)
        try:
            return [
                [
                    str(item.id),
                    item.name,
                    item.role,
                    item.scope or "region",
                    _listed_cell(item.families),
                    _listed_cell(item.sources),
                    when(item.created_at),
                    when(item.expires_at),
                    when(item.last_used_at),
                    when(item.revoked_at),
                ]
                for item in (await list_tokens(db=db)).items
            ]
        finally:
            await db.close()

    header = ["id", "name", "role", "scope", "families", "sources", "created", "expires", "last used", "revoked"]
    table = [header, *asyncio.run(rows())]
    widths = [max(len(line[column]) for line in table) for column in range(len(table[0]))]
    for line in table:
        typer.echo("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip())


@token_app.command("revoke")
def token_revoke(
    target: str = typer.Argument(..., help="The token's name, or its id (as `token list` shows)."),
) -> None:
    """Revoke a token: refused everywhere at once here, within the token cache TTL in running API processes."""
    from hypercare.storage.db import Database
    from hypercare.storage.migrate import upgrade_database
    from services.auth.tokens import revoke_token

    url = get_settings().effective_database_url
    upgrade_database(url)

    async def revoke() -> int:
        db = Database.from_url(url)
        try:
            return await revoke_token(db, name=target)
        finally:
            await db.close()

    if asyncio.run(revoke()) == 0:
        typer.echo(f"no active token named (or with id) {target!r}", err=True)
        raise typer.Exit(1)
    typer.echo(f"revoked {target}", err=True)


@readiness_app.command("import")
def readiness_import(
    file: Annotated[
        Path, typer.Argument(help="CSV: unit_id, item, value[, assessed_at, assessor, evidence]; ; or , separated")
    ],
    token_file: Annotated[
        Path,
        typer.Option(
            "--token-file", help="A file holding the API token (a source token issued for readiness, or a chief's)."
        ),
    ],
    url: str | None = typer.Option(None, help="The API's base URL (default: HYPERCARE_HOST and HYPERCARE_PORT)."),
) -> None:
    """Post a readiness sheet (training system, permission matcher) to the ingest API; refused rows by line."""
    from hypercare.entrypoints.readiness_import import ImportFailed, post_sheet, read_sheet
    from hypercare.entrypoints.simulator.command import api_base_url
    from services.readiness.csv_import import ReadinessFileError

    try:
        token = token_file.read_text(encoding="utf-8").strip()
        sheet = read_sheet(file)
    except OSError as error:
        typer.echo(f"{error.filename}: {error.strerror}", err=True)
        raise typer.Exit(2) from None
    except ReadinessFileError as error:
        typer.echo(f"{file}: {error}", err=True)
        raise typer.Exit(2) from None
    try:
        outcome = asyncio.run(post_sheet(sheet, base_url=url or api_base_url(get_settings()), token=token))
    except ImportFailed as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from None
    for line, reason in outcome.rejects:
        typer.echo(f"{file}:{line}: {reason}")
    typer.echo(f"{outcome.rows} rows: {outcome.accepted} accepted, {len(outcome.rejects)} rejected", err=True)
    if outcome.rejects:
        raise typer.Exit(1)


@connector_app.command("run")
def connector_run(
    kind: Annotated[str, typer.Argument(help="tickets (a ServiceNow Table API) or signins (Graph signIn JSON lines)")],
    path: Annotated[
        Path | None, typer.Option("--path", help="signins: a file, or a directory whose files grow and multiply.")
    ] = None,
    source: Annotated[
        str | None, typer.Option(help="The source name (its mapping's `source:`); default servicenow / entra.")
    ] = None,
    once: Annotated[bool, typer.Option("--once", help="Stop when caught up (default: poll on).")] = False,
    since: Annotated[
        str | None,
        typer.Option(help="tickets, first run only: sys_updated_on to start from, UTC (default: 24 hours ago)."),
    ] = None,
    token_file: Annotated[
        Path | None,
        typer.Option("--token-file", help="A file holding the source token (default: HYPERCARE_CONNECTOR_TOKEN)."),
    ] = None,
    url: Annotated[str | None, typer.Option(help="The API's base URL (default: HYPERCARE_CONNECTOR_API_URL).")] = None,
) -> None:
    """Run a connector: records posted, its cursor saved in Hypercare after each acknowledged batch."""
    from hypercare.entrypoints.connectors.api import ConnectorConfigError, NotAcknowledged
    from hypercare.entrypoints.connectors.servicenow import run_tickets
    from hypercare.entrypoints.connectors.signins import run_signins
    from hypercare.entrypoints.simulator.command import api_base_url

    _logging()
    settings = get_settings()
    if kind not in ("tickets", "signins"):
        typer.echo(f"unknown connector {kind!r}; use tickets or signins", err=True)
        raise typer.Exit(2)
    try:
        token = token_file.read_text(encoding="utf-8").strip() if token_file else settings.connector_token
    except OSError as error:
        typer.echo(f"{token_file}: {error.strerror}", err=True)
        raise typer.Exit(2) from None
    if not token:
        typer.echo("no source token: give --token-file or set HYPERCARE_CONNECTOR_TOKEN", err=True)
        raise typer.Exit(2)
    base_url = url or settings.connector_api_url or api_base_url(settings)
    try:
        if kind == "tickets":
            asyncio.run(
                run_tickets(
                    settings, api_url=base_url, token=token, source=source or "servicenow", once=once, since=since
                )
            )
        else:
            if path is None:
                typer.echo("signins needs --path FILE|DIR", err=True)
                raise typer.Exit(2)
            asyncio.run(
                run_signins(settings, path=path, api_url=base_url, token=token, source=source or "entra", once=once)
            )
    except ConnectorConfigError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(2) from None
    except NotAcknowledged as error:
        typer.echo(f"not caught up: {error}", err=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        raise typer.Exit(130) from None


def main() -> None:
    install_log_scrubber()  # every command, also those that log without _logging() (migrations, token issue)
    app()


if __name__ == "__main__":
    main()
