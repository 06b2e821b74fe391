"""The stream worker's own HTTP port: ``/healthz``, ``/readyz`` and ``/metrics`` (aiohttp, a Faust dependency).

Faust's built-in web server is left off: it serves table and router pages nobody here needs. Readiness
means the worker can do its job: partitions assigned and recovered, broker and database answering.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from mode import Service
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

log = logging.getLogger(__name__)

CHECK_TIMEOUT = 3.0
Check = Callable[[], Awaitable[str | None]]  # None when fine, else what is wrong


class WorkerWeb(Service):
    def __init__(
        self, *, host: str, port: int, checks: dict[str, Check], registry: CollectorRegistry, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.registry = registry
        self.host = host
        self.port = port
        self.checks = checks
        self._runner: web.AppRunner | None = None

    async def on_start(self) -> None:
        application = web.Application()
        application.router.add_get("/healthz", self._healthz)
        application.router.add_get("/readyz", self._readyz)
        application.router.add_get("/metrics", self._metrics)
        self._runner = web.AppRunner(application, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        log.info("worker health and metrics on http://%s:%d/", self.host, self.port)

    async def on_stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _healthz(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def _readyz(self, request: web.Request) -> web.Response:
        problems = {}
        for name, check in self.checks.items():
            try:
                problem = await asyncio.wait_for(check(), CHECK_TIMEOUT)
            except TimeoutError:
                problem = f"no answer within {CHECK_TIMEOUT:g} s"
            except Exception as error:  # a failing check is an answer, not a crash
                problem = f"{type(error).__name__}: {error}"
            if problem:
                problems[name] = problem
        if problems:
            return web.json_response({"status": "unready", "problems": problems}, status=503)
        return web.json_response({"status": "ready"})

    async def _metrics(self, request: web.Request) -> web.Response:
        return web.Response(body=generate_latest(self.registry), headers={"Content-Type": CONTENT_TYPE_LATEST})
