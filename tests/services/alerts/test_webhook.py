"""The alert webhook sender against a real HTTP server on 127.0.0.1: retries, give-up, never blocking."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from hypercare.entrypoints.embedded_broker import free_port
from hypercare.observability import metrics
from services.alerts import webhook
from services.alerts.webhook import WebhookSender
from services.supervision import Supervisor


class Receiver:
    """Answers with the queued status codes (then 200) and keeps every body it got."""

    def __init__(self) -> None:
        self.statuses: list[int] = []
        self.bodies: list[dict[str, Any]] = []
        self.got = asyncio.Event()

    async def handle(self, request: web.Request) -> web.Response:
        self.bodies.append(await request.json())
        self.got.set()
        return web.Response(status=self.statuses.pop(0) if self.statuses else 200)


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    target = Receiver()
    app = web.Application()
    app.router.add_post("/hook", target.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield target, f"http://127.0.0.1:{port}/hook"
    finally:
        await runner.cleanup()


def delivered(outcome: str) -> float:
    return metrics.ALERT_WEBHOOK_DELIVERIES.labels(outcome=outcome)._value.get()


async def test_a_failed_attempt_is_retried_and_delivered_once(receiver: tuple[Receiver, str]) -> None:
    target, url = receiver
    target.statuses = [503]
    sender = WebhookSender(url, timeout=2, retries=3, backoff=0.05)
    sender.start()
    before = delivered("delivered")
    try:
        sender.send({"id": 1, "transition": "raise"})
        deadline = time.monotonic() + 10
        while delivered("delivered") == before and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
    finally:
        await sender.stop()
    assert target.bodies == [{"id": 1, "transition": "raise"}] * 2
    assert delivered("delivered") == before + 1


async def test_an_unreachable_receiver_costs_a_log_line_not_a_crash(caplog: pytest.LogCaptureFixture) -> None:
    sender = WebhookSender(f"http://127.0.0.1:{free_port()}/nobody", timeout=0.5, retries=2, backoff=0.01)
    sender.start()
    before = delivered("failed")
    started = time.monotonic()
    sender.send({"id": 2, "transition": "resolve"})
    assert time.monotonic() - started < 0.05  # queued, not sent inline
    deadline = time.monotonic() + 10
    while delivered("failed") == before and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    await sender.stop()
    assert delivered("failed") == before + 1
    assert "could not deliver the resolve of alert 2 after 3 attempts" in caplog.text


async def test_a_sender_that_fails_unexpectedly_is_restarted_and_delivers_the_next_document(
    receiver: tuple[Receiver, str], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A bug in a delivery (not an HTTP failure, those are retried) ends the sending task; the supervisor runs
    it again after a backoff, the document in hand counts as failed, the queue keeps the others."""
    target, url = receiver
    supervisor = Supervisor(initial=0.05, cap=0.2, settle=0.2)
    sender = WebhookSender(url, timeout=2, retries=0)
    deliver = sender._deliver
    failures = {"left": 1}

    async def failing_deliver(document: dict[str, Any]) -> None:
        if failures["left"]:
            failures["left"] -= 1
            raise TypeError(f"cannot post {document}")
        await deliver(document)

    monkeypatch.setattr(sender, "_deliver", failing_deliver)
    failed, restarted = delivered("failed"), metrics.TASK_RESTARTS.labels(task=webhook.TASK)._value.get()
    sender.start(supervisor=supervisor)
    try:
        sender.send({"id": 7, "transition": "raise", "title": "secret 19121212-1212"})
        sender.send({"id": 8, "transition": "raise"})
        deadline = time.monotonic() + 10
        while webhook.TASK not in supervisor.problems() and time.monotonic() < deadline:
            await asyncio.sleep(0.005)
        assert supervisor.problems()[webhook.TASK].startswith("failed (TypeError at test_webhook.py:")
        while not target.bodies and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        assert target.bodies == [{"id": 8, "transition": "raise"}]
        assert delivered("failed") == failed + 1
        assert metrics.TASK_RESTARTS.labels(task=webhook.TASK)._value.get() == restarted + 1
        while supervisor.problems() and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        assert supervisor.problems() == {}
    finally:
        await sender.stop()
    assert "19121212" not in caplog.text and "secret" not in caplog.text
