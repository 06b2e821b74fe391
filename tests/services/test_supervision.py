"""The supervisor: a failed task is restarted with capped exponential backoff, counted, shown as a problem
while it backs off and until it has run again for a while, logged without the exception's message."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable

import pytest

from hypercare.observability import metrics
from services.supervision import Supervisor, describe


def restarts(task: str) -> float:
    return metrics.TASK_RESTARTS.labels(task=task)._value.get()


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.005)


class Flaky:
    """Fails its first ``failures`` runs (with a message that must never be logged), then runs for good."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.runs = 0
        self.running = asyncio.Event()

    async def __call__(self) -> None:
        self.runs += 1
        if self.runs <= self.failures:
            raise ValueError("patient 19121212-1212 secret payload")
        self.running.set()
        await asyncio.Event().wait()


async def test_a_failing_task_is_restarted_counted_shown_and_cleared(caplog: pytest.LogCaptureFixture) -> None:
    name = f"flaky-{uuid.uuid4().hex[:6]}"
    supervisor = Supervisor(initial=0.05, cap=0.2, settle=0.3)
    flaky = Flaky(failures=3)
    with caplog.at_level(logging.INFO, logger="services.supervision"):
        supervisor.start(name, flaky)
        await until(lambda: name in supervisor.problems())
        assert "failed (ValueError at test_supervision.py:" in supervisor.problems()[name]
        await asyncio.wait_for(flaky.running.wait(), 5)
        assert flaky.runs == 4 and supervisor.restarts(name) == 3 and restarts(name) == 3
        assert "settling" in supervisor.problems()[name]  # running again, not yet for long
        await until(lambda: not supervisor.problems(), timeout=2)
    await supervisor.stop()
    assert supervisor.problems() == {}  # stopped on purpose: no problem
    assert "secret" not in caplog.text and "19121212" not in caplog.text
    assert caplog.text.count(f"task {name} failed (ValueError at test_supervision.py:") == 3
    assert f"task {name} has run for a while again after 3 restarts" in caplog.text


async def test_backoff_doubles_up_to_the_cap_and_starts_over_after_a_run_as_long_as_the_cap() -> None:
    name = f"delays-{uuid.uuid4().hex[:6]}"
    supervisor = Supervisor(initial=0.01, cap=0.04, settle=10)
    seen: list[str] = []
    runs: list[int] = []

    async def run() -> None:
        runs.append(1)
        if len(runs) == 5:
            await asyncio.sleep(0.06)  # up longer than the cap before it fails
        raise RuntimeError("boom")

    supervisor.start(name, run)
    deadline = time.monotonic() + 5
    while len(seen) < 7 and time.monotonic() < deadline:
        problem = supervisor.problems().get(name, "")
        if problem.startswith("failed") and (not seen or seen[-1] != problem):
            seen.append(problem)
        await asyncio.sleep(0)
    await supervisor.stop()
    delays = [problem.rsplit(" in ", 1)[-1] for problem in seen]
    assert delays[:7] == ["0.01 s", "0.02 s", "0.04 s", "0.04 s", "0.01 s", "0.02 s", "0.04 s"]
    assert [problem.split("restart ")[1].split(" ")[0] for problem in seen[:7]] == [str(n) for n in range(1, 8)]


async def test_a_task_that_ends_is_restarted_and_one_that_dies_is_shown_dead() -> None:
    name = f"ends-{uuid.uuid4().hex[:6]}"
    supervisor = Supervisor(initial=0.01, cap=0.05, settle=10)
    runs: list[int] = []

    async def run() -> None:
        runs.append(1)
        if len(runs) > 2:
            await asyncio.Event().wait()

    task = supervisor.start(name, run)
    await until(lambda: len(runs) == 3)
    assert "ended although it should run for good" in supervisor.problems()[name]
    task.cancel()  # not through the supervisor: the task is gone for good
    await until(task.done)
    assert supervisor.problems() == {name: "dead after 2 restarts"}
    supervisor.start(f"{name}-x", run)
    with pytest.raises(RuntimeError, match="already supervised"):
        supervisor.start(f"{name}-x", run)
    await supervisor.stop()


def test_describe_names_the_type_and_place_never_the_message() -> None:
    try:
        {}["19121212-1212"]
    except KeyError as error:
        text = describe(error)
    assert text.startswith("KeyError at test_supervision.py:") and "1912" not in text
    assert describe(ValueError("secret")) == "ValueError"
