"""Who may submit what, through the real ingest route: the in-process app on the session's broker and database.

Every role × every event type is accepted (and lands on its family's topic) or refused with its reason; a
floor walker reports only as itself; a scoped source token stays inside its families and units; an unknown
unit is refused, or accepted under "unmapped" with ``HYPERCARE_UNKNOWN_UNITS=accept``.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from aiokafka import AIOKafkaConsumer, TopicPartition
from event_examples import example_event
from fastapi import FastAPI

from hypercare.contract.events import EVENT_TYPES, family_of
from hypercare.settings import Settings
from hypercare.storage.db import Database
from hypercare.storage.quarantine import list_quarantined
from hypercare.topics import ensure_topics, topics_for
from services.app import create_app
from services.auth.identity import walker_id_for
from services.auth.tokens import TokenCache, issue_token
from services.ingest.actors import ACTOR_FIELDS
from services.ingest.producer import EventProducer

ROLES = ("admin", "chief", "agent", "floorwalker", "viewer", "source")
TICKETS = {"ticket.opened", "ticket.updated", "ticket.resolved"}
ACCESS = {"access.login", "access.permission_denied"}
FLOORWALKERS = {"floorwalker.checkin", "floorwalker.checkout"}
COORDINATION = {
    "ed.diversion_started",
    "ed.diversion_ended",
    "decision.recorded",
    "risk.recorded",
    "duty.opened",
    "duty.fulfilled",
}
# The policy, spelled out here on its own (not read from services.auth.roles) so that a change to the table
# has to change this test too. Viewers may not post at all (403 for the whole request).
ALLOWED: dict[str, set[str]] = {
    "admin": set(EVENT_TYPES),
    "chief": set(EVENT_TYPES),
    "agent": TICKETS,
    "floorwalker": FLOORWALKERS,
    # a source token issued without families
    "source": TICKETS | ACCESS | FLOORWALKERS | {"ed.status", "readiness.assessed"},
}
LISTED = {"agent": "tickets", "floorwalker": "floorwalkers", "source": "access, ed, floorwalkers, readiness, tickets"}


def expected_reason(role: str, type_: str) -> str:
    if type_ in COORDINATION:
        return f"type: role {role!r} may not submit {type_} (needs chief or admin)"
    return f"type: role {role!r} may not submit {type_} (allowed: {LISTED[role]})"


@dataclass
class Org:
    """A small org registry unique to one test: one administration, two sites, five units."""

    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:8].upper())

    def id(self, kind: str, name: str) -> str:
        return f"T{self.tag}-{kind}{name}"

    @property
    def region(self) -> str:
        return self.id("R", "")

    @property
    def admin(self) -> str:
        return self.id("F", "A")

    def site(self, name: str) -> str:
        return self.id("S", name)

    def unit(self, name: str) -> str:
        return self.id("E", name)

    def document(self) -> dict[str, Any]:
        def units(*names: str) -> list[dict[str, str]]:
            return [{"id": self.unit(name), "name": name, "kind": "ed" if "ED" in name else "ward"} for name in names]

        return {
            "region": {"id": self.region, "name": "Testregionen"},
            "administrations": [
                {
                    "id": self.admin,
                    "name": "Förvaltning A",
                    "sites": [
                        {"id": self.site("A"), "name": "Plats A", "units": units("A1ED", "A1W1", "A2W1")},
                        {"id": self.site("B"), "name": "Plats B", "units": units("B1ED", "B1W1")},
                    ],
                }
            ],
        }


@dataclass
class Ingest:
    app: FastAPI
    db: Database
    org: Org
    settings: Settings
    tokens: dict[str, str]
    names: dict[str, str]

    def client(self, token: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app),
            base_url="http://test",
            headers={"Authorization": f"Bearer {token}"},
        )

    async def post(self, events: list[dict[str, Any]], role: str = "admin", *, token: str | None = None) -> Any:
        async with self.client(token or self.tokens[role]) as client:
            return await client.post("/api/v1/events", json=events)

    def example(self, type_: str, role: str = "admin", unit: str | None = None, **overrides: Any) -> dict[str, Any]:
        """A valid event of ``type_``, as the holder of the ``role`` token would send it (its own walker id)."""
        overrides.setdefault("walker_id", walker_id_for(self.names.get(role, role)))
        event = example_event(type_, unit or self.org.unit("A1ED"), other_unit=self.org.unit("B1ED"), **overrides)
        actor = ACTOR_FIELDS.get(type_)
        if actor is not None and actor not in overrides:
            event[actor] = self.names.get(role, role)  # a person records as themself (services.ingest.actors)
        return event

    async def on_topics(self, event_ids: set[str], *, settle: float = 1.0) -> dict[str, str]:
        """event_id → family of the topic it was produced to, for every record of this test's event topics."""
        topics = topics_for(self.settings)
        consumer = AIOKafkaConsumer(bootstrap_servers=self.settings.bootstrap, fetch_max_wait_ms=50)
        await consumer.start()
        found: dict[str, str] = {}
        try:
            by_topic = {
                topics.family(family): family for family in ("tickets", "access", "floorwalkers", "ed", "readiness")
            }
            by_topic[topics.family("coordination")] = "coordination"
            partitions = [
                TopicPartition(topic, partition)
                for topic in by_topic
                for partition in sorted(consumer.partitions_for_topic(topic) or {0})
            ]
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
            deadline = asyncio.get_running_loop().time() + 20
            quiet_since = asyncio.get_running_loop().time()
            while asyncio.get_running_loop().time() < deadline:
                batch = await consumer.getmany(timeout_ms=200)
                for tp, records in batch.items():
                    for record in records:
                        found[json.loads(record.value)["event_id"]] = by_topic[tp.topic]
                now = asyncio.get_running_loop().time()
                if batch:
                    quiet_since = now
                if event_ids <= set(found) and now - quiet_since >= settle:
                    break
        finally:
            await consumer.stop()
        return found


