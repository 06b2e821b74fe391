"""An alert's notifications in the console: who was told, through which channel, and whether it arrived.

The real product (API and stream worker as processes, a PostgreSQL database of this module's own: a dispatcher
claims every due row of its database) with a real notifications file of two webhook recipients whose receiver is
down when the alert is raised. The dialog shows both pending with their attempts and the last error; then the
receiver comes up, answering one of them 410 Gone: one turns delivered and the other dead, in the open dialog, as
GET /api/v1/alerts/{id} has them; in Swedish and in English.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from hc_testkit import Pipeline, event
from notification_receivers import HookReceiver
from pg_databases import fresh_pg_database

from hypercare.entrypoints.embedded_broker import EmbeddedBroker, free_port
from hypercare.settings import Settings

UNIT = "SE2321000131-ESASBORHIA"  # Hjärtintensivavdelning (HIA) Borås
SECRET_ENV, SECRET = "HC_TEST_CONSOLE_HOOK_SECRET", "console-hook-secret-0123456789"
HOOK_PORT = free_port()  # nothing listens here until the test starts the receiver
ALERT = f'.alerts .alert[data-node-id="{UNIT}"][data-rule="patient_safety_ticket"]'
DIALOG = "dialog[open] .notifications"


def text_of(value: str) -> str:
    return re.sub(r"\s+", " ", value).strip()


@pytest.fixture(scope="module")
def notify_pg_url() -> Iterator[str]:
    with fresh_pg_database("hc_console_notify") as url:
        yield url


@pytest.fixture(scope="module")
async def pipeline(
    broker: EmbeddedBroker, notify_pg_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Pipeline]:
    """This module's own pipeline (it replaces the console conftest's): notifications to a receiver that is down."""
    log_dir = tmp_path_factory.mktemp("console-notify")
    notifications = log_dir / "notifications.yaml"
    notifications.write_text(
        f"""
recipients:
  - id: hia-larmkedja
    levels: [team]
    scope: {UNIT}
    channel: webhook
    url: http://127.0.0.1:{HOOK_PORT}/hooks/larmkedja
    secret_env: {SECRET_ENV}
  - id: gammal-integration
    levels: [team, multi, program]
    channel: webhook
    url: http://127.0.0.1:{HOOK_PORT}/hooks/gammal
    secret_env: {SECRET_ENV}
