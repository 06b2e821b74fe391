"""The alerts' logic: the gateway's alert runtime and what the REST routes do with alerts.

The runtime (:class:`AlertService`) evaluates on every published picture, stores, pushes, queues notifications.

Runs next to the situation hub. Each time the hub publishes (at least every tick, since windows
move with the clock) it evaluates the rules on that picture with the clock it was computed at,
applies the transitions to the database, and pushes what changed in the active alerts to the
WebSocket clients. The database is the shared truth between gateway replicas: each tick starts
from the stored alerts, so an acknowledgement made through another replica is seen here within a
tick, and only the replica whose conditional write succeeded queues the notifications.

With several API processes (``hypercare api --workers N``, or replicas) exactly one evaluates and writes:
the holder of the alert lock (:mod:`services.alerts.ownership`). The others read the stored alerts each tick
and push them to their own clients, so an alert is raised, and its notifications queued, once.

Notifications (:mod:`services.notifications`): each transition's rows go into the outbox in the transition's
own transaction; the dispatcher (a task of its own) delivers them.

Nothing is evaluated until the situation store has caught up with the situation topic: a partial
picture would resolve every open alert and raise them again moments later.

The evaluation loop runs under the app's :class:`~services.supervision.Supervisor` (task ``alerts``): a
failed round (the database away, a bug) fails the loop, which is restarted with backoff and shows in
``/readyz`` until it runs again; the next round starts from the stored alerts, so nothing is lost by the restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hypercare.observability import metrics
from hypercare.org.registry import OrgRegistry
from hypercare.settings import Settings
from hypercare.storage.alert_models import Alert
from hypercare.storage.db import Database
from hypercare.storage.models import utcnow
from services.alerts import store
from services.alerts.engine import Checked, evaluate
from services.alerts.ownership import AlertOwnership
from services.alerts.rules import SEVERITIES, AlertRules
from services.alerts.schemas import AlertDetail, AlertList, AlertOut, NotificationOut
from services.auth.scope import readable
from services.gateway.hub import SituationHub
from services.notifications import store as notification_store
from services.notifications.runtime import Outbox
from services.supervision import Supervisor

log = logging.getLogger(__name__)

TRANSITIONS = ("raise", "escalate", "resolve", "acknowledge")
TASK = "alerts"


class AlertService:
    def __init__(
        self,
        *,
        db: Database,
        hub: SituationHub,
        rules: AlertRules,
        settings: Settings,
        ready: asyncio.Event,
        outbox: Outbox | None = None,
        ownership: AlertOwnership | None = None,
    ) -> None:
        self._db = db
        self._hub = hub
        self._rules = rules
        self._tick = settings.gateway_tick_seconds
        self._cap = settings.task_restart_backoff_max
        self._ready = ready
        self._outbox = outbox
        self._known: dict[int, dict[str, Any]] = {}  # active alerts as last pushed to the hub
        self._checked = Checked()  # findings of the last round, reused for the nodes whose objects did not change
        self._lock = asyncio.Lock()
        self._supervisor: Supervisor | None = None
        self._ownership = ownership  # None: the only process (tests, a single gateway without the lock)

    async def start(self, *, supervisor: Supervisor | None = None) -> None:
        for severity in SEVERITIES:
            metrics.ALERTS_ACTIVE.labels(severity=severity).set(0)
        for transition in TRANSITIONS:
            metrics.ALERT_TRANSITIONS.labels(transition=transition)
        self._supervisor = supervisor or Supervisor(cap=self._cap)
        self._supervisor.start(TASK, self._run)

    async def stop(self) -> None:
        if self._supervisor is not None:
            await self._supervisor.cancel(TASK)
        if self._ownership is not None:
            await self._ownership.release()

    async def _run(self) -> None:
        """A round per published picture; a failure ends it and the supervisor runs it again."""
        await self._ready.wait()
        self._hub.published.clear()  # the next picture is computed from caught-up states
        while True:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._hub.published.wait(), timeout=2 * self._tick)
            self._hub.published.clear()
            await self.evaluate_once()

    async def evaluate_once(self) -> list[store.Applied]:
        """One round on the hub's latest picture; returns the transitions this replica made.

        A process that does not own alert evaluation only pushes the stored alerts to its clients.
        """
        latest = self._hub.latest
        if latest is None:
            return []
        if self._ownership is not None and not await self._ownership.held():
            await self.refresh()
            return []
        now, flat = latest
        async with self._lock:
            rows = await store.active_alerts(self._db)
            transitions = evaluate(flat, [store.open_alert(row) for row in rows], now, self._rules, self._checked)
            applied = await store.apply(self._db, transitions, record=self._record) if transitions else []
            for item in applied:
                self._announce(item)
            if applied and self._outbox is not None:
                self._outbox.wake()
            await self._sync(None if transitions else rows)
        return applied

    async def refresh(self) -> None:
        """Push a change made through this replica (acknowledge, assign) without waiting for the tick."""
        async with self._lock:
            await self._sync(None)

    async def _record(self, session: AsyncSession, item: store.Applied) -> None:
        if self._outbox is not None:
            await self._outbox.record(session, item.document())

    def _announce(self, item: store.Applied) -> None:
        metrics.ALERT_TRANSITIONS.labels(transition=item.name).inc()
        log.info(
            "alert %s: %s %s at %s %s",
            item.alert.id,
            item.name,
            item.alert.rule,
            item.alert.node_kind,
            item.alert.node_id,
        )

    async def _sync(self, rows: list[Alert] | None) -> None:
        if rows is None:
            rows = await store.active_alerts(self._db)
        active = {row.id: store.public(row) for row in rows}
        changed = [alert for alert_id, alert in active.items() if self._known.get(alert_id) != alert]
        gone = [alert_id for alert_id in self._known if alert_id not in active]
        changed += [store.public(row) for row in await store.alerts_by_id(self._db, gone)]
        self._known = active
        severities = Counter(alert["severity"] for alert in active.values())
        for severity in SEVERITIES:
            metrics.ALERTS_ACTIVE.labels(severity=severity).set(severities.get(severity, 0))
        self._hub.publish_alerts(list(active.values()), changed)


class AlertNotFound(LookupError):
    """No alert has this id."""


def _out(alert: Alert | None, alert_id: int) -> AlertOut:
    if alert is None:
        raise AlertNotFound(f"no alert {alert_id}")
    return AlertOut.model_validate(store.public(alert))


async def _push(runtime: AlertService | None) -> None:
    """Push a change to this gateway's clients now; without a runtime (or on failure) they get it next tick."""
    if runtime is None:
        return
    try:
        await runtime.refresh()
    except Exception:  # the change is stored; clients get it on the next tick
        log.exception("could not push an alert change right away")


