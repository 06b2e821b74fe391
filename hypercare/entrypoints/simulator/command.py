"""``hypercare simulate``: issue the simulator's tokens, wait for the API, run the cut-over traffic."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from hypercare.entrypoints.simulator.runner import run_simulation, simulator_tokens, wait_for_api
from hypercare.org.registry import load_org
from hypercare.settings import Settings

log = logging.getLogger("hypercare.entrypoints.simulator")

API_WAIT_SECONDS = 120.0


def api_base_url(settings: Settings) -> str:
    """Where the API listens, as a client reaches it (a wildcard bind address means this machine)."""
    host = settings.host
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{settings.port}"


def simulate_command(settings: Settings, *, speed: float, seed: int, duration: float | None, wait: bool) -> None:
    """Run the generator in the foreground; SIGTERM or Ctrl-C end it cleanly (exit status 0)."""
    from hypercare.storage.db import Database
    from hypercare.storage.migrate import upgrade_database

    url = settings.effective_database_url
    base_url = api_base_url(settings)
    org = load_org(settings.org_file)
    upgrade_database(url)  # a no-op under `hypercare up`, which migrates first

    async def main() -> None:
        db = Database.from_url(url)
        try:
            token_source, token_chief = await simulator_tokens(db)
        finally:
            await db.close()
        if wait:
            await wait_for_api(base_url, API_WAIT_SECONDS)
        await run_simulation(
            base_url=base_url,
            token_source=token_source,
            token_chief=token_chief,
            speed=speed,
            seed=seed,
            duration=duration,
            org=org,
        )

    async def guarded() -> None:
        task = asyncio.create_task(main())
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError):  # no signal handlers on some platforms
            loop.add_signal_handler(signal.SIGTERM, task.cancel)
        try:
            await task
        except asyncio.CancelledError:
            log.info("simulator stopped")

    try:
        asyncio.run(guarded())
    except KeyboardInterrupt:
        log.info("simulator stopped")


__all__ = ["api_base_url", "simulate_command"]