""",
        encoding="utf-8",
    )
    settings = Settings(
        kafka_bootstrap=broker.bootstrap,
        database_url=notify_pg_url,
        data_dir=log_dir,
        topic_prefix=f"t_{uuid.uuid4().hex[:10]}",
        worker_id=f"worker_{uuid.uuid4().hex[:10]}",
        worker_web_port=0,
        notifications_file=notifications,
        # Retried about every second while the receiver is down, and never given up on in this test's time.
        notification_backoff=0.5,
        notification_backoff_max=1.0,
        notification_max_attempts=50,
        notification_timeout=2.0,
        notification_poll_seconds=0.2,
    )
    running = Pipeline(settings, log_dir)
    running.env[SECRET_ENV] = SECRET
    try:
        await running.start()
        warm = event("access.login", UNIT, user_ref="warm", outcome="success")
        assert (await running.post_events([warm])).status_code == 200
        await running.wait_for(f"/api/v1/units/{UNIT}", lambda unit: unit["access"]["logins_15m"] >= 1, timeout=60)
        yield running
    finally:
        running.stop()


async def start_receiver(hooks: HookReceiver) -> web.AppRunner:
    app = web.Application()
    app.router.add_post("/hooks/{name}", hooks.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", HOOK_PORT).start()
    return runner


async def notification(page: Any, recipient: str, state: str, *, has_text: str = "", timeout: float = 20000) -> str:
    item = page.locator(
        f'{DIALOG} .notification[data-recipient="{recipient}"][data-state="{state}"]', has_text=has_text
    )
    await item.wait_for(timeout=timeout)
    return text_of(await item.inner_text())


async def test_the_alert_shows_its_notifications_pending_while_the_receiver_is_down_then_delivered_and_dead(
    open_page: Any, pipeline: Pipeline, artifacts: Path
) -> None:
    viewer = await open_page("viewer", "#/console")
    ticket = f"PS-{uuid.uuid4().hex[:6]}"
    posted = event(
        "ticket.opened", UNIT, ticket_id=ticket, channel="phone", category="medication", priority=2,
        summary="Fel dos visas i läkemedelslistan", patient_safety=True,
    )  # fmt: skip
    assert (await pipeline.post_events([posted])).json()["accepted"] == 1
    await viewer.locator(ALERT).wait_for(timeout=15000)
    # Anyone who sees the alert may see its notifications (a viewer handles nothing).
    assert await viewer.locator(f'{ALERT} [data-action="ack-alert"]').count() == 0
    await viewer.locator(ALERT).get_by_role("button", name="Aviseringar").click()
    title = text_of(await viewer.locator("dialog[open] h2").inner_text())
    assert title == "Aviseringar om larmet: Hjärtintensivavdelning (HIA) Borås", title

    # The receiver is down: both recipients wait, with their attempts so far and why the last one failed.
    for recipient in ("hia-larmkedja", "gammal-integration"):
        text = await notification(viewer, recipient, "pending", has_text="Senaste fel:")
        assert "Väntar" in text and "Webhook · Larm · Teamnivå" in text, text
        assert re.search(r"\b[1-9]\d* försök\b", text) and "Nästa försök" in text, text
        assert "127.0.0.1" not in text and SECRET not in text  # never a URL or a secret, only the error's type
    summary = text_of(await viewer.locator(f"{DIALOG} .notification-summary").inner_text())
    assert summary == "0 levererade, 2 väntar, 0 misslyckade", summary
    alert_id = int(await viewer.locator(ALERT).get_attribute("data-alert-id") or 0)
    detail = (await pipeline.get(f"/api/v1/alerts/{alert_id}", role="viewer")).json()
    assert {(n["recipient"], n["state"]) for n in detail["notifications"]} == {
        ("hia-larmkedja", "pending"),
        ("gammal-integration", "pending"),
    }

    # The receiver comes up: the alert chain takes it, the old integration is gone (410: not retried).
    hooks = HookReceiver(secrets={"larmkedja": SECRET, "gammal": SECRET}, statuses={"gammal": [410]})
    runner = await start_receiver(hooks)
    try:
        delivered = await notification(viewer, "hia-larmkedja", "delivered")  # the open dialog reads it again
        assert "Levererad" in delivered and "Senaste fel" not in delivered, delivered
        dead = await notification(viewer, "gammal-integration", "dead")
        assert "Misslyckad" in dead and "Senaste fel:" in dead and "410" in dead, dead
        summary = text_of(await viewer.locator(f"{DIALOG} .notification-summary").inner_text())
        assert summary == "1 levererade, 0 väntar, 1 misslyckade", summary
        await viewer.screenshot(path=str(artifacts / "alert-notifications.png"))
        assert [hook.document["id"] for hook in hooks.accepted] == [alert_id]
        assert hooks.forged == 0
        detail = (await pipeline.get(f"/api/v1/alerts/{alert_id}", role="viewer")).json()
        states = {n["recipient"]: n for n in detail["notifications"]}
        assert states["hia-larmkedja"]["state"] == "delivered" and states["gammal-integration"]["state"] == "dead"
        attempts = states["hia-larmkedja"]["attempts"]
        assert attempts >= 2 and f"{attempts} försök" in delivered, delivered

        # The same in English.
        english = await open_page("viewer", "#/console", lang="en")
        await english.locator(ALERT).get_by_role("button", name="Notifications").click()
        title = text_of(await english.locator("dialog[open] h2").inner_text())
        assert title == "Notifications of the alert: Hjärtintensivavdelning (HIA) Borås", title
        text = await notification(english, "hia-larmkedja", "delivered")
        assert "Delivered" in text and "Webhook · Raised · Team level" in text and f"{attempts} attempts" in text
        text = await notification(english, "gammal-integration", "dead")
        assert "Failed" in text and "Last error:" in text and "410" in text, text
        await english.locator("dialog[open]").get_by_role("button", name="Close").click()
        await english.locator("dialog[open]").wait_for(state="detached")
    finally:
        await runner.cleanup()
