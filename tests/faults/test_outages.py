"""A gateway restart with 200 consoles connected: every one reconnects at once and gets a fresh snapshot, and the
picture is exact by the same oracle."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import websockets
from fault_oracle import Verdict, mixed_load
from fault_runs import assert_exact, post_all, settle_and_judge
from hc_testkit import running

from hypercare.settings import Settings

pytestmark = pytest.mark.slow
CLIENTS = 200


class Console:
    """One WebSocket client that signs in with its first message and keeps the newest snapshot's seq."""

    def __init__(self, url: str, token: str) -> None:
        self.url, self.token = url, token
        self.snapshots = 0
        self.connected = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                async with websockets.connect(self.url, open_timeout=30, max_size=None) as socket:
                    await socket.send(json.dumps({"type": "auth", "token": self.token}))
                    async for raw in socket:
                        message = json.loads(raw)
                        if message.get("type") == "snapshot":
                            self.snapshots += 1
                            self.connected.set()
                        if stop.is_set():
                            return
            except (TimeoutError, OSError, websockets.exceptions.WebSocketException):
                self.connected.clear()
                await asyncio.sleep(0.2)  # what the console does: reconnect at once, a little later on failure


async def test_two_hundred_consoles_reconnect_at_once_after_a_gateway_restart(
    settings_factory: Callable[..., Settings], tmp_path: Path, report: Callable[[Verdict], None]
) -> None:
    async with running(settings_factory(gateway_client_send_timeout=30.0), tmp_path) as pipeline:
        await pipeline.wait_worker_ready()
        url = f"ws://127.0.0.1:{pipeline.settings.port}/ws/situation"
        consoles = [Console(url, pipeline.tokens["viewer"]) for _ in range(CLIENTS)]
        stop = asyncio.Event()
        tasks = [asyncio.create_task(console.run(stop)) for console in consoles]
        try:
            await asyncio.wait_for(asyncio.gather(*(c.connected.wait() for c in consoles)), 60)
            events = mixed_load(seed=5, count=1500)
            await post_all(pipeline, events[:700], batch=100)
            pipeline.restart_api(kill=True)
            await pipeline.wait_api()
            # Every console is back with a fresh snapshot from the restarted gateway.
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline and not all(c.snapshots >= 2 and c.connected.is_set() for c in consoles):
                await asyncio.sleep(0.5)
            back = sum(c.snapshots >= 2 and c.connected.is_set() for c in consoles)
            assert back == CLIENTS, f"{CLIENTS - back} of {CLIENTS} consoles did not get a snapshot after the restart"
            await post_all(pipeline, events[700:], batch=100)
            assert_exact(
                await settle_and_judge(pipeline, f"gateway restart, {CLIENTS} consoles reconnecting", events), report
            )
        finally:
            stop.set()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
