"""Alerts in the database: applying transitions, listing, acknowledging and assigning.

Every write is conditional, so that several gateway replicas (and a chief clicking at the same
moment) can race safely and each change is made, and reported, exactly once:

- raise inserts with ``ON CONFLICT DO NOTHING`` against the partial unique index on unresolved
  (rule, node_kind, node_id): the replica whose insert returns a row raised the alert;
- resolve updates only while ``resolved_at IS NULL``; escalate only while unacknowledged,
  unresolved and still at the level it is escalated from; acknowledge only while unacknowledged.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Select, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from hypercare.storage.alert_models import Alert
from hypercare.storage.db import Database
from services.alerts.engine import Escalate, OpenAlert, Raise, Resolve, Transition

StatusFilter = Literal["open", "acknowledged", "resolved", "active"]
_UNRESOLVED = Alert.resolved_at.is_(None)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def public(alert: Alert) -> dict[str, Any]:
    """The alert as the API, the WebSocket and the webhook show it."""
    return {
        "id": alert.id,
        "rule": alert.rule,
        "kind": alert.kind,
        "node_kind": alert.node_kind,
        "node_id": alert.node_id,
        "node_name": alert.node_name,
        "severity": alert.severity,
        "message": alert.message,
        "value": alert.value,
        "threshold": alert.threshold,
        "status": alert.status,
        "level": alert.level,
        "raised_at": _iso(alert.raised_at),
        "escalated_at": _iso(alert.escalated_at),
        "acknowledged_at": _iso(alert.acknowledged_at),
        "acknowledged_by": alert.acknowledged_by,
        "assigned_to": alert.assigned_to,
        "resolved_at": _iso(alert.resolved_at),
    }


def open_alert(alert: Alert) -> OpenAlert:
    return OpenAlert(
        id=alert.id,
        rule=alert.rule,
        node_kind=alert.node_kind,
        node_id=alert.node_id,
        level=alert.level,
        raised_at=alert.raised_at,
        acknowledged=alert.acknowledged_at is not None,
    )


@dataclass(frozen=True)
class Applied:
    """A transition this process made (another replica may have made the others first)."""

    transition: Transition
    alert: Alert

    @property
    def name(self) -> str:
        transition = self.transition
        return (
            "raise" if isinstance(transition, Raise) else "escalate" if isinstance(transition, Escalate) else "resolve"
        )

    def document(self) -> dict[str, Any]:
        """The transition as notifications carry it: the alert, what happened and when."""
        transition = self.transition
        document: dict[str, Any] = {
            **public(self.alert),
            "transition": self.name,
            "transition_at": transition.at.isoformat(),
        }
        if isinstance(transition, Escalate):
            document["previous_level"] = transition.from_level
        elif isinstance(transition, Resolve):
            document["resolve_reason"] = transition.reason
        return document


# Called in the transition's own transaction (the notification outbox), so the two commit together.
Record = Callable[[AsyncSession, Applied], Awaitable[Any]]


async def active_alerts(db: Database) -> list[Alert]:
    """Open and acknowledged alerts, oldest first."""
    async with db.sessions() as session:
        return list((await session.execute(select(Alert).where(_UNRESOLVED).order_by(Alert.id))).scalars())


async def alerts_by_id(db: Database, ids: Iterable[int]) -> list[Alert]:
    wanted = sorted(set(ids))
    if not wanted:
        return []
    async with db.sessions() as session:
        return list((await session.execute(select(Alert).where(Alert.id.in_(wanted)).order_by(Alert.id))).scalars())


async def get_alert(db: Database, alert_id: int) -> Alert | None:
    async with db.sessions() as session:
        return await session.get(Alert, alert_id)


async def list_alerts(
    db: Database, *, status: StatusFilter | None, limit: int, nodes: frozenset[str] | None = None
) -> list[Alert]:
    """Newest first; ``active`` means open or acknowledged; ``nodes`` keeps those nodes' alerts (the region's id is
    among a scoped reader's nodes: :func:`services.auth.scope.readable`)."""
    query: Select[Alert] = select(Alert).order_by(Alert.raised_at.desc(), Alert.id.desc()).limit(limit)
    if nodes is not None:
        query = query.where(Alert.node_id.in_(sorted(nodes)))
    if status == "active":
        query = query.where(_UNRESOLVED)
    elif status is not None:
        query = query.where(Alert.status == status)
    async with db.sessions() as session:
        return list((await session.execute(query)).scalars())


