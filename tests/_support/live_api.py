"""The real app served by uvicorn inside the test process, on a free port of 127.0.0.1, with its lifespan.

``serving`` runs it as a task of the test's event loop (async tests); ``serving_in_thread`` in a thread of its
own, for synchronous callers such as schemathesis. Both wait until uvicorn listens and stop it on the way out.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

import uvicorn
from fastapi import FastAPI

from hypercare.entrypoints.embedded_broker import free_port
from hypercare.settings import Settings
from services.app import create_app

START_SECONDS = 30.0


def _server(app: FastAPI) -> tuple[uvicorn.Server, str]:
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    return uvicorn.Server(config), f"http://127.0.0.1:{port}"


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[tuple[str, FastAPI]]:
    """``(base URL, app)`` of ``create_app(settings)`` (producer, situation store, hub running) in this loop."""
    app = create_app(settings)
    server, url = _server(app)
    task = asyncio.create_task(server.serve())
    deadline = time.monotonic() + START_SECONDS
    while not server.started:
        if task.done() or time.monotonic() > deadline:
            raise RuntimeError("the API did not start")
        await asyncio.sleep(0.05)
    try:
        yield url, app
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, START_SECONDS)


@contextmanager
def serving_in_thread(settings: Settings, *, name: str = "live-api") -> Iterator[str]:
    """The base URL of ``create_app(settings)`` served from a thread with its own event loop."""
    server, url = _server(create_app(settings))
    thread = threading.Thread(target=server.run, name=name, daemon=True)
    thread.start()
    deadline = time.monotonic() + START_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the API did not start")
        time.sleep(0.05)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(START_SECONDS)
