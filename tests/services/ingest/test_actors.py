"""Server-stamped actors: who submitted an accepted event and when, on the topic and in the stored payload; a
person's actor field is who they are (filled in when left out, refused when it names someone else)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from memory_states import MemoryStates
from sqlalchemy import select

from hypercare.contract.events import new_id
from hypercare.settings import Settings
from hypercare.storage.events_store import store_events
from hypercare.storage.models import StoredEvent
from hypercare.topics import topics_for
from streams.processor import BatchProcessor, Record
from streams.sink import EventSink


class RecordingProducer:
    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes | None, bytes]] = []

    async def send_all(self, messages: Sequence[tuple[str, bytes | None, bytes]]) -> None:
        self.sent.extend(messages)


async def post(api: Any, body: Any, role: str) -> Any:
    async with api.client(role) as client:
        return await client.post("/api/v1/events", json=body)


def decision(api: Any, **fields: Any) -> dict[str, Any]:
    event_id = new_id("d")
    return {
        "event_id": event_id,
        "type": "decision.recorded",
        "occurred_at": datetime.now(UTC).isoformat(),
        "unit_id": api.org.admin_a,
        "decision_id": event_id,
        "title": "Pausa införandet",
        "decision": "Pausa våg 2",
        **fields,
    }


def name(api: Any, role: str) -> str:
    return f"console-{role}-{api.org.tag}"


async def test_a_chief_cannot_record_a_decision_as_another_chief(api: Any) -> None:
    producer = api.app.state.producer = RecordingProducer()
    response = await post(api, [decision(api, decided_by="another-chief")], "chief")
    assert response.status_code == 403  # refused for who sent it
    assert response.json()["rejected"][0]["reason"] == (
        f"decided_by: must be you ({name(api, 'chief')}); leave it out to have it filled in"
    )
    assert not [m for m in producer.sent if m[0].endswith(".events.coordination")]


async def test_a_persons_actor_field_is_filled_in_and_their_own_name_accepted(api: Any) -> None:
    producer = api.app.state.producer = RecordingProducer()
    own = decision(api, decided_by=name(api, "admin"))
    left_out = decision(api)
    risk = {
        "event_id": new_id("r"),
        "type": "risk.recorded",
        "occurred_at": datetime.now(UTC).isoformat(),
        "unit_id": api.org.admin_a,
        "risk_id": new_id("risk"),
        "title": "Skrivare",
        "recorded_by": "someone-else",
    }
    response = await post(api, [own, left_out, risk], "admin")
    assert response.status_code == 200
    assert response.json()["accepted"] == 2
    assert response.json()["rejected"] == [
        {
            "index": 2,
            "event_id": risk["event_id"],
            "reason": f"recorded_by: must be you ({name(api, 'admin')}); leave it out to have it filled in",
        }
    ]
    sent = [json.loads(value) for topic, _, value in producer.sent if topic.endswith(".events.coordination")]
    assert [item["decided_by"] for item in sent] == [name(api, "admin")] * 2


async def test_server_only_fields_from_a_client_are_refused_per_item(api: Any, ev: Any) -> None:
    api.app.state.producer = RecordingProducer()
    good = ev("access.login", api.org.unit("A1W1"), datetime.now(UTC), user_ref="u1", outcome="success")
    items = [
        good,
        {**good, "event_id": new_id("e"), "submitted_by": "admin"},
        {**good, "event_id": new_id("e"), "submitted_role": "admin"},
        {**good, "event_id": new_id("e"), "received_at": datetime.now(UTC).isoformat()},
    ]
    body = (await post(api, items, "source")).json()
    assert body["accepted"] == 1
    assert [(r["index"], r["reason"]) for r in body["rejected"]] == [
        (1, "submitted_by: is set by the server; leave it out"),
        (2, "submitted_role: is set by the server; leave it out"),
        (3, "received_at: is set by the server; leave it out"),
    ]


async def test_a_source_may_relay_a_record_under_the_actor_it_names(api: Any) -> None:
    """Sources submit no coordination records (roles.py); an agent's ticket carries only the stamp."""
    producer = api.app.state.producer = RecordingProducer()
    ticket = {
        "event_id": new_id("t"),
        "type": "ticket.opened",
        "occurred_at": datetime.now(UTC).isoformat(),
        "unit_id": api.org.unit("A1W1"),
        "ticket_id": "T-1",
        "channel": "phone",
        "category": "login",
        "priority": 2,
    }
    assert (await post(api, [ticket], "agent")).json()["accepted"] == 1
    (sent,) = [json.loads(value) for topic, _, value in producer.sent if topic.endswith(".events.tickets")]
    assert (sent["submitted_by"], sent["submitted_role"]) == (name(api, "agent"), "agent")


async def test_accepted_events_carry_the_stamp_on_the_topic_and_in_the_stored_payload(api: Any, ev: Any) -> None:
    producer = api.app.state.producer = RecordingProducer()
    before = datetime.now(UTC)
    login = ev("access.login", api.org.unit("A1W1"), before - timedelta(minutes=1), user_ref="u9", outcome="success")
    chosen = decision(api)
    response = await post(api, [login, chosen], "chief")
    after = datetime.now(UTC)
    assert response.json() == {"accepted": 2, "rejected": []}
    assert len(producer.sent) == 2
    on_topic = [json.loads(value) for _, _, value in producer.sent]
    for item in on_topic:
        assert item["submitted_by"] == name(api, "chief")
        assert item["submitted_role"] == "chief"
        assert before <= datetime.fromisoformat(item["received_at"]) <= after
        assert datetime.fromisoformat(item["received_at"]).utcoffset() == timedelta(0)
    assert on_topic[0]["received_at"] == on_topic[1]["received_at"]  # one batch, one reception
    assert on_topic[1]["decided_by"] == name(api, "chief")

    # The stream worker's own path: the records as produced, through the batch processor, into the store.
    settings: Settings = api.app.state.settings
    processor = BatchProcessor(
        topics=topics_for(settings),
        states=MemoryStates(),
        store_events=EventSink(lambda rows: store_events(api.db, rows=rows)),
    )
    records = [
        Record(topic=topic, partition=0, offset=offset, key=key, value=value)
        for offset, (topic, key, value) in enumerate(producer.sent)
    ]
    result = await processor.process(records, now=after)
    assert result.dead_letters == []
    async with api.db.sessions() as session:
        stored = dict(
            (
                await session.execute(
                    select(StoredEvent.event_id, StoredEvent.payload).where(
                        StoredEvent.event_id.in_([login["event_id"], chosen["event_id"]])
                    )
                )
            ).all()
        )
    assert stored == {item["event_id"]: item for item in on_topic}
