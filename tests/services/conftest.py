"""Service APIs through the real app (``services.app.create_app``) over httpx's ASGI transport.

Each test gets its own org registry with unique ids, so its figures are exact while every test
shares one database. Events are written with the stream worker's own ``store_events``.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import stored_events
import yaml
from fastapi import FastAPI

from hypercare.contract.events import new_id
from hypercare.settings import Settings
from hypercare.storage.db import Database
from services.app import create_app
from services.auth.tokens import TokenCache, issue_token

ROLES = ("admin", "chief", "agent", "floorwalker", "viewer", "source")


@dataclass
class Org:
    """Ids of a small org registry unique to one test: two administrations, three sites, five units."""

    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:8].upper())

    def id(self, kind: str, name: str) -> str:
        return f"T{self.tag}-{kind}{name}"

    @property
    def admin_a(self) -> str:
        return self.id("F", "A")

    @property
    def admin_b(self) -> str:
        return self.id("F", "B")

    @property
    def site_a1(self) -> str:
        return self.id("S", "A1")

    @property
    def site_a2(self) -> str:
        return self.id("S", "A2")

    @property
    def site_b1(self) -> str:
        return self.id("S", "B1")

    def unit(self, name: str) -> str:
        return self.id("E", name)

    def document(self) -> dict[str, Any]:
        return {
            "region": {"id": self.id("R", ""), "name": "Testregionen"},
            "administrations": [
                {
                    "id": self.admin_a,
                    "name": "Förvaltning A",
                    "sites": [
                        {
                            "id": self.site_a1,
                            "name": "Plats A1",
                            "units": [
                                {"id": self.unit("A1ED"), "name": "Akutmottagning A1", "kind": "ed"},
                                {"id": self.unit("A1W1"), "name": "Avdelning 1", "kind": "ward"},
                            ],
                        },
                        {
                            "id": self.site_a2,
                            "name": "Plats A2",
                            "units": [
                                {"id": self.unit("A2W1"), "name": "Avdelning 2", "kind": "ward"},
                            ],
                        },
                    ],
                },
                {
                    "id": self.admin_b,
                    "name": "Förvaltning B",
                    "sites": [
                        {
                            "id": self.site_b1,
                            "name": "Plats B1",
                            "units": [
                                {"id": self.unit("B1ED"), "name": "Akutmottagning B1", "kind": "ed"},
                                {"id": self.unit("B1W1"), "name": "Avdelning 3", "kind": "ward"},
                            ],
                        },
                    ],
                },
            ],
        }


@dataclass
class ConsoleApi:
    app: FastAPI
    db: Database
    org: Org
    tokens: dict[str, str]

    def client(self, role: str | None = "admin") -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://test", headers=headers)

    async def get(self, path: str, role: str = "viewer", **params: Any) -> httpx.Response:
        async with self.client(role) as client:
            return await client.get(path, params=params)

    async def store(self, *events: dict[str, Any]) -> None:
        """Validate (and redact) like the ingest API, then store like the stream worker."""
        await stored_events.store(self.db, *events)


def make_event(type_: str, unit_id: str, at: datetime, **fields: Any) -> dict[str, Any]:
    return {
        "event_id": new_id("e"),
        "type": type_,
        "occurred_at": at.isoformat(),
        "unit_id": unit_id,
        **fields,
    }


@pytest.fixture
async def api(db_url: str, tmp_path: Path) -> AsyncIterator[ConsoleApi]:
    org = Org()
    org_file = tmp_path / "org.yaml"
    org_file.write_text(yaml.safe_dump(org.document(), allow_unicode=True), encoding="utf-8")
    app = create_app(Settings(database_url=db_url, org_file=org_file, data_dir=tmp_path))
    db = Database.from_url(db_url)
    app.state.db = db
    app.state.token_cache = TokenCache(ttl=30)
    tokens = {role: await issue_token(db, role=role, name=f"console-{role}-{org.tag}") for role in ROLES}
    try:
        yield ConsoleApi(app=app, db=db, org=org, tokens=tokens)
    finally:
        await db.close()


EventFactory = Callable[..., dict[str, Any]]


@pytest.fixture
def ev() -> EventFactory:
    return make_event
