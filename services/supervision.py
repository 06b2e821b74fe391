"""Supervision of the API process's long-running tasks: a failed task is restarted, counted and shown.

The situation store's consumer loop, the hub's publish loop, the alert service, the notification dispatcher
and the token revocation poll each run under one :class:`Supervisor`. When a task fails (any exception
but cancellation), or ends although it should run for good, the supervisor logs it, counts it in
``hypercare_task_restarts_total{task}``, waits (capped exponential backoff: ``initial``, doubled per
failure in a row, at most ``cap``) and runs it again. A run that stayed up for ``cap`` seconds or more
before it failed starts the backoff over.

:meth:`Supervisor.problems` names every task that is failing (backing off, or restarted less than
``settle`` seconds ago) or dead (its supervising task ended without :meth:`Supervisor.stop`); the
app's ``/readyz`` lists them, so a task that keeps failing takes the gateway out of rotation instead
of leaving it serving a frozen picture. A problem clears once the restarted run has stayed up for
``settle`` seconds.

Logs and problems name the exception's type and where it was raised, never its message: messages of
database and HTTP errors carry parameters and documents (payloads), and those stay out of logs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import traceback
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from hypercare.observability import metrics

log = logging.getLogger(__name__)

Run = Callable[[], Coroutine[Any, Any, None]]


def describe(error: BaseException) -> str:
    """The exception's type and the innermost place it was raised (file:line), never its message."""
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return type(error).__name__
    last = frames[-1]
    return f"{type(error).__name__} at {last.filename.rsplit('/', 1)[-1]}:{last.lineno}"


@dataclass
class _Supervised:
    name: str
    run: Run
    task: asyncio.Task[None] | None = None
    restarts: int = 0
    failures_in_a_row: int = 0
    # Set from a failure until the restarted run has stayed up for ``settle`` seconds.
    problem: str | None = None
    stopping: bool = False


class Supervisor:
    def __init__(self, *, initial: float = 0.5, cap: float = 30.0, settle: float = 2.0) -> None:
        self.initial = initial
        self.cap = max(cap, initial)
        self.settle = settle
        self._tasks: dict[str, _Supervised] = {}

    def start(self, name: str, run: Run) -> asyncio.Task[None]:
        """Run ``run()`` as the task ``name``, again after each failure, until :meth:`cancel` or :meth:`stop`."""
        previous = self._tasks.get(name)
        if previous is not None and previous.task is not None and not previous.task.done():
            raise RuntimeError(f"task {name} is already supervised")
        supervised = _Supervised(name=name, run=run)
        metrics.TASK_RESTARTS.labels(task=name)
        supervised.task = asyncio.create_task(self._supervise(supervised), name=name)
        self._tasks[name] = supervised
        return supervised.task

    def restarts(self, name: str) -> int:
        return self._tasks[name].restarts

    def problems(self) -> dict[str, str]:
        """Task name → what is wrong, for every task failing right now or dead; empty when all run."""
        found: dict[str, str] = {}
        for name, supervised in self._tasks.items():
            task = supervised.task
            if supervised.stopping:
                continue
            if task is None or task.done():
                found[name] = f"dead after {supervised.restarts} restarts"
            elif supervised.problem is not None:
                found[name] = supervised.problem
        return found

    async def cancel(self, name: str) -> None:
        """Stop one task (cancelled, awaited); what a component's own ``stop()`` calls."""
        supervised = self._tasks.get(name)
        if supervised is None or supervised.task is None:
            return
        supervised.stopping = True
        supervised.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await supervised.task

    async def stop(self) -> None:
        for name in list(self._tasks):
            await self.cancel(name)

    async def _supervise(self, supervised: _Supervised) -> None:
        loop = asyncio.get_running_loop()
        settled: asyncio.TimerHandle | None = None
        while True:
            started = loop.time()
            if supervised.problem is not None:  # cancelled below when this run fails before it settles
                settled = loop.call_later(self.settle, self._settled, supervised)
            try:
                await supervised.run()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                what = describe(error)
            else:
                what = "ended although it should run for good"
            finally:
                if settled is not None:
                    settled.cancel()
                    settled = None
            if loop.time() - started >= self.cap:
                supervised.failures_in_a_row = 0
            supervised.failures_in_a_row += 1
            supervised.restarts += 1
            delay = min(self.cap, self.initial * 2 ** (supervised.failures_in_a_row - 1))
            supervised.problem = f"failed ({what}); restart {supervised.restarts} in {delay:g} s"
            metrics.TASK_RESTARTS.labels(task=supervised.name).inc()
            log.error(
                "task %s failed (%s); restarting it in %g s (restart %d, %d failures in a row)",
                supervised.name,
                what,
                delay,
                supervised.restarts,
                supervised.failures_in_a_row,
            )
            await asyncio.sleep(delay)
            supervised.problem = f"restarted after a failure ({what}); restart {supervised.restarts}, settling"

    @staticmethod
    def _settled(supervised: _Supervised) -> None:
        supervised.problem = None
        log.info("task %s has run for a while again after %d restarts", supervised.name, supervised.restarts)
