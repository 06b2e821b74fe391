"""``hypercare up`` (what ``make up`` runs) on the embedded defaults: starts, answers, stops on Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from hypercare.entrypoints.embedded_broker import free_port

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_up_starts_everything_and_ctrl_c_stops_it(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYPERCARE_")}
    env.update({"HYPERCARE_PORT": str(port), "HYPERCARE_DATA_DIR": str(tmp_path / "var"), "PYTHONUNBUFFERED": "1"})
    log = (tmp_path / "up.log").open("w+b")
    process = subprocess.Popen(
        [sys.executable, "-m", "hypercare.entrypoints.cli", "up"],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        token = None
        deadline = time.monotonic() + 60
        situation = None
        while time.monotonic() < deadline and situation is None:
            assert process.poll() is None, (tmp_path / "up.log").read_text()
            text = (tmp_path / "up.log").read_text(errors="replace")
            match = re.search(r"admin token.*\n\s+(hc_\S+)", text)
            token = match.group(1) if match else None
            if token:
                try:
                    response = httpx.get(
                        f"http://127.0.0.1:{port}/api/v1/situation",
                        headers={"Authorization": f"Bearer {token}"},
                        timeout=5,
                    )
                    if response.status_code == 200:
                        situation = response.json()
                except httpx.TransportError:
                    pass
            time.sleep(0.3)
        assert situation is not None, (tmp_path / "up.log").read_text()
        assert situation["region"]["name"] == "Västra Götalandsregionen"
        assert {a["name"] for a in situation["administrations"]} >= {"Södra Älvsborgs Sjukhus", "Närhälsan"}
        assert (tmp_path / "var" / "hypercare.db").exists()

        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0
        with pytest.raises(httpx.TransportError):
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    # Children are gone with it: the worker and API (same process group) and the broker's port.
    with pytest.raises(ProcessLookupError):
        os.killpg(process.pid, 0)
    broker = re.search(r"broker \(Tansu, memory only\) on 127\.0\.0\.1:(\d+)", (tmp_path / "up.log").read_text())
    assert broker is not None
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", int(broker.group(1)))) != 0