@pytest.fixture
async def ingest_factory(
    settings_factory: Callable[..., Settings], tmp_path: Path
) -> AsyncIterator[Callable[..., Any]]:
    made: list[tuple[EventProducer, Database]] = []

    async def make(**overrides: Any) -> Ingest:
        org = Org()
        org_file = tmp_path / f"org-{org.tag}.yaml"
        org_file.write_text(yaml.safe_dump(org.document(), allow_unicode=True), encoding="utf-8")
        settings = settings_factory(org_file=org_file, **overrides)
        await ensure_topics(settings)
        app = create_app(settings)
        db = Database.from_url(settings.effective_database_url)
        producer = EventProducer(settings)
        await producer.start()
        made.append((producer, db))
        app.state.db, app.state.producer, app.state.token_cache = db, producer, TokenCache(ttl=30)
        names = {role: f"authz-{role}-{org.tag}" for role in ROLES}
        tokens = {role: await issue_token(db, role=role, name=names[role]) for role in ROLES}
        return Ingest(app=app, db=db, org=org, settings=settings, tokens=tokens, names=names)

    yield make
    for producer, db in made:
        await producer.stop()
        await db.close()


@pytest.fixture
async def ingest(ingest_factory: Callable[..., Any]) -> Ingest:
    made: Ingest = await ingest_factory()
    return made


async def test_every_role_and_every_event_type(ingest: Ingest) -> None:
    accepted_ids: set[str] = set()
    refused_ids: set[str] = set()
    for role in ROLES:
        batch = [ingest.example(type_, role) for type_ in EVENT_TYPES]
        response = await ingest.post(batch, role)
        if role == "viewer":
            assert response.status_code == 403
            refused_ids |= {item["event_id"] for item in batch}
            continue
        assert response.status_code == 200, response.text
        body = response.json()
        reasons = {item["index"]: item["reason"] for item in body["rejected"]}
        for index, type_ in enumerate(EVENT_TYPES):
            if type_ in ALLOWED[role]:
                assert index not in reasons, (role, type_, reasons.get(index))
                accepted_ids.add(batch[index]["event_id"])
            else:
                assert reasons.get(index) == expected_reason(role, type_), (role, type_)
                refused_ids.add(batch[index]["event_id"])
        assert body["accepted"] == len(ALLOWED[role])
    # What was accepted is on the broker, on its family's topic; nothing refused is.
    on_topics = await ingest.on_topics(accepted_ids)
    assert set(on_topics) == accepted_ids
    assert not refused_ids & set(on_topics)
    # Refused items are quarantined with their reasons: nothing is dropped silently.
    quarantined = [item for item in await list_quarantined(ingest.db, limit=500) if ingest.org.tag in item["raw"]]
    refusals = [(role, type_) for role in ("agent", "floorwalker", "source") for type_ in EVENT_TYPES]
    expected = sorted(expected_reason(role, type_) for role, type_ in refusals if type_ not in ALLOWED[role])
    assert sorted(item["reason"] for item in quarantined) == expected


async def test_accepted_events_land_on_their_familys_topic(ingest: Ingest) -> None:
    batch = [ingest.example(type_) for type_ in EVENT_TYPES]
    assert (await ingest.post(batch)).json() == {"accepted": len(EVENT_TYPES), "rejected": []}
    on_topics = await ingest.on_topics({item["event_id"] for item in batch})
    assert {item["event_id"]: family_of(item["type"]) for item in batch} == on_topics


