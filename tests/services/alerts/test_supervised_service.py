"""The alert service's evaluation loop runs under the supervisor: a failed round (the database away, a bug)
restarts it with backoff, counted and shown as a problem until it evaluates again."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from hypercare.observability import metrics
from hypercare.settings import Settings
from services.alerts import service as alert_service
from services.alerts.rules import load_alert_rules
from services.alerts.service import AlertService
from services.supervision import Supervisor


class FakeHub:
    """What the alert service uses of a SituationHub: the latest picture and its publish signal."""

    def __init__(self) -> None:
        self.latest = (datetime.now(UTC), {})
        self.published = asyncio.Event()


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.005)


async def test_a_failing_evaluation_round_restarts_the_loop_which_evaluates_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hub, ready = FakeHub(), asyncio.Event()
    service = AlertService(
        db=None,  # type: ignore[arg-type]
        hub=hub,  # type: ignore[arg-type]
        rules=load_alert_rules(None),
        settings=Settings(kafka_bootstrap="unused:9092", gateway_tick_seconds=0.05),
        ready=ready,
    )
    rounds = {"failed": 0, "done": 0}

    async def evaluate_once() -> list[Any]:
        if rounds["failed"] < 3:
            rounds["failed"] += 1
            raise ConnectionRefusedError("could not connect with password=secret")
        rounds["done"] += 1
        return []

    monkeypatch.setattr(service, "evaluate_once", evaluate_once)
    supervisor = Supervisor(initial=0.05, cap=0.2, settle=0.3)
    before = metrics.TASK_RESTARTS.labels(task=alert_service.TASK)._value.get()
    await service.start(supervisor=supervisor)
    try:
        await asyncio.sleep(0.2)
        assert rounds == {"failed": 0, "done": 0}  # nothing before the situation store has caught up
        ready.set()
        await until(lambda: alert_service.TASK in supervisor.problems())
        assert "ConnectionRefusedError" in supervisor.problems()[alert_service.TASK]
        assert "secret" not in supervisor.problems()[alert_service.TASK]
        hub.published.set()
        await until(lambda: rounds["done"] >= 2)
        assert metrics.TASK_RESTARTS.labels(task=alert_service.TASK)._value.get() - before == 3
        await until(lambda: not supervisor.problems())
    finally:
        await service.stop()
    assert supervisor.problems() == {}
