"""A notification queued while its receiver is down survives an API restart: the app shuts down with the row
pending, a new app on the same database delivers it once the receiver is back (the whole app: broker, hub,
alert service and dispatcher under their supervisor; ``HYPERCARE_ALERT_WEBHOOK_URL`` as the recipient)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
from aiohttp import web
from notification_receivers import HookReceiver
from sqlalchemy.ext.asyncio import AsyncSession

from hypercare.entrypoints.embedded_broker import free_port
from hypercare.settings import Settings
from hypercare.storage.db import Database
from hypercare.storage.notification_models import Notification
from services.alerts import store as alert_store
from services.alerts.engine import Raise
from services.app import create_app
from services.auth.tokens import issue_token
from services.notifications import store

SECRET = "delad-hemlighet"


async def wait_for(
    db: Database, alert_id: int, done: Callable[[Notification], bool], timeout: float = 30
) -> Notification:
    deadline = time.monotonic() + timeout
    while True:
        rows = [row for row in await store.for_alert(db, alert_id) if row.transition == "raise"]
        if rows and done(rows[0]):
            return rows[0]
        assert time.monotonic() < deadline, [(r.state, r.attempts, r.last_error) for r in rows]
        await asyncio.sleep(0.05)


async def test_a_notification_queued_while_the_receiver_is_down_is_delivered_after_a_restart(
    settings_factory: Callable[..., Settings], tmp_path: Path
) -> None:
    port = free_port()
    hooks = HookReceiver(secrets={"restart": SECRET})
    settings = settings_factory(
        alert_webhook_url=f"http://127.0.0.1:{port}/hooks/restart",
        alert_webhook_secret=SECRET,
        notification_backoff=0.2,
        notification_backoff_max=0.5,
        notification_poll_seconds=0.1,
        notification_timeout=1.0,
    )
    db = Database.from_url(settings.effective_database_url)
    unit = f"U-{uuid.uuid4().hex[:10]}"
    try:
        token = await issue_token(db, role="viewer", name=f"notify-restart-{uuid.uuid4().hex[:8]}")
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            outbox = app.state.dispatcher.outbox()

            async def record(session: AsyncSession, item: alert_store.Applied) -> None:
                await outbox.record(session, item.document())

            raised = Raise("patient_safety_ticket", "patient_safety_ticket", "critical", "unit", unit, "Avd 7",
                           "1 öppna ärenden med risk för patientsäkerheten", 1, 1, datetime.now(UTC))  # fmt: skip
            [applied] = await alert_store.apply(db, [raised], record=record)
            outbox.wake()
            alert_id = applied.alert.id
            failed = await wait_for(db, alert_id, lambda row: row.attempts >= 1 and row.last_error is not None)
            assert (failed.state, failed.recipient, failed.last_error) == ("pending", "alert-webhook", "ConnectError")
        assert hooks.accepted == []

        # The receiver comes back; a new app (a restarted API process) on the same database delivers the row.
        receiver = web.Application()
        receiver.router.add_post("/hooks/{name}", hooks.handle)
        runner = web.AppRunner(receiver)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            app = create_app(settings)
            async with (
                app.router.lifespan_context(app),
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app),
                    base_url="http://api",
                    headers={"Authorization": f"Bearer {token}"},
                ) as client,
            ):
                delivered = await wait_for(db, alert_id, lambda row: row.state == "delivered")
                assert delivered.attempts >= 2
                [hook] = [
                    h for h in hooks.accepted if h.document["id"] == alert_id and h.document["transition"] == "raise"
                ]
                assert hook.delivery_id == delivered.delivery_id and hooks.forged == 0
                detail = (await client.get(f"/api/v1/alerts/{alert_id}")).json()
                [shown] = [n for n in detail["notifications"] if n["transition"] == "raise"]
                assert (shown["recipient"], shown["channel"], shown["state"], shown["last_error"]) == (
                    "alert-webhook",
                    "webhook",
                    "delivered",
                    None,
                )
                assert shown["attempts"] == delivered.attempts and shown["delivered_at"] is not None
                metrics_text = (await client.get("/metrics")).text
                assert 'hypercare_notification_deliveries_total{channel="webhook",outcome="delivered"}' in metrics_text
                assert "hypercare_notifications_pending " in metrics_text
        finally:
            await runner.cleanup()
    finally:
        await db.close()
