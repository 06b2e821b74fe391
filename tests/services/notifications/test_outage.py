"""A database outage stops the dispatcher's rounds, not the process: the task fails, is restarted with backoff and
named as a problem (``/readyz/records``), and delivers what was queued once the database is back."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

from notification_receivers import HookReceiver, TeamsReceiver
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession
from tcp_proxy import TcpProxy

from hypercare.entrypoints.embedded_broker import free_port
from hypercare.org.registry import load_org
from hypercare.settings import Settings
from hypercare.storage.db import Database
from services.alerts import store as alert_store
from services.alerts.engine import Raise
from services.notifications import runtime
from services.notifications.config import load_notifications
from services.notifications.runtime import Dispatcher
from services.supervision import Supervisor


async def test_the_dispatcher_outlasts_a_database_outage(
    pg_url: str, receivers: tuple[HookReceiver, TeamsReceiver]
) -> None:
    hooks, _ = receivers
    hooks.secrets["outage"] = "k"
    parsed = make_url(pg_url)
    proxy = TcpProxy(listen_port=free_port(), target_port=parsed.port or 5432)
    await proxy.start()
    proxied = parsed.set(host="127.0.0.1", port=proxy.listen_port).render_as_string(hide_password=False)
    settings = Settings(
        kafka_bootstrap="unused:9092",
        alert_webhook_url=hooks.to("outage"),
        alert_webhook_secret="k",
        notification_poll_seconds=0.05,
    )
    direct, through_proxy = Database.from_url(pg_url), Database.from_url(proxied)
    dispatcher = Dispatcher(through_proxy, load_notifications(settings, load_org(None)), settings)
    supervisor = Supervisor(initial=0.05, cap=0.2, settle=0.3)
    dispatcher.start(supervisor=supervisor)
    outbox = dispatcher.outbox()

    async def record(session: AsyncSession, item: alert_store.Applied) -> None:
        await outbox.record(session, item.document())

    try:
        await proxy.cut()
        raised = Raise("patient_safety_ticket", "patient_safety_ticket", "critical", "unit", "U-outage", "Avd 7",
                       "1 öppna ärenden med risk för patientsäkerheten", 1, 1, datetime.now(UTC))  # fmt: skip
        [applied] = await alert_store.apply(direct, [raised], record=record)  # the alert owner's own connection
        outbox.wake()
        deadline = time.monotonic() + 20
        while runtime.TASK not in supervisor.problems():
            assert time.monotonic() < deadline, "the dispatcher never noticed the outage"
            await asyncio.sleep(0.02)
        assert hooks.accepted == []

        await proxy.start()
        while not [hook for hook in hooks.accepted if hook.document["id"] == applied.alert.id]:
            assert time.monotonic() < deadline, supervisor.problems()
            await asyncio.sleep(0.05)
        while supervisor.problems():
            assert time.monotonic() < deadline, supervisor.problems()
            await asyncio.sleep(0.05)
    finally:
        await dispatcher.stop()
        await proxy.cut()
        await direct.close()
        await through_proxy.close()
