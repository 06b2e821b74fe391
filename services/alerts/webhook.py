"""Alert transitions to a configurable webhook (``HYPERCARE_ALERT_WEBHOOK_URL``), in the background.

The evaluation loop only puts documents on a bounded queue; one task posts them in order with a
short timeout and a few retries with backoff. A receiver that is down or slow costs log lines and
a counter, never a blocked hub or a crashed gateway; when the queue is full, new documents are
dropped and counted rather than kept without bound. The URL itself is never logged.

The sending task runs under the app's :class:`~services.supervision.Supervisor` (task
``alert-webhook``): an unexpected failure (a bug; delivery errors are retried and counted here) ends
it, and it is restarted with backoff and shows in ``/readyz``; the document it was sending is lost
(counted as failed), the queue keeps the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import httpx

from hypercare.observability import metrics
from services.supervision import Supervisor

log = logging.getLogger(__name__)

QUEUE_SIZE = 1000
DRAIN_SECONDS = 2.0
TASK = "alert-webhook"


class WebhookSender:
    def __init__(self, url: str, *, timeout: float, retries: int, backoff: float = 0.5) -> None:
        self.url = url
        self._timeout = timeout
        self._retries = max(0, retries)
        self._backoff = backoff
        self._queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=QUEUE_SIZE)
        self._supervisor: Supervisor | None = None
        self._client: httpx.AsyncClient | None = None

    def start(self, *, supervisor: Supervisor | None = None) -> None:
        # httpx logs every request URL at INFO; webhook URLs often carry a secret (chat-tool hooks do).
        httpx_log = logging.getLogger("httpx")
        httpx_log.setLevel(max(httpx_log.getEffectiveLevel(), logging.WARNING))
        for outcome in ("delivered", "failed", "dropped"):
            metrics.ALERT_WEBHOOK_DELIVERIES.labels(outcome=outcome)
        self._client = httpx.AsyncClient(timeout=self._timeout)
        self._supervisor = supervisor or Supervisor()
        self._supervisor.start(TASK, self._run)

    async def stop(self) -> None:
        """Give queued documents a moment to go out, then stop."""
        if self._supervisor is not None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._queue.join(), DRAIN_SECONDS)
            await self._supervisor.cancel(TASK)
        if self._client is not None:
            await self._client.aclose()

    def send(self, document: dict[str, Any]) -> None:
        """Queue one document; never waits."""
        try:
            self._queue.put_nowait(document)
        except asyncio.QueueFull:
            metrics.ALERT_WEBHOOK_DELIVERIES.labels(outcome="dropped").inc()
            log.warning(
                "alert webhook queue is full; dropped the %s of alert %s",
                document.get("transition"),
                document.get("id"),
            )

    async def _run(self) -> None:
        """Post queued documents in order; an unexpected failure ends it and the supervisor runs it again."""
        while True:
            document = await self._queue.get()
            try:
                await self._deliver(document)
            except Exception:
                metrics.ALERT_WEBHOOK_DELIVERIES.labels(outcome="failed").inc()
                raise
            finally:
                self._queue.task_done()

    async def _deliver(self, document: dict[str, Any]) -> None:
        assert self._client is not None
        problem = ""
        for attempt in range(self._retries + 1):
            if attempt:
                await asyncio.sleep(self._backoff * 2 ** (attempt - 1))
            try:
                response = await self._client.post(self.url, json=document)
            except httpx.HTTPError as error:
                problem = f"{type(error).__name__}: {error}"
                continue
            if response.is_success:
                metrics.ALERT_WEBHOOK_DELIVERIES.labels(outcome="delivered").inc()
                return
            problem = f"HTTP {response.status_code}"
        metrics.ALERT_WEBHOOK_DELIVERIES.labels(outcome="failed").inc()
        log.warning(
            "alert webhook: could not deliver the %s of alert %s after %d attempts (%s)",
            document.get("transition"),
            document.get("id"),
            self._retries + 1,
            problem,
        )
