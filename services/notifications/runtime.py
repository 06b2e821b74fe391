"""The outbox writer (called in the alert transition's transaction) and the dispatcher (a supervised task).

:class:`Outbox` queues a row per recipient the routing picks (:func:`services.notifications.service.route`)
in the same transaction as the alert transition, so a transition made is a notification owed, whatever
happens to the process after the commit.

:class:`Dispatcher` runs in every API process under the app's :class:`~services.supervision.Supervisor`
(task ``notifications``): it claims due rows (:func:`services.notifications.store.claim`: each row goes to
one process, also with ``hypercare api --workers N``), delivers them concurrently, and records the outcome:
delivered; pending again after an exponential backoff; or dead after ``HYPERCARE_NOTIFICATION_MAX_ATTEMPTS``
attempts or a failure no retry can help (a 4xx). Counted in ``hypercare_notification_deliveries_total{channel,
outcome}``; ``hypercare_notifications_pending`` is the outbox's pending rows.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from hypercare.observability import metrics
from hypercare.settings import Settings
from hypercare.storage.db import Database
from hypercare.storage.models import utcnow
from hypercare.storage.notification_models import Notification
from services.notifications import store
from services.notifications.channels import Channels, Delivery, Outcome, SmtpServer
from services.notifications.config import Notifications
from services.notifications.service import CHANNELS, backoff, route
from services.supervision import Supervisor, describe

log = logging.getLogger(__name__)

TASK = "notifications"
BATCH = 20
OUTCOMES = ("delivered", "retried", "dead")


class Outbox:
    """Queues an alert transition's notifications in the caller's transaction."""

    def __init__(self, notifications: Notifications, *, dialect: str, wake: Callable[[], None] | None = None) -> None:
        self._notifications = notifications
        self._dialect = dialect
        self._wake = wake

    async def record(self, session: AsyncSession, document: dict[str, Any]) -> int:
        """Queue ``document`` (an alert transition as the webhook shows it) for each of its recipients."""
        chosen = route(
            self._notifications.recipients,
            transition=str(document["transition"]),
            level=str(document["level"]),
            node_id=str(document["node_id"]),
        )
        rows = [
            store.Queued(
                alert_id=int(document["id"]),
                transition=str(document["transition"]),
                level=str(document["level"]),
                recipient=recipient.id,
                channel=recipient.channel,
                document=document,
            )
            for recipient in chosen
        ]
        return await store.enqueue(session, self._dialect, rows, now=utcnow())

    def wake(self) -> None:
        """After the commit: the dispatcher looks for due rows now instead of at its next poll."""
        if self._wake is not None:
            self._wake()


class Dispatcher:
    def __init__(self, db: Database, notifications: Notifications, settings: Settings) -> None:
        self._db = db
        self._notifications = notifications
        self._settings = settings
        self._token = uuid.uuid4().hex  # this dispatcher's claims
        self._lease = timedelta(seconds=2 * settings.notification_timeout + 30)
        self._wake = asyncio.Event()
        self._channels: Channels | None = None
        self._supervisor: Supervisor | None = None

    def outbox(self) -> Outbox:
        return Outbox(self._notifications, dialect=self._db.dialect, wake=self._wake.set)

    def start(self, *, supervisor: Supervisor | None = None) -> None:
        # httpx logs every request URL at INFO; webhook URLs often carry a secret (Teams URLs do).
        httpx_log = logging.getLogger("httpx")
        httpx_log.setLevel(max(httpx_log.getEffectiveLevel(), logging.WARNING))
        for channel in CHANNELS:
            for outcome in OUTCOMES:
                metrics.NOTIFICATION_DELIVERIES.labels(channel=channel, outcome=outcome)
        self._channels = Channels(
            client=httpx.AsyncClient(timeout=self._settings.notification_timeout, follow_redirects=False),
            smtp=SmtpServer.from_settings(self._settings),
            console_url=self._notifications.console_url,
        )
        self._supervisor = supervisor or Supervisor(cap=self._settings.task_restart_backoff_max)
        self._supervisor.start(TASK, self._run)

    async def stop(self) -> None:
        if self._supervisor is not None:
            await self._supervisor.cancel(TASK)
            try:  # deliveries cut short are due again at once, not after their lease
                await store.release(self._db, token=self._token, now=utcnow())
            except Exception:
                log.warning("could not hand back this dispatcher's claims; they are due again when their lease ends")
        if self._channels is not None:
            await self._channels.client.aclose()
            self._channels = None

    async def _run(self) -> None:
        """Deliver what is due, then wait for a wake-up or the poll; a failure ends it and it is run again."""
        while True:
            self._wake.clear()  # before the round: a row queued during it wakes the next one
            if await self.run_once() == BATCH:
                continue  # more may be due
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._settings.notification_poll_seconds)

    async def run_once(self) -> int:
        """Claim and deliver one batch of due rows; returns how many were claimed."""
        rows = await store.claim(self._db, now=utcnow(), lease=self._lease, limit=BATCH, token=self._token)
        if rows:
            await asyncio.gather(*(self._one(row) for row in rows))
        metrics.NOTIFICATIONS_PENDING.set(await store.pending(self._db))
        return len(rows)

    async def _one(self, row: Notification) -> None:
        assert self._channels is not None, "start the dispatcher first"
        recipient = self._notifications.recipient(row.recipient)
        if recipient is None:
            outcome = Outcome("failed", "the recipient is no longer in the notifications file")
        else:
            try:
                outcome = await self._channels.deliver(recipient, Delivery(row.delivery_id, row.document))
            except Exception as error:  # a bug in one delivery: that row is retried (bounded), the batch goes on
                log.error("notification %s: delivery failed unexpectedly (%s)", row.id, describe(error))
                outcome = Outcome("retry", type(error).__name__)
        settings = self._settings
        state = await store.finish(
            self._db,
            row,
            token=self._token,
            kind=outcome.kind,
            error=outcome.error,
            now=utcnow(),
            max_attempts=settings.notification_max_attempts,
            retry_in=timedelta(
                seconds=backoff(
                    row.attempts, initial=settings.notification_backoff, cap=settings.notification_backoff_max
                )
            ),
        )
        if state is None:
            log.warning("notification %s: the claim ran out before its outcome was recorded", row.id)
            return
        counted = {"delivered": "delivered", "pending": "retried", "dead": "dead"}[state]
        metrics.NOTIFICATION_DELIVERIES.labels(channel=row.channel, outcome=counted).inc()
        if state == "dead":
            log.warning(
                "notification %s (the %s of alert %s to %s by %s) is dead after %d attempts: %s",
                row.id,
                row.transition,
                row.alert_id,
                row.recipient,
                row.channel,
                row.attempts,
                outcome.error,
            )
        elif state == "pending":
            log.info(
                "notification %s to %s: attempt %d failed (%s); retrying",
                row.id,
                row.recipient,
                row.attempts,
                outcome.error,
            )
