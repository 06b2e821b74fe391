"""Dialect-aware SQL pieces shared by the console API modules (PostgreSQL and SQLite)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Integer, String, case, cast, false, func
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from hypercare.org.registry import UNMAPPED_ID, OrgRegistry
from hypercare.storage.models import StoredEvent

TICKET_TYPES = ("ticket.opened", "ticket.updated", "ticket.resolved")


def epoch_seconds(dialect: str) -> ColumnElement[Any]:
    """``events.occurred_at`` as whole seconds since the epoch (UTC)."""
    if dialect == "postgresql":
        return cast(func.floor(func.extract("epoch", StoredEvent.occurred_at)), BigInteger)
    if dialect == "sqlite":
        # Stored as naive UTC text (hypercare.storage.models.UTCDateTime).
        return cast(func.strftime("%s", StoredEvent.occurred_at), Integer)
    raise NotImplementedError(f"unsupported database dialect {dialect!r}")


class CodePointOrder(FunctionElement[str]):
    """A text column ordered by code point, as Python compares strings: ``COLLATE "C"`` on PostgreSQL (whose
    database collation may be a language's), the column itself on SQLite (binary collation by default)."""

    type = String()
    inherit_cache = True


@compiles(CodePointOrder)
def _code_point_order(element: CodePointOrder, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(next(iter(element.clauses)), **kw)


@compiles(CodePointOrder, "postgresql")
def _code_point_order_postgresql(element: CodePointOrder, compiler: SQLCompiler, **kw: Any) -> str:
    return f'{compiler.process(next(iter(element.clauses)), **kw)} COLLATE "C"'


def count_where(condition: Any, name: str) -> Any:
    """``SUM(CASE WHEN condition THEN 1 ELSE 0 END)`` labelled ``name``, 0 for no rows."""
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0).label(name)


def payload_text(key: str) -> ColumnElement[str]:
    column: ColumnElement[str] = StoredEvent.payload[key].as_string()
    return column


def payload_int(key: str) -> ColumnElement[int]:
    column: ColumnElement[int] = StoredEvent.payload[key].as_integer()
    return column


def units_condition(
    org: OrgRegistry, *, administration_id: str | None, site_id: str | None, unit_id: str | None
) -> ColumnElement[bool] | None:
    """A condition on ``events.unit_id`` for an org filter (``unmapped`` selects unknown units)."""
    conditions: list[ColumnElement[bool]] = []
    if unit_id:
        conditions.append(StoredEvent.unit_id == unit_id)
    for value, key in ((site_id, "site_id"), (administration_id, "administration_id")):
        if not value:
            continue
        if value == UNMAPPED_ID:
            conditions.append(StoredEvent.unit_id.not_in(list(org.placements)))
        else:
            ids = [p.unit_id for p in org.placements.values() if getattr(p, key) == value]
            conditions.append(StoredEvent.unit_id.in_(ids) if ids else false())
    if not conditions:
        return None
    condition = conditions[0]
    for extra in conditions[1:]:
        condition = condition & extra
    return condition
