"""The real product as processes: a worker and an API on the session broker and database, per test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from hc_testkit import Pipeline, running

from hypercare.settings import Settings


@pytest.fixture
async def pipeline(settings_factory: Callable[..., Settings], tmp_path: Path) -> AsyncIterator[Pipeline]:
    """A pipeline on the default settings; a module overrides this fixture for other settings."""
    async with running(settings_factory(), tmp_path) as started:
        yield started
