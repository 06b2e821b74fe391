"""Running the real product for tests: stream worker and API as subprocesses on the session broker.

Each pipeline gets its own topic prefix, so pipelines never see each other's events.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from hypercare.contract.events import new_id
from hypercare.entrypoints.embedded_broker import free_port
from hypercare.settings import Settings
from hypercare.storage.db import Database
from services.auth.tokens import issue_token

REPO = Path(__file__).resolve().parents[2]


def settings_env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYPERCARE_")}
    for name, value in settings.model_dump().items():
        if value is not None:
            env[f"HYPERCARE_{name.upper()}"] = str(value)
    env["PYTHONUNBUFFERED"] = "1"
    return env


class Pipeline:
    def __init__(self, settings: Settings, log_dir: Path, *, api_args: tuple[str, ...] = ()) -> None:
        self.api_args = api_args  # e.g. ("--workers", "2")
        self.settings = settings.model_copy(update={"port": free_port(), "worker_web_port": free_port()})
        self.env = settings_env(self.settings)
        self.log_dir = log_dir
        self.worker: subprocess.Popen[bytes] | None = None
        self.api: subprocess.Popen[bytes] | None = None
        self.base_url = f"http://127.0.0.1:{self.settings.port}"
        self.worker_url = f"http://127.0.0.1:{self.settings.worker_web_port}"
        self.tokens: dict[str, str] = {}
        self.names: dict[str, str] = {}  # role -> the name of its token
        self._worker_starts = 0
        self.more_workers: list[subprocess.Popen[bytes]] = []

    # processes -----------------------------------------------------------------------------
    def _spawn(
        self,
        name: str,
        *,
        env: dict[str, str] | None = None,
        log_name: str | None = None,
        args: tuple[str, ...] = (),
    ) -> subprocess.Popen[bytes]:
        log = (self.log_dir / f"{log_name or name}.log").open("ab")
        return subprocess.Popen(
            [sys.executable, "-m", "hypercare.entrypoints.cli", name, *args],
            env=env or self.env,
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )

    def start_another_worker(self, name: str) -> tuple[subprocess.Popen[bytes], str]:
        """One more worker in the same consumer group (own web port and data directory); its URL."""
        port = free_port()
        settings = self.settings.model_copy(update={"worker_web_port": port, "data_dir": self.log_dir / name})
        process = self._spawn("worker", env=settings_env(settings), log_name=name)
        self.more_workers.append(process)
        return process, f"http://127.0.0.1:{port}"

    def start_worker(self) -> None:
        self._worker_starts += 1
        self.worker = self._spawn("worker")

    def kill_worker(self) -> None:
        assert self.worker is not None
        os.killpg(self.worker.pid, signal.SIGKILL)
        self.worker.wait()

    def stop_worker(self) -> None:
        if self.worker is not None and self.worker.poll() is None:
            self.worker.send_signal(signal.SIGTERM)
            try:
                self.worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.worker.pid, signal.SIGKILL)
                self.worker.wait()

    async def start(self) -> None:
        db = Database.from_url(self.settings.effective_database_url)
        try:
            # Token names are unique per database, and pipelines may share one: each pipeline's are its own.
            suffix = new_id("t")[-8:]
            for role in ("admin", "chief", "agent", "floorwalker", "viewer", "source"):
                self.names[role] = f"test-{role}-{suffix}"
                self.tokens[role] = await issue_token(db, role=role, name=self.names[role])
        finally:
            await db.close()
        self.start_worker()
        self.api = self._spawn("api", args=self.api_args)
        await self.wait_api()

    async def wait_api(self, timeout: float = 30.0) -> None:
        """Until the API answers /healthz."""
        assert self.api is not None
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient() as client:
            while time.monotonic() < deadline:
                if self.api.poll() is not None:
                    raise RuntimeError(f"API exited:\n{self.log('api')}")
                try:
                    if (await client.get(f"{self.base_url}/healthz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError(f"API did not start:\n{self.log('api')}")

    def restart_api(self, *, kill: bool = False) -> None:
        """Stop the API (SIGTERM, or SIGKILL with ``kill``) and start a new one on the same port."""
        assert self.api is not None
        if kill:
            os.killpg(self.api.pid, signal.SIGKILL)
        else:
            self.api.send_signal(signal.SIGTERM)
        try:
            self.api.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.api.pid, signal.SIGKILL)
            self.api.wait()
        self.api = self._spawn("api", args=self.api_args)

    async def wait_worker_ready(self, timeout: float = 60.0, *, url: str | None = None) -> None:
        """Until the worker has joined its group and serves its own port (it starts that last)."""
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient() as client:
            while time.monotonic() < deadline:
                try:
                    if (await client.get(f"{url or self.worker_url}/healthz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        raise AssertionError(f"worker not ready after {timeout:g} s:\n{self.log('worker')}")

    def stop(self) -> None:
        for process in (self.api, self.worker, *self.more_workers):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in (self.api, self.worker, *self.more_workers):
            if process is not None:
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()

    def log(self, name: str) -> str:
        path = self.log_dir / f"{name}.log"
        return path.read_text(errors="replace")[-6000:] if path.exists() else ""

    # HTTP ----------------------------------------------------------------------------------
    def client(self, role: str | None = "admin") -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}
        return httpx.AsyncClient(base_url=self.base_url, headers=headers, timeout=30)

    async def post_events(self, events: Any, role: str = "admin", **kwargs: Any) -> httpx.Response:
        async with self.client(role) as client:
            return await client.post("/api/v1/events", json=events, **kwargs)

    async def get(self, path: str, role: str = "admin") -> httpx.Response:
        async with self.client(role) as client:
            return await client.get(path)

    async def wait_for(
        self, path: str, predicate: Callable[[dict[str, Any]], bool], *, timeout: float = 60.0
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        last: dict[str, Any] = {}
        while time.monotonic() < deadline:
            response = await self.get(path)
            if response.status_code == 200:
                last = response.json()
                if predicate(last):
                    return last
            await asyncio.sleep(0.2)
        raise AssertionError(f"timed out waiting on {path}; last answer: {last}\nworker log:\n{self.log('worker')}")


@asynccontextmanager
async def running(settings: Settings, log_dir: Path, *, api_args: tuple[str, ...] = ()) -> AsyncIterator[Pipeline]:
    """A started pipeline (worker and API processes), stopped on the way out."""
    pipeline = Pipeline(settings, log_dir, api_args=api_args)
    try:
        await pipeline.start()
        yield pipeline
    finally:
        pipeline.stop()


# event builders -----------------------------------------------------------------------------
def ts(minutes_ago: float = 0.0) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes_ago)).isoformat()


def eid(prefix: str = "e") -> str:
    return new_id(prefix)  # letters: random hex digits can read as an identity number, which ids may not hold


def event(type_: str, unit_id: str, minutes_ago: float = 0.0, **fields: Any) -> dict[str, Any]:
    return {"event_id": eid(), "type": type_, "occurred_at": ts(minutes_ago), "unit_id": unit_id, **fields}
