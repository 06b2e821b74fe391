"""Run the stream worker in the foreground until SIGINT/SIGTERM (``hypercare worker``)."""

from __future__ import annotations

import asyncio

import uvloop
from faust.worker import Worker

from hypercare.collector import freeze_what_start_built, tune_collector
from hypercare.settings import Settings
from hypercare.topics import ensure_topics
from streams.app import create_app


def run_worker(settings: Settings) -> None:
    # uvloop's event loop (libuv, in C) for the worker's and its consumer thread's loops: the stdlib loop's own
    # scheduling and socket handling were about a tenth of the worker's time at full rate.
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(ensure_topics(settings))
    finally:
        loop.close()
    asyncio.set_event_loop(asyncio.new_event_loop())
    tune_collector()  # its states are a large heap too (hypercare.collector)
    app = create_app(settings)
    freeze_what_start_built()
    worker = Worker(app, loglevel=settings.log_level.lower(), quiet=True)
    # Faust's terminal spinner sets the root logger to DEBUG so that it spins on every record: every
    # aiokafka debug message was then built and formatted, about 8% of the worker's CPU.
    worker.spinner = None
    worker.execute_from_commandline()