async def apply(db: Database, transitions: Sequence[Transition], *, record: Record | None = None) -> list[Applied]:
    """Apply transitions, each in its own short transaction; returns those this process won.

    ``record`` runs for each transition won, inside its transaction (the notification outbox)."""
    applied: list[Applied] = []
    for transition in transitions:
        async with db.sessions.begin() as session:
            if isinstance(transition, Raise):
                alert = await _raise(session, db.dialect, transition)
            elif isinstance(transition, Resolve):
                alert = await _update(
                    session,
                    transition.alert_id,
                    [_UNRESOLVED],
                    {
                        "status": "resolved",
                        "resolved_at": transition.at,
                    },
                )
            else:
                alert = await _escalate(session, transition)
            if alert is not None:
                applied.append(Applied(transition, alert))
                if record is not None:
                    await record(session, applied[-1])
    return applied


async def _raise(session: AsyncSession, dialect: str, transition: Raise) -> Alert | None:
    values = {
        "rule": transition.rule,
        "kind": transition.kind,
        "node_kind": transition.node_kind,
        "node_id": transition.node_id,
        "node_name": transition.node_name[:200],
        "severity": transition.severity,
        "message": transition.message,
        "value": transition.value,
        "threshold": transition.threshold,
        "status": "open",
        "level": "team",
        "raised_at": transition.at,
    }
    module: Any = postgresql if dialect == "postgresql" else sqlite if dialect == "sqlite" else None
    if module is None:
        raise NotImplementedError(f"unsupported database dialect {dialect!r}")
    statement = (
        module.insert(Alert)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["rule", "node_kind", "node_id"], index_where=_UNRESOLVED)
        .returning(Alert.id)
    )
    alert_id = (await session.execute(statement)).scalar_one_or_none()
    if alert_id is None:
        return None  # raised by another replica a moment ago
    return await session.get(Alert, alert_id)


async def _escalate(session: AsyncSession, transition: Escalate) -> Alert | None:
    conditions = [_UNRESOLVED, Alert.acknowledged_at.is_(None), Alert.level == transition.from_level]
    return await _update(
        session,
        transition.alert_id,
        conditions,
        {
            "level": transition.to_level,
            "escalated_at": transition.at,
        },
    )


async def _update(session: AsyncSession, alert_id: int, conditions: list[Any], values: dict[str, Any]) -> Alert | None:
    statement = update(Alert).where(Alert.id == alert_id, *conditions).values(**values).returning(Alert.id)
    if (await session.execute(statement)).scalar_one_or_none() is None:
        return None
    alert = await session.get(Alert, alert_id, populate_existing=True)
    return alert


class AlertConflict(Exception):
    """The alert exists but is in a state that does not allow the change (e.g. resolved)."""


async def acknowledge(db: Database, alert_id: int, *, by: str, at: datetime) -> tuple[Alert, bool] | None:
    """``(alert, changed)``; None when there is no such alert. Acknowledging twice keeps the first."""
    async with db.sessions.begin() as session:
        alert = await _update(
            session,
            alert_id,
            [_UNRESOLVED, Alert.acknowledged_at.is_(None)],
            {
                "status": "acknowledged",
                "acknowledged_at": at,
                "acknowledged_by": by,
            },
        )
        if alert is not None:
            return alert, True
        current = await session.get(Alert, alert_id)
    if current is None:
        return None
    if current.resolved_at is not None and current.acknowledged_at is None:
        raise AlertConflict(f"alert {alert_id} is resolved; there is nothing to acknowledge")
    return current, False


async def assign(db: Database, alert_id: int, *, to: str) -> Alert | None:
    """The alert with its new assignee; None when there is no such alert; AlertConflict once resolved."""
    async with db.sessions.begin() as session:
        alert = await _update(session, alert_id, [_UNRESOLVED], {"assigned_to": to})
        if alert is not None:
            return alert
        current = await session.get(Alert, alert_id)
    if current is None:
        return None
    raise AlertConflict(f"alert {alert_id} is resolved; it can no longer be assigned")
