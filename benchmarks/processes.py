"""The benchmarks' server processes: environment from a Settings, start, stop, and resident memory."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from hypercare.settings import Settings


def env_for(settings: Settings) -> dict[str, str]:
    """This environment without any HYPERCARE_* of its own, plus ``settings`` as HYPERCARE_* variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYPERCARE_")}
    for name, value in settings.model_dump().items():
        if value is not None:
            env[f"HYPERCARE_{name.upper()}"] = str(value)
    return env


def spawn(args: list[str], env: dict[str, str], log: Path, *, cwd: Path) -> subprocess.Popen[bytes]:
    """``hypercare ARGS`` in its own session (so a stop reaches its children), output appended to ``log``."""
    return subprocess.Popen(
        [sys.executable, "-m", "hypercare.entrypoints.cli", *args],
        env=env,
        cwd=cwd,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, and after 20 s SIGKILL to its whole session."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def rss_mib(pid: int) -> tuple[float, float]:
    """A process's resident set now and at its peak (VmRSS, VmHWM), MiB; zeros once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0, 0.0
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    if "VmRSS" not in fields:  # exited, not yet reaped
        return 0.0, 0.0
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024
