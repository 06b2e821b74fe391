"""Shared pieces of the deployment tests: the repository root and the offline validation tools.

The validators live outside the project's venv (check-jsonschema needs click >= 8.5, faust pins
click < 8.4): a tool venv at .venv-tools/ and Debian's promtool. A missing tool fails the test with
the command that installs it, rather than skipping: a skipped validation would pass CI silently.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TOOLS_VENV = REPO / ".venv-tools"
_TOOLS_INSTALL = "make tools (a venv .venv-tools from requirements/tools.txt)"
TOOL_INSTALL = {
    "kubernetes-validate": _TOOLS_INSTALL,
    "check-jsonschema": _TOOLS_INSTALL,
    "promtool": "apt-get install -y --no-install-recommends prometheus",
    "kubectl": _TOOLS_INSTALL,
}


def tool_path(name: str) -> str:
    candidate = TOOLS_VENV / "bin" / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed; install it with: {TOOL_INSTALL[name]}")
    return found


def run_tool(name: str, *args: str | Path, cwd: Path = REPO, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run a validation tool; all of them work offline (schemas are bundled, nothing is fetched)."""
    return subprocess.run(
        [tool_path(name), *map(str, args)],
        check=False,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def tool() -> Callable[..., subprocess.CompletedProcess[str]]:
    return run_tool
