"""The one way we wrap Faust's methods: once per process, originals kept, every patch documented."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from streams import faust_patches, offset_guard, record_feed, tansu_compat
from streams.faust_patches import Patch

ROOT = Path(__file__).resolve().parents[2]


class Target:
    def greet(self, name: str) -> str:
        return f"hello {name}"


def _loud(original: Callable[..., Any]) -> Callable[..., Any]:
    def greet(self: Any, name: str) -> str:
        return str(original(self, name)).upper()

    return greet


def test_install_wraps_once_and_keeps_the_original() -> None:
    before = Target.greet
    patch = Patch(Target, "greet", _loud, why="test")
    faust_patches.install(patch)
    faust_patches.install(patch)  # a second app in the same process: no double wrap
    assert Target().greet("faust") == "HELLO FAUST"
    assert faust_patches.original(Target, "greet") is before
    assert patch in faust_patches.installed()
    with pytest.raises(RuntimeError, match=r"Target\.greet is already wrapped"):
        faust_patches.install(Patch(Target, "greet", lambda original: original, why="another"))


def test_every_patch_is_listed_with_its_reason_in_the_module_doc() -> None:
    doc = faust_patches.__doc__ or ""
    for module in (tansu_compat, offset_guard, record_feed):
        for patch in module.PATCHES:
            assert patch.why
            assert f"``{patch.label}``" in doc, patch.label
            assert f"``{module.__name__}``" in doc


def test_the_worker_installs_all_six_patches_once() -> None:
    """In a fresh interpreter, so this test process's Faust classes stay untouched."""
    script = textwrap.dedent(
        """
        from faust.transport import consumer
        from faust.transport.drivers import aiokafka
        from streams import faust_patches, offset_guard, record_feed, tansu_compat

        seek = consumer.Consumer.seek
        for _ in range(2):
            tansu_compat.install(fetch_wait_ms=20)
            offset_guard.install(frozenset({"a"}))
            record_feed.install(frozenset({"a"}))
        print(sorted(p.label for p in faust_patches.installed()))
        assert faust_patches.original(consumer.Consumer, "seek") is seek
        assert consumer.Consumer.seek is not seek
        assert offset_guard._gapless_topics == record_feed._fed_topics == frozenset({"a"})
        assert tansu_compat._fetch_wait_ms == 20
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(
        sorted(
            [
                "AIOKafkaConsumerThread._create_worker_consumer",
                "AIOKafkaConsumerThread._highwaters",
                "Consumer._wait_next_records",
                "Consumer.perform_seek",
                "Consumer.seek",
                "Consumer.wait_empty",
            ]
        )
    )
