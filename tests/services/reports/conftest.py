"""The report API through the real app (``services.app.create_app``) on PostgreSQL and SQLite.

Each test gets an org registry with unique ids and its own past date (``report_day.fresh_day``), so its
figures are exact while every test shares one database. Events are stored like the stream worker does.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import yaml
from report_api import ROLES, ReportApi, ReportOrg, WideOrg

from hypercare.settings import Settings
from hypercare.storage.db import Database
from services.app import create_app
from services.auth.tokens import TokenCache, issue_token


@asynccontextmanager
async def report_api(db_url: str, tmp_path: Path, org: ReportOrg) -> AsyncIterator[ReportApi]:
    """The real app on ``db_url`` with ``org`` as its org registry and a token for every role."""
    org_file = tmp_path / "org.yaml"
    org_file.write_text(yaml.safe_dump(org.document(), allow_unicode=True), encoding="utf-8")
    settings = Settings(database_url=db_url, org_file=org_file, data_dir=tmp_path)
    app = create_app(settings)
    db = Database.from_url(db_url)
    app.state.db = db
    app.state.token_cache = TokenCache(ttl=30)
    tokens = {role: await issue_token(db, role=role, name=f"report-{role}-{org.tag}") for role in ROLES}
    try:
        yield ReportApi(app=app, db=db, db_url=db_url, org=org, tokens=tokens, settings=settings)
    finally:
        await db.close()


@pytest.fixture
async def api(db_url: str, tmp_path: Path) -> AsyncIterator[ReportApi]:
    async with report_api(db_url, tmp_path, ReportOrg()) as made:
        yield made


@pytest.fixture
async def wide_api(pg_url: str, tmp_path: Path) -> AsyncIterator[ReportApi]:
    """Like ``api`` (on PostgreSQL only) with many administrations and emergency departments (``WideOrg``)."""
    async with report_api(pg_url, tmp_path, WideOrg()) as made:
        yield made