async def test_a_floor_walker_reports_only_as_itself(ingest: Ingest) -> None:
    own = walker_id_for(ingest.names["floorwalker"])
    async with ingest.client(ingest.tokens["floorwalker"]) as client:
        me = await client.get("/api/v1/me")
    assert me.json()["walker_id"] == own  # what the tablet sends (console/js/views/tablet.js)
    other = walker_id_for(ingest.names["agent"])
    batch = [
        ingest.example("floorwalker.checkin", "floorwalker"),
        ingest.example("floorwalker.checkin", "floorwalker", walker_id=other),
        ingest.example("floorwalker.checkout", "floorwalker", walker_id="fw-someoneelse"),
        ingest.example("floorwalker.checkout", "floorwalker"),
    ]
    body = (await ingest.post(batch, "floorwalker")).json()
    assert body["accepted"] == 2
    assert body["rejected"] == [
        {
            "index": 1,
            "event_id": batch[1]["event_id"],
            "reason": f"walker_id: must be your own: {own} (as GET /api/v1/me shows), not {other!r}",
        },
        {
            "index": 2,
            "event_id": batch[2]["event_id"],
            "reason": f"walker_id: must be your own: {own} (as GET /api/v1/me shows), not 'fw-someoneelse'",
        },
    ]
    # Other roles allowed the family (chiefs, admins, sources feeding a walker system) name any walker.
    for role in ("admin", "chief", "source"):
        assert (await ingest.post([ingest.example("floorwalker.checkin", role, walker_id=other)], role)).json()[
            "accepted"
        ] == 1


async def test_a_scoped_source_token_stays_inside_its_families_and_units(ingest: Ingest) -> None:
    a1, a2 = ingest.org.unit("A1W1"), ingest.org.unit("A2W1")
    portal = await issue_token(ingest.db, role="source", name=f"portal-{ingest.org.tag}", families=["tickets"])
    ward = await issue_token(
        ingest.db, role="source", name=f"ward-{ingest.org.tag}", families=["tickets", "access"], units=[a1, a2]
    )
    body = (
        await ingest.post(
            [
                ingest.example("ticket.opened", "source", a1),
                ingest.example("access.login", "source", a1),
                ingest.example("ed.status", "source"),
                ingest.example("decision.recorded", "source"),
            ],
            token=portal,
        )
    ).json()
    assert body["accepted"] == 1
    assert [item["reason"] for item in body["rejected"]] == [
        "type: role 'source' may not submit access.login (allowed for this token: tickets)",
        "type: role 'source' may not submit ed.status (allowed for this token: tickets)",
        "type: role 'source' may not submit decision.recorded (needs chief or admin)",
    ]
    b1 = ingest.org.unit("B1W1")
    body = (
        await ingest.post(
            [
                ingest.example("ticket.opened", "source", a1),
                ingest.example("access.login", "source", a2),
                ingest.example("access.login", "source", b1),
                ingest.example("floorwalker.checkin", "source", a1),
            ],
            token=ward,
        )
    ).json()
    assert body["accepted"] == 2
    assert [item["reason"] for item in body["rejected"]] == [
        f"unit_id: this token may not submit events for {b1!r} (allowed: {', '.join(sorted([a1, a2]))})",
        "type: role 'source' may not submit floorwalker.checkin (allowed for this token: access, tickets)",
    ]


async def test_an_unknown_unit_is_refused_by_default(ingest: Ingest) -> None:
    unknown = f"ZZ-{ingest.org.tag}"
    batch = [ingest.example("access.login", "source", unknown), ingest.example("access.login", "source")]
    body = (await ingest.post(batch, "source")).json()
    assert body["accepted"] == 1
    assert body["rejected"] == [
        {"index": 0, "event_id": batch[0]["event_id"], "reason": f"unit_id: {unknown!r} is not in the org registry"}
    ]
    # The coordination group's records may concern a site, an administration or the region too.
    records = [
        ingest.example("decision.recorded", "chief", node)
        for node in (ingest.org.region, ingest.org.admin, ingest.org.site("B"), ingest.org.unit("A1W1"))
    ]
    assert (await ingest.post([*records, ingest.example("risk.recorded", "chief", unknown)], "chief")).json()[
        "rejected"
    ] == [{"index": 4, "event_id": ANY_ID, "reason": f"unit_id: {unknown!r} is not in the org registry"}]
    # A ticket is about a unit, not a site.
    site_ticket = ingest.example("ticket.opened", "agent", ingest.org.site("A"))
    assert (await ingest.post([site_ticket], "agent")).json()["rejected"][0]["reason"] == (
        f"unit_id: {ingest.org.site('A')!r} is not in the org registry"
    )


async def test_unknown_units_are_accepted_with_the_setting(ingest_factory: Callable[..., Any]) -> None:
    ingest = await ingest_factory(unknown_units="accept")
    unknown = f"ZZ-{ingest.org.tag}"
    batch = [ingest.example("access.login", "source", unknown)]
    assert (await ingest.post(batch, "source")).json() == {"accepted": 1, "rejected": []}
    assert await ingest.on_topics({batch[0]["event_id"]}) == {batch[0]["event_id"]: "access"}


class _AnyId(str):
    def __eq__(self, other: object) -> bool:
        return isinstance(other, str)

    __hash__ = str.__hash__


ANY_ID = _AnyId()
