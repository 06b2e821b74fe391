"""``hypercare up --simulate``: a newcomer sees a wave going live, a wave in readiness and a finished wave."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from hypercare.entrypoints.embedded_broker import free_port

EXPECTED = {"sodra": "live", "vastra": "readiness", "norra": "exited", "ostra": "planned"}


@pytest.mark.slow
def test_a_short_simulated_run_shows_three_wave_states(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYPERCARE_")}
    env.update({"HYPERCARE_PORT": str(port), "HYPERCARE_DATA_DIR": str(tmp_path / "var"), "PYTHONUNBUFFERED": "1"})
    log_path = tmp_path / "up.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "hypercare.entrypoints.cli", "up", "--simulate", "--speed", "30"],
        cwd=tmp_path,
        env=env,
        stdout=log_path.open("w+b"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        waves: dict[str, Any] = {}
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline:
            assert process.poll() is None, log_path.read_text(errors="replace")
            match = re.search(r"admin token.*\n\s+(hc_\S+)", log_path.read_text(errors="replace"))
            if match:
                try:
                    response = httpx.get(
                        f"http://127.0.0.1:{port}/api/v1/waves",
                        headers={"Authorization": f"Bearer {match.group(1)}"},
                        timeout=10,
                    )
                    if response.status_code == 200:
                        waves = {w["wave_id"]: w for w in response.json()["waves"]}
                        if {k: w["status"] for k, w in waves.items()} == EXPECTED:
                            break
                except httpx.TransportError:
                    pass
            time.sleep(1)
        assert {k: w["status"] for k, w in waves.items()} == EXPECTED, log_path.read_text(errors="replace")[-3000:]
        live, ready, done = waves["sodra"], waves["vastra"], waves["norra"]
        assert live["hours_since_go_live"] is not None and live["hours_since_go_live"] < 1
        # Readiness assessments arrived: most of the wave's items are assessed, some units still block the gate.
        assert ready["readiness"]["status"] == "red" and 0 < len(ready["readiness"]["blocking_unit_ids"]) < 6
        assert ready["readiness"]["units"]["green"] > 0
        assert done["registry_status"] == "live" and done["handover"]["decision"] == "handover"
        assert 239 < done["hours_since_go_live"] < 241
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