async def list_alerts(
    *, db: Database, status: store.StatusFilter | None, limit: int, org: OrgRegistry, scope: str | None
) -> AlertList:
    """The alerts ``scope`` may read: its subtree's and the region's (as on the WebSocket), the newest ``limit``."""
    alerts = await store.list_alerts(db, status=status, limit=limit, nodes=readable(org, scope))
    return AlertList(items=[AlertOut.model_validate(store.public(alert)) for alert in alerts])


async def get_alert(
    *, db: Database, alert_id: int, org: OrgRegistry | None = None, scope: str | None = None
) -> AlertOut:
    """One alert; one outside ``scope`` is not found (a scoped reader does not learn it exists)."""
    alert = await store.get_alert(db, alert_id)
    nodes = readable(org, scope) if org is not None else None
    if alert is not None and nodes is not None and alert.node_id not in nodes:
        alert = None
    return _out(alert, alert_id)


async def alert_detail(*, db: Database, alert_id: int, org: OrgRegistry, scope: str | None) -> AlertDetail:
    """One alert with its notifications (recipient, channel, state, attempts, last error), oldest first."""
    alert = await get_alert(db=db, alert_id=alert_id, org=org, scope=scope)
    rows = await notification_store.for_alert(db, alert_id)
    return AlertDetail(
        **alert.model_dump(),
        notifications=[
            NotificationOut(
                transition=row.transition,
                level=row.level,
                recipient=row.recipient,
                channel=row.channel,
                state=row.state,
                attempts=row.attempts,
                last_error=row.last_error,
                created_at=row.created_at.isoformat(),
                last_attempt_at=row.last_attempt_at.isoformat() if row.last_attempt_at else None,
                delivered_at=row.delivered_at.isoformat() if row.delivered_at else None,
                next_attempt_at=row.next_attempt_at.isoformat() if row.state == "pending" else None,
            )
            for row in rows
        ],
    )


async def acknowledge(*, db: Database, alert_id: int, by: str, runtime: AlertService | None) -> AlertOut:
    """Acknowledge once (stops escalation); a second acknowledgement changes nothing and returns the alert as is.

    Raises :class:`AlertNotFound`, or :class:`store.AlertConflict` when the alert resolved unacknowledged.
    """
    result = await store.acknowledge(db, alert_id, by=by, at=utcnow())
    if result is None:
        raise AlertNotFound(f"no alert {alert_id}")
    alert, changed = result
    if changed:
        metrics.ALERT_TRANSITIONS.labels(transition="acknowledge").inc()
        await _push(runtime)
    return _out(alert, alert_id)


async def assign(*, db: Database, alert_id: int, to: str, runtime: AlertService | None) -> AlertOut:
    """Assign an unresolved alert; raises :class:`AlertNotFound` or :class:`store.AlertConflict`."""
    alert = _out(await store.assign(db, alert_id, to=to), alert_id)
    await _push(runtime)
    return alert
