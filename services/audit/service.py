"""Audit rows from the API's requests: what a request noted, the buffered sink that writes them, the CSV.

The middleware (:mod:`services.middleware.audit`) puts an :class:`AuditNote` into each request's ASGI scope;
the authentication dependencies note the principal there (:func:`note_principal`), ingest notes its counts
(:func:`note_counts`), and after the response the middleware hands one :class:`AuditRow` to the
:class:`AuditSink`. Sign-in flows outside these routes (OIDC) call :func:`record_sign_in`.

The sink never makes a request wait on the database: rows are appended to a bounded buffer and a background
task writes them in batches (:class:`hypercare.storage.buffered_writer.BufferedWriter`, shared with the ingest
quarantine). While the database is down they wait (and the task retries with backoff); past the bound the
oldest are dropped, a row the database refuses is dropped alone, and every lost row is logged (count and error
class only) and counted in ``hypercare_audit_dropped_total``.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import uuid
from collections.abc import Awaitable, Callable, Iterable, MutableMapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.requests import HTTPConnection

from hypercare.observability import metrics
from hypercare.storage.buffered_writer import BufferedWriter
from hypercare.storage.db import Database
from services.audit.store import AuditRow, add_audit_rows
from services.auth.tokens import Principal
from services.decisions.csv_export import safe_cell

log = logging.getLogger(__name__)

SCOPE_KEY = "hypercare.audit"
MAX_PENDING_ROWS = 50_000
FLUSH_INTERVAL = 0.5
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
CSV_COLUMNS = (
    "at", "principal", "role", "scope", "action", "object", "outcome", "status", "accepted", "rejected",
    "request_id", "client",
)  # fmt: skip


@dataclass
class AuditNote:
    """What a request's handling learned for its audit row (filled in by the routes' dependencies)."""

    request_id: str
    principal: Principal | None = None
    accepted: int | None = None
    rejected: int | None = None


def request_id_of(header: bytes | None) -> str:
    """The client's ``X-Request-ID`` when it is a plain id, else a new one."""
    if header:
        text = header.decode("latin-1").strip()
        if _REQUEST_ID.match(text):
            return text
    return uuid.uuid4().hex


def _note(scope: MutableMapping[str, Any]) -> AuditNote | None:
    note = scope.get(SCOPE_KEY)
    return note if isinstance(note, AuditNote) else None


def note_principal(scope: MutableMapping[str, Any], principal: Principal) -> None:
    """The request's token belongs to ``principal`` (called by the authentication dependencies)."""
    note = _note(scope)
    if note is not None:
        note.principal = principal


def note_counts(scope: MutableMapping[str, Any], *, accepted: int, rejected: int) -> None:
    """An ingest batch's result, for its one audit row."""
    note = _note(scope)
    if note is not None:
        note.accepted, note.rejected = accepted, rejected


def scope_of(principal: Principal | None) -> str | None:
    """A narrowed token's scope in a few words (families and units), or None."""
    if principal is None or (principal.families is None and principal.units is None):
        return None
    parts = []
    if principal.families is not None:
        parts.append("families=" + ",".join(sorted(principal.families)))
    if principal.units is not None:
        parts.append("units=" + ",".join(sorted(principal.units)))
    text = " ".join(parts)
    return text if len(text) <= 256 else text[:255] + "…"


def client_of(scope: MutableMapping[str, Any]) -> str | None:
    client = scope.get("client")
    return str(client[0])[:64] if client else None


def audit_row(
    *,
    scope: MutableMapping[str, Any],
    note: AuditNote,
    action: str,
    outcome: str,
    status: int | None,
    principal: Principal | None = None,
    object_: str | None = None,
) -> AuditRow:
    who = principal or note.principal
    target = object_ if object_ is not None else scope.get("path")
    return AuditRow(
        at=datetime.now(UTC),
        principal=who.name if who else None,
        role=who.role.value if who else None,
        scope=scope_of(who),
        action=action[:160],
        object=str(target)[:512] if target else None,
        outcome=outcome,
        status=status,
        accepted=note.accepted,
        rejected=note.rejected,
        request_id=note.request_id,
        client=client_of(scope),
    )


def sink_of(scope: MutableMapping[str, Any]) -> AuditSink | None:
    app = scope.get("app")
    sink = getattr(getattr(app, "state", None), "audit_sink", None)
    return sink if isinstance(sink, AuditSink) else None


def record_sign_in(
    connection: HTTPConnection,
    principal: Principal | None,
    *,
    outcome: str = "success",
    action: str = "sign_in",
    method: str | None = None,
) -> None:
    """One audit row for a sign-in (or ``action="sign_out"``) outside the token-checking routes, e.g. an OIDC
    callback: ``principal`` when it is known, ``outcome`` ``success`` or ``unauthenticated``; ``method`` (e.g.
    ``oidc``) is kept in the row's object. Never pass a token, a code or a claim set."""
    sink = sink_of(connection.scope)
    if sink is None:
        return
    note = _note(connection.scope) or AuditNote(request_id=request_id_of(None))
    sink.record(
        audit_row(
            scope=connection.scope,
            note=note,
            action=action,
            outcome=outcome,
            status=None,
            principal=principal,
            object_=f"{connection.scope.get('path', '')}{f' ({method})' if method else ''}",
        )
    )


Writer = Callable[[Database, Sequence[AuditRow]], Awaitable[None]]


class AuditSink:
    """Audit rows through a :class:`~hypercare.storage.buffered_writer.BufferedWriter`: queued by
    :meth:`record`, written in batches every ``flush_interval``; see the module's docstring."""

    def __init__(
        self,
        db: Database,
        *,
        max_rows: int = MAX_PENDING_ROWS,
        flush_interval: float = FLUSH_INTERVAL,
        retry_initial: float = 0.5,
        retry_max: float = 15.0,
        write: Writer = add_audit_rows,
    ) -> None:
        self._writer: BufferedWriter[AuditRow] = BufferedWriter(
            db,
            write,
            name="audit log",
            on_lost=self._dropped,
            on_pending=metrics.AUDIT_PENDING.set,
            max_rows=max_rows,
            flush_interval=flush_interval,
            retry_initial=retry_initial,
            retry_max=retry_max,
        )

    @property
    def pending(self) -> int:
        return self._writer.pending

    def record(self, row: AuditRow) -> None:
        """Queue ``row``; never blocks, never raises."""
        self._writer.hold([row])

    async def start(self) -> None:
        await self._writer.start()

    async def stop(self) -> None:
        await self._writer.stop()

    async def flush(self) -> bool:
        """Write every waiting row now; False when the database did not take them (they keep waiting)."""
        return await self._writer.flush()

    @staticmethod
    def _dropped(count: int, why: str) -> None:
        metrics.AUDIT_DROPPED.inc(count)
        log.error("%d audit-log rows lost: %s", count, why)


def audit_csv(entries: Iterable[dict[str, Any]]) -> str:
    """The rows as CSV a spreadsheet opens as text, never as formulas (the decision log's escaping)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for entry in entries:
        row = {**entry, "at": entry["at"].isoformat() if isinstance(entry.get("at"), datetime) else entry.get("at")}
        writer.writerow([safe_cell(row.get(column)) for column in CSV_COLUMNS])
    return buffer.getvalue()
