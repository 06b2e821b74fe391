"""The report API through the real app, for the report tests: an org of its own and stored events."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import stored_events
from fastapi import FastAPI

from hypercare.settings import Settings
from hypercare.storage.db import Database

ROLES = ("admin", "chief", "agent", "floorwalker", "viewer", "source")


@dataclass
class ReportOrg:
    """Two administrations with an emergency department each, and a receiving ED."""

    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:8].upper())

    def id(self, kind: str, name: str) -> str:
        return f"R{self.tag}-{kind}{name}"

    @property
    def region(self) -> str:
        return self.id("R", "")

    @property
    def admin_a(self) -> str:
        return self.id("F", "A")

    @property
    def admin_b(self) -> str:
        return self.id("F", "B")

    def unit(self, name: str) -> str:
        return self.id("E", name)

    @property
    def admin_of(self) -> dict[str, str]:
        """The units the simulated day uses (not the receiving ED)."""
        return {
            self.unit("A1ED"): self.admin_a,
            self.unit("A1W1"): self.admin_a,
            self.unit("A1W2"): self.admin_a,
            self.unit("A2W1"): self.admin_a,
            self.unit("B1ED"): self.admin_b,
            self.unit("B1W1"): self.admin_b,
        }

    @property
    def eds(self) -> list[str]:
        return [self.unit("A1ED"), self.unit("B1ED")]

    def document(self) -> dict[str, Any]:
        return {
            "region": {"id": self.region, "name": "Testregionen"},
            "administrations": [
                {
                    "id": self.admin_a,
                    "name": "Förvaltning Alfa",
                    "sites": [
                        {
                            "id": self.id("S", "A1"),
                            "name": "Plats A1",
                            "units": [
                                {"id": self.unit("A1ED"), "name": "Akutmottagning A1", "kind": "ed"},
                                {"id": self.unit("A1W1"), "name": "Avdelning 1", "kind": "ward"},
                                {"id": self.unit("A1W2"), "name": "Avdelning 2", "kind": "ward"},
                            ],
                        },
                        {
                            "id": self.id("S", "A2"),
                            "name": "Plats A2",
                            "units": [
                                {"id": self.unit("A2W1"), "name": "Avdelning 3", "kind": "ward"},
                            ],
                        },
                    ],
                },
                {
                    "id": self.admin_b,
                    "name": "Förvaltning Beta",
                    "sites": [
                        {
                            "id": self.id("S", "B1"),
                            "name": "Plats B1",
                            "units": [
                                {"id": self.unit("B1ED"), "name": "Akutmottagning B1", "kind": "ed"},
                                {"id": self.unit("B1W1"), "name": "Avdelning 4", "kind": "ward"},
                                {"id": self.unit("B1RX"), "name": "Akutmottagning B2", "kind": "ed"},
                            ],
                        },
                    ],
                },
            ],
        }


@dataclass
class ReportApi:
    app: FastAPI
    db: Database
    db_url: str
    org: ReportOrg
    tokens: dict[str, str]
    settings: Settings

    def client(self, role: str | None = "admin") -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://test", headers=headers, timeout=60
        )

    async def get(self, path: str, role: str = "viewer", **params: Any) -> httpx.Response:
        async with self.client(role) as client:
            return await client.get(path, params=params)

    async def post(self, path: str, role: str = "chief", json: Any = None) -> httpx.Response:
        async with self.client(role) as client:
            return await client.post(path, json=json)

    async def store(self, events: list[dict[str, Any]]) -> None:
        """Validate (and redact) like the ingest API, then store like the stream worker."""
        await stored_events.store(self.db, *events)


@dataclass
class WideOrg(ReportOrg):
    """Many administrations with long names, an emergency department with a long name in each: wide tables."""

    count: int = 9

    def admin(self, number: int) -> str:
        return self.id("F", f"W{number}")

    @property
    def admin_of(self) -> dict[str, str]:
        units: dict[str, str] = {}
        for number in range(self.count):
            units[self.unit(f"W{number}ED")] = self.admin(number)
            units[self.unit(f"W{number}W1")] = self.admin(number)
        return units

    @property
    def eds(self) -> list[str]:
        return [self.unit(f"W{number}ED") for number in range(self.count)]

    def document(self) -> dict[str, Any]:
        towns = ["Norrtälje", "Södertälje", "Danderyd", "Huddinge", "Solna"]
        towns += ["Nacka", "Sollentuna", "Värmdö", "Järfälla"]
        administrations = [
            {
                "id": self.admin(number),
                "name": f"Förvaltningen för akut- och länssjukvård {towns[number % len(towns)]}",
                "sites": [
                    {
                        "id": self.id("S", f"W{number}"),
                        "name": f"Sjukhusområde {towns[number % len(towns)]}",
                        "units": [
                            {
                                "id": self.unit(f"W{number}ED"),
                                "name": f"Akutmottagningen vid Universitetssjukhuset {towns[number % len(towns)]}",
                                "kind": "ed",
                            },
                            {"id": self.unit(f"W{number}W1"), "name": f"Vårdavdelning {number}", "kind": "ward"},
                        ],
                    }
                ],
            }
            for number in range(self.count)
        ]
        administrations[-1]["sites"][0]["units"].append(  # type: ignore[index]
            {"id": self.unit("B1RX"), "name": "Mottagande akutmottagning", "kind": "ed"}
        )
        return {"region": {"id": self.region, "name": "Testregionen"}, "administrations": administrations}
