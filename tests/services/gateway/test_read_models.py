"""The gateway's REST responses and WebSocket messages against the read models, the OpenAPI document, and
the situation store reading records with the shared codec."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import TypeAdapter
from realistic_states import realistic_unit_states
from states_store import StatesStore

from hypercare.contract.events import parse_event
from hypercare.org.registry import OrgRegistry, load_org
from hypercare.settings import Settings
from hypercare.situation import record
from hypercare.situation.health import load_rules
from hypercare.situation.state import apply_event, new_state, state_view
from hypercare.situation.views import (
    DeltaMessage,
    ServerMessage,
    Situation,
    SnapshotMessage,
)
from services.gateway.hub import SituationHub
from services.gateway.situation_store import SituationStore
from services.readiness.schemas import UnitDetailWithReadiness

SERVER_MESSAGE: TypeAdapter[Any] = TypeAdapter(ServerMessage)


def held(events: list[dict[str, Any]], now: datetime) -> dict[str, dict[str, dict[str, Any]]]:
    """Fold events like the worker and hand the views through the record codec like worker and gateway."""
    states: dict[str, dict[str, dict[str, Any]]] = {}
    for raw in events:
        event = parse_event(raw)
        state = states.setdefault(event.unit_id, {}).setdefault(event.family, new_state(event.family))
        apply_event(event.family, state, event, now=now)
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for unit_id, families in states.items():
        for family, state in families.items():
            decoded = record.decode(record.encode(unit_id, family, state_view(family, state), as_of=now.isoformat())[1])
            out.setdefault(decoded.unit_id, {})[decoded.family] = decoded.state
    return out


def org_events(api: Any, ev: Any, now: datetime) -> list[dict[str, Any]]:
    ed, ward = api.org.unit("A1ED"), api.org.unit("A1W1")
    return [
        *[ev("access.login", ward, now - timedelta(minutes=3), user_ref=f"u{i}", outcome="success") for i in range(4)],
        ev("access.login", ward, now - timedelta(minutes=2), user_ref="u9", outcome="failure", reason="card_error"),
        ev(
            "ticket.opened",
            ward,
            now - timedelta(minutes=20),
            ticket_id="T1",
            channel="phone",
            category="login",
            priority=1,
            patient_safety=True,
        ),
        ev("ed.status", ed, now - timedelta(minutes=5), patients_waiting=9, patients_in_department=30, capacity=28),
        ev(
            "ed.diversion_started",
            ed,
            now - timedelta(minutes=10),
            diversion_id="D1",
            to_unit_ids=[api.org.unit("B1ED")],
            scope="ambulance",
            reason="Överbeläggning",
            decided_by="pc",
        ),
        ev("floorwalker.checkin", ward, now - timedelta(minutes=1), walker_id="fw-1", status="on_unit"),
    ]


def install_hub(api: Any, unit_states: dict[str, dict[str, dict[str, Any]]]) -> SituationHub:
    hub = SituationHub(
        store=StatesStore(unit_states),  # type: ignore[arg-type]
        org=OrgRegistry.model_validate(api.org.document()),
        rules=load_rules(),
        settings=api.app.state.settings,
    )
    api.app.state.hub = hub
    return hub


async def test_situation_and_unit_responses_validate_against_their_models(api: Any, ev: Any) -> None:
    now = datetime.now(UTC)
    install_hub(api, held(org_events(api, ev, now), now))
    ward, ed = api.org.unit("A1W1"), api.org.unit("A1ED")

    response = await api.get("/api/v1/situation")
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    situation = response.json()
    assert Situation.model_validate(situation).model_dump(mode="json") == situation
    assert situation["region"]["access"]["logins_15m"] == 5
    assert situation["region"]["ed"]["active_diversions"][0]["unit_id"] == ed

    for unit_id in (ward, ed, api.org.unit("B1W1")):
        response = await api.get(f"/api/v1/units/{unit_id}")
        assert response.status_code == 200
        unit = response.json()
        assert UnitDetailWithReadiness.model_validate(unit).model_dump(mode="json") == unit
    assert (await api.get(f"/api/v1/units/{ward}")).json()["tickets"]["patient_safety_open"] == 1
    assert (await api.get(f"/api/v1/units/{ed}")).json()["ed"]["diversion"]["diversion_id"] == "D1"

    missing = await api.get("/api/v1/units/NOT-A-UNIT")
    assert missing.status_code == 404 and "NOT-A-UNIT" in missing.json()["detail"]


async def test_the_response_is_the_picture_as_built(api: Any) -> None:
    """No reshaping on the way out: the bytes are the hub's dict encoded (a field the roll-up adds reaches
    clients even before its model has it)."""
    hub = install_hub(api, {})
    picture = hub.situation()
    original = hub.situation
    hub.situation = lambda now=None: {**picture, "added_later": 1}  # type: ignore[method-assign]
    try:
        assert (await api.get("/api/v1/situation")).json() == {**picture, "added_later": 1}
    finally:
        hub.situation = original  # type: ignore[method-assign]


async def test_auth_is_unchanged(api: Any) -> None:
    install_hub(api, {})
    unit = api.org.unit("A1W1")
    for path in ("/api/v1/situation", f"/api/v1/units/{unit}"):
        async with api.client(None) as anonymous:
            assert (await anonymous.get(path)).status_code == 401
            assert (await anonymous.get(path, headers={"Authorization": "Bearer hc_nope"})).status_code == 401
        assert (await api.get(path, role="source")).status_code == 403
        for role in ("viewer", "floorwalker", "agent", "chief", "admin"):
            assert (await api.get(path, role=role)).status_code == 200, (path, role)


async def test_openapi_shows_the_read_models(api: Any) -> None:
    async with api.client(None) as client:
        document = (await client.get("/openapi.json")).json()

    def schema(path: str, method: str, code: str = "200") -> Any:
        return document["paths"][path][method]["responses"][code]["content"]["application/json"]["schema"]

    assert schema("/api/v1/situation", "get") == {"$ref": "#/components/schemas/Situation"}
    assert schema("/api/v1/units/{unit_id}", "get") == {"$ref": "#/components/schemas/UnitDetailWithReadiness"}
    components = document["components"]["schemas"]
    unit = components["UnitDetailWithReadiness"]
    assert set(unit["required"]) >= {"unit_id", "name", "site_id", "administration_id", "as_of", "tickets", "health"}
    assert unit["properties"]["as_of"].items() >= {"type": "string", "format": "date-time"}.items()
    assert set(components["TicketsBlock"]["properties"]) >= {
        "open",
        "open_by_priority",
        "median_minutes_to_resolve_24h",
    }
    assert components["RollupEdBlock"]["properties"]["diversion"]["type"] == "null"


async def test_websocket_messages_validate_against_their_models() -> None:
    org = load_org()
    states, _ = realistic_unit_states(org, now=datetime.now(UTC))  # the hub reads with the wall clock
    unit_id = next(unit_id for unit_id in org.placements if "access" in states.get(unit_id, {}))
    later = {**states, unit_id: {}}  # a unit whose windows emptied: a delta with that unit, its site, ...
    store = StatesStore(states)
    # No tick of its own during the test: only the publishes below may make a delta (a minute rolling over on
    # the wall clock would otherwise add one of its own on a slow machine).
    settings = Settings(kafka_bootstrap="unused:9092", gateway_tick_seconds=3600)
    hub = SituationHub(store=store, org=org, rules=load_rules(), settings=settings)  # type: ignore[arg-type]
    await hub.start()
    received: list[str] = []

    async def send(message: str) -> None:
        received.append(message)

    client = hub.connect(send)
    task = asyncio.create_task(client.run())
    try:
        await asyncio.sleep(0.05)
        store.unit_states = later
        hub.publish()
        await asyncio.sleep(0.05)  # sent before the next offer (else the two merge into one delta)
        alert = {"id": 1, "rule": "patient_safety_ticket", "status": "open", "unit_id": unit_id}
        hub.publish_alerts([alert], [alert])
        await asyncio.sleep(0.05)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await hub.stop()
    messages = [SERVER_MESSAGE.validate_json(text) for text in received]
    assert [type(m) for m in messages] == [SnapshotMessage, DeltaMessage, DeltaMessage]
    snapshot, delta, alerts = messages
    assert (
        isinstance(snapshot, SnapshotMessage) and isinstance(delta, DeltaMessage) and isinstance(alerts, DeltaMessage)
    )
    assert [u.unit_id for u in delta.units] == [unit_id] and delta.sites and delta.region is not None
    assert delta.alerts is None and "alerts" not in json.loads(received[1])
    assert alerts.alerts == [alert] and alerts.units == [] and alerts.region is None
    for text, message in zip(received, messages, strict=True):
        dumped = message.model_dump(mode="json")
        if isinstance(message, DeltaMessage) and message.alerts is None:
            del dumped["alerts"]  # absent on the wire when no alert changed
        assert dumped == json.loads(text)


@pytest.mark.parametrize("old_format", [False, True])
def test_the_store_reads_records_of_the_codec_and_of_before(old_format: bool) -> None:
    store = SituationStore(Settings(kafka_bootstrap="unused:9092"))
    state = {"v": 1, "logins": {"1731405600": 2}}
    if old_format:
        value = json.dumps({"unit_id": "U1", "family": "access", "as_of": "2024-11-12T10:00:00+00:00", "state": state})
        raw = value.encode()
    else:
        raw = record.encode("U1", "access", state, as_of="2024-11-12T10:00:00+00:00")[1]
    assert store._apply(raw) is True
    assert store.unit_states == {"U1": {"access": state}}


def test_the_store_skips_unreadable_records(caplog: pytest.LogCaptureFixture) -> None:
    store = SituationStore(Settings(kafka_bootstrap="unused:9092"))
    with caplog.at_level(logging.WARNING, logger="services.gateway.situation_store"):
        assert store._apply(None) is False
        assert store._apply(b"{") is False
        assert (
            store._apply(b'{"v":9,"unit_id":"U1","family":"access","as_of":"2024-11-12T10:00:00+00:00","state":{}}')
            is False
        )
    assert store.unit_states == {}
    assert len(caplog.records) == 2 and "unreadable situation record" in caplog.records[0].getMessage()
