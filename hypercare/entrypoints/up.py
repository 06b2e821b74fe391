"""``hypercare up``: broker (when embedded), migrations, stream worker and API under one supervisor."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from hypercare.entrypoints.embedded_broker import EmbeddedBroker, free_port
from hypercare.settings import Settings

STOP_TIMEOUT = 20.0


def _spawn(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "hypercare.entrypoints.cli", *args], env=env, stdin=subprocess.DEVNULL
    )


def _first_admin_token(settings: Settings) -> str | None:
    from hypercare.storage.db import Database
    from services.auth.tokens import free_name, has_admin_token, issue_token

    async def run() -> str | None:
        db = Database.from_url(settings.effective_database_url)
        try:
            if await has_admin_token(db):
                return None
            return await issue_token(db, role="admin", name=await free_name(db, "first-admin"))
        finally:
            await db.close()

    return asyncio.run(run())


def _stop(process: subprocess.Popen[bytes] | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def run_up(settings: Settings, *, simulate: bool = False, simulate_speed: float = 1.0, api_workers: int = 1) -> int:
    from hypercare.storage.migrate import upgrade_database

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env["HYPERCARE_DATA_DIR"] = str(settings.data_dir.resolve())
    broker: EmbeddedBroker | None = None
    if settings.embedded_broker:
        port = 9092 if _port_free(9092) else free_port()
        broker = EmbeddedBroker(port=port, log_file=settings.data_dir / "broker.log").start()
        env["HYPERCARE_KAFKA_BOOTSTRAP"] = broker.bootstrap
        print(f"Embedded Kafka-compatible broker (Tansu, memory only) on {broker.bootstrap}", flush=True)
        print(
            "  Note: the embedded broker keeps everything in memory and loses it on stop; "
            "use Apache Kafka (HYPERCARE_KAFKA_BOOTSTRAP) for more than a day-scale run.",
            flush=True,
        )
    if not _port_free(settings.worker_web_port):
        env["HYPERCARE_WORKER_WEB_PORT"] = str(free_port())
    print(f"Database: {_safe_url(settings.effective_database_url)}", flush=True)
    upgrade_database(settings.effective_database_url)
    token = _first_admin_token(settings)
    if token:
        print(f"\nFirst start: admin token (keep it, it is shown once):\n  {token}\n", flush=True)

    children: dict[str, subprocess.Popen[bytes]] = {}
    stopping = False

    def request_stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    exit_code = 0
    if simulate:
        # The simulated cut-over goes live as the simulation starts: never-visited units count from then.
        env.setdefault("HYPERCARE_GO_LIVE_AT", datetime.now(UTC).isoformat(timespec="seconds"))
        # Every process reads one registry whose waves are retimed around now: one going live, one in readiness,
        # one finished (hypercare.entrypoints.simulator.waves).
        env["HYPERCARE_ORG_FILE"] = str(_simulation_registry(settings))
        print(f"Simulation: the org registry's waves retimed around now in {env['HYPERCARE_ORG_FILE']}", flush=True)
    try:
        children["worker"] = _spawn(["worker"], env)
        children["api"] = _spawn(["api", "--workers", str(api_workers)], env)
        if simulate:
            children["simulator"] = _spawn(["simulate", "--speed", str(simulate_speed), "--wait-for-api"], env)
        print(
            f"Hypercare is starting on http://{settings.host}:{settings.port}/  (Ctrl-C stops everything)", flush=True
        )
        while not stopping:
            for name, child in children.items():
                code = child.poll()
                if code is not None and not (name == "simulator" and code == 0):
                    print(f"{name} exited with status {code}; stopping", file=sys.stderr, flush=True)
                    exit_code = code or 1
                    stopping = True
            time.sleep(0.2)
    finally:
        print("Stopping…", flush=True)
        for name in ("simulator", "api", "worker"):
            _stop(children.get(name))
        if broker is not None:
            broker.stop()
    return exit_code


def _simulation_registry(settings: Settings) -> Path:
    """The registry in use (``HYPERCARE_ORG_FILE`` or the shipped one) with its waves laid out for the simulation,
    written to the data directory."""
    from importlib.resources import files

    import yaml

    from hypercare.entrypoints.simulator.waves import simulation_registry
    from hypercare.org.registry import load_org

    source = settings.org_file
    text = (
        source.read_text(encoding="utf-8")
        if source
        else files("hypercare.org").joinpath("default_org.yaml").read_text(encoding="utf-8")
    )
    document = simulation_registry(yaml.safe_load(text), load_org(source), datetime.now(UTC))
    target = settings.data_dir / "simulated_org.yaml"
    target.write_text(
        "# Written by `hypercare up --simulate`: the org registry with its waves retimed around the start.\n"
        + yaml.safe_dump(document, allow_unicode=True, sort_keys=False),
        encoding="utf-8",
    )
    return target.resolve()


def _port_free(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


__all__ = ["run_up"]
