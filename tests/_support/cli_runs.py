"""Running ``hypercare`` commands as their own processes against a test pipeline, as a user would."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from hc_testkit import REPO, Pipeline
from prometheus_client.parser import text_string_to_metric_families


def cli(pipeline: Pipeline, *args: str, log: Path) -> subprocess.Popen[bytes]:
    """``hypercare ARGS`` as its own process (stdout to ``log``.out, stderr to ``log``.err)."""
    return subprocess.Popen(
        [sys.executable, "-m", "hypercare.entrypoints.cli", *args],
        env=pipeline.env,
        cwd=REPO,
        stdout=log.with_suffix(".out").open("wb"),
        stderr=log.with_suffix(".err").open("wb"),
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )


async def until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        await asyncio.sleep(0.05)


async def exited(process: subprocess.Popen[bytes], timeout: float) -> int:
    await until(lambda: process.poll() is not None, timeout, "the command to finish")
    return int(process.returncode)


async def counter_sum(url: str, name: str, **labels: str) -> float:
    async with httpx.AsyncClient(timeout=10) as client:
        text = (await client.get(f"{url}/metrics")).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items())
    )
