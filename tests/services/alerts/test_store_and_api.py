"""Alerts in the database and over REST, on PostgreSQL and on SQLite (the ``db_url`` fixture runs both).

The PostgreSQL database is shared by the whole test session, so every test works on node ids of
its own and filters listings by them.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from hypercare.contract.events import parse_event
from hypercare.org.registry import OrgRegistry
from hypercare.settings import Settings
from hypercare.situation.health import load_rules
from hypercare.situation.rollup import build_situation
from hypercare.situation.state import apply_event, new_state
from hypercare.storage.alert_models import Alert
from hypercare.storage.db import Database
from hypercare.storage.notification_models import Notification
from services.alerts import store
from services.alerts.engine import Escalate, Raise, Resolve
from services.alerts.rules import ESCALATION_LEVELS, load_alert_rules
from services.alerts.service import AlertService
from services.app import create_app
from services.auth.tokens import TokenCache, issue_token
from services.gateway.hub import flatten
from services.notifications.config import Notifications
from services.notifications.runtime import Outbox
from services.notifications.service import Recipient

ROLES = ("admin", "chief", "agent", "floorwalker", "viewer", "source")
T0 = datetime(2024, 11, 12, 10, 0, tzinfo=UTC)


def a_raise(node_id: str, *, rule: str = "patient_safety_ticket", at: datetime = T0) -> Raise:
    return Raise(
        rule=rule,
        kind="patient_safety_ticket",
        severity="critical",
        node_kind="unit",
        node_id=node_id,
        node_name=f"Avdelning {node_id}",
        message="1 öppna ärenden med risk för patientsäkerheten",
        value=1,
        threshold=1,
        at=at,
    )


def unresolved_count(db: Database, node_id: str) -> Any:
    async def count() -> int:
        async with db.sessions() as session:
            query = select(func.count()).select_from(Alert).where(Alert.node_id == node_id, Alert.resolved_at.is_(None))
            return int((await session.execute(query)).scalar_one())

    return count()


# --- the store ------------------------------------------------------------------------------------


async def test_two_replicas_raising_at_once_store_one_alert_and_only_one_of_them_raised_it(db_url: str) -> None:
    replicas = [Database.from_url(db_url), Database.from_url(db_url)]
    try:
        for _ in range(5):
            node = f"U-{uuid.uuid4().hex[:10]}"
            results = await asyncio.gather(*(store.apply(replica, [a_raise(node)]) for replica in replicas))
            assert sorted(len(applied) for applied in results) == [0, 1]
            assert await unresolved_count(replicas[0], node) == 1
    finally:
        for replica in replicas:
            await replica.close()


async def test_the_partial_unique_index_itself_refuses_a_second_unresolved_alert(db: Database) -> None:
    node = f"U-{uuid.uuid4().hex[:10]}"
    [first] = await store.apply(db, [a_raise(node)])
    row = {
        "rule": "patient_safety_ticket",
        "kind": "patient_safety_ticket",
        "node_kind": "unit",
        "node_id": node,
        "node_name": "x",
        "severity": "critical",
        "message": "x",
        "status": "open",
        "level": "team",
        "raised_at": T0,
    }
    with pytest.raises(IntegrityError):
        async with db.sessions.begin() as session:
            await session.execute(insert(Alert).values(**row))
    # Once resolved, the same condition may be raised again: the index covers unresolved rows only.
    assert (
        len(
            await store.apply(
                db,
                [Resolve(first.alert.id, "patient_safety_ticket", "unit", node, "cleared", T0 + timedelta(minutes=1))],
            )
        )
        == 1
    )
    [again] = await store.apply(db, [a_raise(node, at=T0 + timedelta(minutes=2))])
    assert again.alert.id != first.alert.id
    assert (again.alert.status, again.alert.level, again.alert.raised_at) == ("open", "team", T0 + timedelta(minutes=2))


async def test_resolve_and_escalate_are_made_once_and_acknowledged_alerts_do_not_escalate(db: Database) -> None:
    node = f"U-{uuid.uuid4().hex[:10]}"
    [raised] = await store.apply(db, [a_raise(node)])
    alert_id = raised.alert.id
    escalate = Escalate(alert_id, "patient_safety_ticket", "unit", node, "team", "multi", T0 + timedelta(minutes=5))
    results = await asyncio.gather(store.apply(db, [escalate]), store.apply(db, [escalate]))
    assert sorted(len(r) for r in results) == [0, 1]
    alert = await store.get_alert(db, alert_id)
    assert alert is not None and (alert.level, alert.escalated_at) == ("multi", T0 + timedelta(minutes=5))

    acknowledged = await store.acknowledge(db, alert_id, by="chief-1", at=T0 + timedelta(minutes=6))
    assert acknowledged is not None and acknowledged[1] is True
    late = Escalate(alert_id, "patient_safety_ticket", "unit", node, "multi", "program", T0 + timedelta(minutes=15))
    assert await store.apply(db, [late]) == []
    again = await store.acknowledge(db, alert_id, by="chief-2", at=T0 + timedelta(minutes=7))
    assert again is not None and again[1] is False and again[0].acknowledged_by == "chief-1"

    resolve = Resolve(alert_id, "patient_safety_ticket", "unit", node, "cleared", T0 + timedelta(minutes=20))
    results = await asyncio.gather(store.apply(db, [resolve]), store.apply(db, [resolve]))
    assert sorted(len(r) for r in results) == [0, 1]
    alert = await store.get_alert(db, alert_id)
    assert alert is not None
    assert (alert.status, alert.level, alert.resolved_at) == ("resolved", "multi", T0 + timedelta(minutes=20))
    assert alert.acknowledged_at == T0 + timedelta(minutes=6)


# --- the runtime: two replicas evaluating the same picture ---------------------------------------


class FakeHub:
    """What the alert service uses of a SituationHub."""

    def __init__(self, flat: dict[str, Any], now: datetime) -> None:
        self.latest = (now, flat)
        self.published = asyncio.Event()
        self.pushed: list[tuple[list[dict[str, Any]], list[dict[str, Any]]]] = []

    def publish_alerts(self, active: list[dict[str, Any]], changed: list[dict[str, Any]]) -> None:
        self.pushed.append((active, changed))


def outbox_for_everyone(db: Database) -> Outbox:
    """The notification outbox with one recipient of every transition at every level (as HYPERCARE_ALERT_WEBHOOK_URL
    is)."""
    everyone = Recipient(id="everyone", channel="webhook", levels=frozenset(ESCALATION_LEVELS), url="https://x.test/")
    return Outbox(Notifications(recipients=(everyone,)), dialect=db.dialect)


async def queued_for(db: Database, node_id: str) -> list[dict[str, Any]]:
    """The documents queued in the outbox for the alerts at ``node_id``, in the order they were queued."""
    async with db.sessions() as session:
        query = (
            select(Notification.document)
            .join(Alert, Alert.id == Notification.alert_id)
            .where(Alert.node_id == node_id)
            .order_by(Notification.id)
        )
        return list((await session.execute(query)).scalars())


def picture_with_a_patient_safety_ticket(unit: str, *, resolved: bool, now: datetime) -> dict[str, Any]:
    org = OrgRegistry.model_validate(
        {
            "region": {"id": "R", "name": "R"},
            "administrations": [
                {"id": "F", "name": "F", "sites": [{"id": "S", "name": "S", "units": [{"id": unit, "name": "Avd 7"}]}]},
            ],
        }
    )
    state = new_state("tickets")
    events = [
        {"type": "ticket.opened", "channel": "phone", "category": "medication", "priority": 2, "patient_safety": True}
    ]
    if resolved:
        events.append({"type": "ticket.resolved"})
    for index, fields in enumerate(events):
        apply_event(
            "tickets",
            state,
            parse_event(
                {
                    "event_id": f"{unit}-{index}",
                    "occurred_at": (now - timedelta(minutes=1)).isoformat(),
                    "unit_id": unit,
                    "ticket_id": "PS-1",
                    **fields,
                }
            ),
            now=now,
        )
    return flatten(build_situation({unit: {"tickets": state}}, org=org, rules=load_rules(None), now=now))


async def test_two_services_on_one_database_raise_and_resolve_once_and_both_push(db_url: str) -> None:
    unit = f"U-{uuid.uuid4().hex[:10]}"
    now = datetime.now(UTC)
    rules = load_alert_rules(None)
    databases = [Database.from_url(db_url), Database.from_url(db_url)]
    hubs = [FakeHub(picture_with_a_patient_safety_ticket(unit, resolved=False, now=now), now) for _ in databases]
    ready = asyncio.Event()
    ready.set()
    services = [
        AlertService(
            db=db,
            hub=hub,
            rules=rules,
            settings=Settings(),
            ready=ready,  # type: ignore[arg-type]
            outbox=outbox_for_everyone(db),
        )
        for db, hub in zip(databases, hubs, strict=False)
    ]

    async def evaluate_all() -> list[int]:
        """Transitions made for this test's unit by each replica (other tests' alerts resolve as node_gone)."""
        made = await asyncio.gather(*(service.evaluate_once() for service in services))
        return [sum(1 for item in applied if item.alert.node_id == unit) for applied in made]

    try:
        assert sorted(await evaluate_all()) == [0, 1]
        sent = await queued_for(databases[0], unit)  # queued once, by the replica that won
        assert [(doc["transition"], doc["rule"], doc["status"], doc["level"]) for doc in sent] == [
            ("raise", "patient_safety_ticket", "open", "team")
        ]
        alert_id = sent[0]["id"]
        for service, hub in zip(services, hubs, strict=False):
            await service.refresh()  # the replica that lost the race sees it too
            active, _ = hub.pushed[-1]
            assert alert_id in [alert["id"] for alert in active]
        changed_ids = [alert["id"] for hub in hubs for _, changed in hub.pushed for alert in changed]
        assert changed_ids.count(alert_id) == 2  # once per replica, never again while it holds
        assert await evaluate_all() == [0, 0]

        later = now + timedelta(minutes=1)
        for hub in hubs:
            hub.latest = (later, picture_with_a_patient_safety_ticket(unit, resolved=True, now=later))
        assert sorted(await evaluate_all()) == [0, 1]
        sent = await queued_for(databases[0], unit)
        assert [(doc["transition"], doc["status"]) for doc in sent] == [("raise", "open"), ("resolve", "resolved")]
        assert sent[1]["resolve_reason"] == "cleared" and sent[1]["resolved_at"] == later.isoformat()
        for service, hub in zip(services, hubs, strict=False):
            await service.refresh()
            active, _ = hub.pushed[-1]
            assert alert_id not in [alert["id"] for alert in active]
            resolved_pushes = [
                a for _, changed in hub.pushed for a in changed if a["id"] == alert_id and a["status"] == "resolved"
            ]
            assert len(resolved_pushes) == 1
    finally:
        for db in databases:
            await db.close()


# --- REST -----------------------------------------------------------------------------------------


@dataclass
class Api:
    app: FastAPI
    db: Database
    tokens: dict[str, str]

    def client(self, role: str | None) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://test", headers=headers)


@pytest.fixture
async def api(db_url: str, tmp_path: Path) -> AsyncIterator[Api]:
    app = create_app(Settings(database_url=db_url, data_dir=tmp_path))
    db = Database.from_url(db_url)
    app.state.db = db
    app.state.token_cache = TokenCache(ttl=30)
    tag = uuid.uuid4().hex[:8]
    tokens = {role: await issue_token(db, role=role, name=f"alerts-{role}-{tag}") for role in ROLES}
    try:
        yield Api(app=app, db=db, tokens=tokens)
    finally:
        await db.close()


async def raise_alerts(db: Database, *nodes: str) -> list[int]:
    ids = []
    for index, node in enumerate(nodes):
        [applied] = await store.apply(db, [a_raise(node, at=datetime.now(UTC) + timedelta(seconds=index))])
        ids.append(applied.alert.id)
    return ids


async def test_listing_by_status_newest_first(api: Api) -> None:
    tag = uuid.uuid4().hex[:8]
    nodes = [f"L-{tag}-{i}" for i in range(3)]
    open_id, acked_id, resolved_id = await raise_alerts(api.db, *nodes)
    await store.acknowledge(api.db, acked_id, by="someone", at=datetime.now(UTC))
    await store.apply(
        api.db, [Resolve(resolved_id, "patient_safety_ticket", "unit", nodes[2], "cleared", datetime.now(UTC))]
    )

    async def listed(role: str = "viewer", **params: Any) -> list[int]:
        async with api.client(role) as client:
            response = await client.get("/api/v1/alerts", params={"limit": 1000, **params})
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"] if item["node_id"] in nodes]

    assert await listed() == [resolved_id, acked_id, open_id]  # newest first
    assert await listed(status="open") == [open_id]
    assert await listed(status="acknowledged") == [acked_id]
    assert await listed(status="resolved") == [resolved_id]
    assert await listed(status="active") == [acked_id, open_id]
    for role in ("admin", "chief", "agent", "floorwalker"):
        assert await listed(role, status="active") == [acked_id, open_id]
    async with api.client("viewer") as client:
        item = (await client.get(f"/api/v1/alerts/{open_id}")).json()
        assert (await client.get("/api/v1/alerts", params={"status": "gone"})).status_code == 422
        assert (await client.get("/api/v1/alerts", params={"limit": 0})).status_code == 422
        assert (await client.get("/api/v1/alerts/999999999")).status_code == 404
    assert set(item) == {
        "id",
        "rule",
        "kind",
        "node_kind",
        "node_id",
        "node_name",
        "severity",
        "message",
        "value",
        "threshold",
        "status",
        "level",
        "raised_at",
        "escalated_at",
        "acknowledged_at",
        "acknowledged_by",
        "assigned_to",
        "resolved_at",
        "notifications",  # the one-alert answer lists its notifications (none here: no recipients configured)
    }
    assert item["notifications"] == []
    assert (item["status"], item["level"], item["severity"], item["node_kind"]) == ("open", "team", "critical", "unit")
    async with api.client("source") as client:
        assert (await client.get("/api/v1/alerts")).status_code == 403
    async with api.client(None) as client:
        assert (await client.get("/api/v1/alerts")).status_code == 401


@pytest.mark.parametrize("role", ["chief", "admin"])
async def test_chiefs_and_admins_acknowledge_and_assign(api: Api, role: str) -> None:
    [alert_id] = await raise_alerts(api.db, f"K-{uuid.uuid4().hex[:8]}")
    async with api.client(role) as client:
        response = await client.post(f"/api/v1/alerts/{alert_id}/acknowledge")
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["status"] == "acknowledged" and body["acknowledged_by"].startswith(f"alerts-{role}-")
        again = await client.post(f"/api/v1/alerts/{alert_id}/acknowledge")
        assert again.status_code == 200 and again.json()["acknowledged_at"] == body["acknowledged_at"]

        assigned = await client.post(
            f"/api/v1/alerts/{alert_id}/assign", json={"assigned_to": "  Team Borås, ring 19121212-1212  "}
        )
        assert assigned.status_code == 200, assigned.text
        assert assigned.json()["assigned_to"] == "Team Borås, ring [personnummer borttaget]"
        assert (await client.post(f"/api/v1/alerts/{alert_id}/assign", json={"assigned_to": " "})).status_code == 422
        assert (await client.post(f"/api/v1/alerts/{alert_id}/assign", json={"who": "x"})).status_code == 422
        assert (await client.post("/api/v1/alerts/999999999/acknowledge")).status_code == 404
        assert (await client.post("/api/v1/alerts/999999999/assign", json={"assigned_to": "x"})).status_code == 404

    stored = await store.get_alert(api.db, alert_id)
    assert stored is not None and stored.status == "acknowledged"
    assert stored.assigned_to == "Team Borås, ring [personnummer borttaget]"


async def test_a_resolved_alert_can_be_neither_acknowledged_nor_assigned(api: Api) -> None:
    node = f"R-{uuid.uuid4().hex[:8]}"
    [alert_id] = await raise_alerts(api.db, node)
    await store.apply(api.db, [Resolve(alert_id, "patient_safety_ticket", "unit", node, "cleared", datetime.now(UTC))])
    async with api.client("chief") as client:
        assert (await client.post(f"/api/v1/alerts/{alert_id}/acknowledge")).status_code == 409
        assert (await client.post(f"/api/v1/alerts/{alert_id}/assign", json={"assigned_to": "x"})).status_code == 409


@pytest.mark.parametrize("role", ["agent", "viewer", "floorwalker", "source"])
async def test_other_roles_may_not_acknowledge_or_assign(api: Api, role: str) -> None:
    [alert_id] = await raise_alerts(api.db, f"N-{uuid.uuid4().hex[:8]}")
    async with api.client(role) as client:
        response = await client.post(f"/api/v1/alerts/{alert_id}/acknowledge")
        assert response.status_code == 403
        assert response.json()["detail"] == (
            f"role '{role}' may not acknowledge or assign alerts; this needs one of: admin, chief"
        )
        assert (await client.post(f"/api/v1/alerts/{alert_id}/assign", json={"assigned_to": "x"})).status_code == 403
    async with api.client(None) as client:
        assert (await client.post(f"/api/v1/alerts/{alert_id}/acknowledge")).status_code == 401
        assert (await client.post(f"/api/v1/alerts/{alert_id}/assign", json={"assigned_to": "x"})).status_code == 401
    stored = await store.get_alert(api.db, alert_id)
    assert stored is not None
    assert (stored.status, stored.acknowledged_at, stored.assigned_to) == ("open", None, None)


async def test_a_scoped_chief_handles_alerts_of_their_subtree_only_and_no_region_wide_decisions(api: Api) -> None:
    sas, sas_ed, su_ed = "SE2321000131-FSAS", "SE2321000131-ESASBORAKM", "SE2321000131-ESUSAHAKM"
    tag = uuid.uuid4().hex[:8]
    api.tokens["sas-chief"] = await issue_token(api.db, role="chief", name=f"alerts-sas-{tag}", scope=sas)
    rule = f"scope-{tag}"  # real unit ids: a rule of this test's own keeps other tests' alerts apart
    [raised_mine] = await store.apply(api.db, [a_raise(sas_ed, rule=rule, at=datetime.now(UTC))])
    [raised_other] = await store.apply(api.db, [a_raise(su_ed, rule=rule, at=datetime.now(UTC))])
    mine, other = raised_mine.alert.id, raised_other.alert.id
    try:
        async with api.client("sas-chief") as chief:
            refused = await chief.post(f"/api/v1/alerts/{other}/acknowledge")
            assert refused.status_code == 403
            assert refused.json()["detail"] == (
                f"this token is scoped to {sas!r} and may not acknowledge alerts for {su_ed!r} (outside its scope)"
            )
            assigned = await chief.post(f"/api/v1/alerts/{other}/assign", json={"assigned_to": "Team"})
            assert assigned.status_code == 403 and "may not assign alerts" in assigned.json()["detail"]
            assert (await chief.post(f"/api/v1/alerts/{mine}/acknowledge")).status_code == 200
            seen = {a["id"] for a in (await chief.get("/api/v1/alerts", params={"limit": 1000})).json()["items"]}
            assert mine in seen and other not in seen
            report = await chief.post("/api/v1/reports", json={"kind": "daily"})
            assert report.status_code == 403
            assert report.json()["detail"] == (
                f"this token is scoped to {sas!r} and may not create, approve or publish situation reports:"
                " that needs the whole region"
            )
            decision = await chief.post("/api/v1/stop-criteria/decisions", json={"decision": "pause"})
            assert decision.status_code == 403 and "may not take go/no-go decisions" in decision.json()["detail"]
        async with api.client("chief") as region_chief:
            assert (await region_chief.post(f"/api/v1/alerts/{other}/acknowledge")).status_code == 200
    finally:
        for alert_id, node in ((mine, sas_ed), (other, su_ed)):
            await store.apply(api.db, [Resolve(alert_id, rule, "unit", node, "cleared", datetime.now(UTC))])
