"""The fault suite's report: one row per fault (sent | counted | lost | duplicated), printed after the run."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fault_oracle import Verdict

VERDICTS: list[Verdict] = []
REPORT = Path(__file__).resolve().parents[1] / "artifacts" / "faults.md"


@pytest.fixture
def report() -> Callable[[Verdict], None]:
    return VERDICTS.append


def table() -> str:
    lines = ["| fault | sent | counted | lost | duplicated |", "| --- | ---: | ---: | ---: | ---: |"]
    lines += [f"| {v.fault} | {v.sent} | {v.counted} | {v.lost} | {v.duplicated} |" for v in VERDICTS]
    return "\n".join(lines)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not VERDICTS:
        return
    terminalreporter.section("fault suite: events sent, counted, lost and counted twice")
    terminalreporter.write_line(table())
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(table() + "\n", encoding="utf-8")
