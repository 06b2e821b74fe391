"""WebSocket subscriptions: a client receives exactly the objects of its scopes, and its snapshot patched with
every delta equals the REST view at the moment of the last publish (a 2,000-unit registry); changing the
subscription sends the objects gained and lost; a scoped principal cannot subscribe outside its scope; each
message is encoded once per distinct subscription. The oracle cuts the nested REST picture by walking its tree.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from big_registry import copies
from event_examples import example_event
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter
from realistic_states import realistic_unit_states
from states_store import StatesStore

from hypercare.contract.events import parse_event
from hypercare.org.registry import OrgRegistry, load_org
from hypercare.settings import Settings
from hypercare.situation.health import load_rules
from hypercare.situation.merge_patch import apply
from hypercare.situation.rollup import build_situation
from hypercare.situation.state import apply_event, new_state
from hypercare.situation.views import SubscribedServerMessage
from services.auth.scope import filter_situation
from services.gateway import hub as hub_module
from services.gateway.hub import SituationHub, flatten
from services.gateway.subscriptions import Index, Subscription, change, cut, picture_patch, resolve

Picture = dict[str, Any]
MESSAGE: TypeAdapter[Any] = TypeAdapter(SubscribedServerMessage)
EMPTY: Picture = {"administrations": {}, "sites": {}, "units": {}}


# --- the oracle: the nested REST picture, cut by walking it -------------------------------------------------


def without_nulls(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: without_nulls(v) if isinstance(v, dict) else v for k, v in obj.items() if v is not None}


def without_as_of(picture: Picture) -> Picture:
    """An object's ``as_of`` is when it last changed: the REST view stamps every object with "now"."""

    def strip(obj: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in obj.items() if k != "as_of"}

    out: Picture = {
        kind: {key: strip(obj) for key, obj in picture[kind].items()} for kind in ("administrations", "sites", "units")
    }
    if "region" in picture:
        out["region"] = strip(picture["region"])
    return out


def expected(situation: dict[str, Any], scopes: set[str]) -> Picture:
    """The subscribed picture of ``scopes`` read off a nested situation (GET /api/v1/situation's shape)."""
    every = "all" in scopes
    picture: Picture = {"administrations": {}, "sites": {}, "units": {}}
    if every or "region" in scopes:
        picture["region"] = without_nulls(situation["region"])
    for admin in situation["administrations"]:
        admin_id = admin["administration_id"]
        sites = admin.get("sites", [])
        if every or "region" in scopes or admin_id in scopes:
            own = {k: v for k, v in admin.items() if k != "sites"}
            picture["administrations"][admin_id] = without_nulls({**own, "site_ids": [s["site_id"] for s in sites]})
        for site in sites:
            site_id = site["site_id"]
            units = site.get("units", [])
            if every or admin_id in scopes or site_id in scopes:
                own = {k: v for k, v in site.items() if k != "units"}
                picture["sites"][site_id] = without_nulls({**own, "unit_ids": [u["unit_id"] for u in units]})
            for unit in units:
                wanted = every or admin_id in scopes or site_id in scopes or unit["unit_id"] in scopes
                if wanted or ("emergency_departments" in scopes and unit["kind"] == "ed"):
                    picture["units"][unit["unit_id"]] = without_nulls(unit)
    return picture


# --- the pure cut, on the shipped registry (40 units) -------------------------------------------------------

SMALL = load_org()
SMALL_STATES, SMALL_NOW = realistic_unit_states(SMALL)
SMALL_SITUATION = build_situation(SMALL_STATES, org=SMALL, rules=load_rules(), now=SMALL_NOW)
SMALL_FLAT = flatten(SMALL_SITUATION)
SCOPE_NAMES = sorted(
    {"region", "all", "emergency_departments", "unmapped"}
    | {a.id for a in SMALL.administrations}
    | {s.id for a in SMALL.administrations for s in a.sites}
    | {u.id for a in SMALL.administrations for s in a.sites for u in s.units}
)
SCOPE_SETS = st.frozensets(st.sampled_from(SCOPE_NAMES), min_size=1, max_size=6)


@settings(max_examples=60, deadline=None)
@given(SCOPE_SETS)
def test_a_cut_holds_exactly_the_objects_of_its_scopes(scopes: frozenset[str]) -> None:
    assert cut(SMALL_FLAT, Subscription(scopes)) == expected(SMALL_SITUATION, set(scopes))


@settings(max_examples=60, deadline=None)
@given(SCOPE_SETS, SCOPE_SETS)
def test_the_change_of_subscription_turns_one_cut_into_the_other(before: frozenset[str], after: frozenset[str]) -> None:
    old, new = Subscription(before), Subscription(after)
    added, dropped = change(SMALL_FLAT, old, new)
    pairs = [(key, None, SMALL_FLAT[key[0]][key[1]]) for key in added]
    pairs += [(key, SMALL_FLAT[key[0]][key[1]], None) for key in dropped]
    assert apply(cut(SMALL_FLAT, old), picture_patch(pairs)) == cut(SMALL_FLAT, new)


def test_a_scoped_principal_may_subscribe_inside_its_scope_only() -> None:
    sas = "SE2321000131-FSAS"
    sas_ed = "SE2321000131-ESASBORAKM"
    su_ed = "SE2321000131-ESUSAHAKM"
    known = SMALL.node_ids.__contains__
    assert resolve(SMALL, sas, ["region", sas, sas_ed], known=known).scopes == {"region", sas, sas_ed}
    with pytest.raises(ValueError, match="may not subscribe to 'SE2321000131-ESUSAHAKM'") as refused:
        resolve(SMALL, sas, ["region", su_ed], known=known)
    assert str(refused.value) == (
        f"this token is scoped to {sas!r} and may not subscribe to {su_ed!r} (outside its scope)"
    )
    with pytest.raises(ValueError, match="is not"):
        resolve(SMALL, None, ["nowhere"], known=known)
    with pytest.raises(ValueError, match="non-empty list"):
        resolve(SMALL, None, [], known=known)
    with pytest.raises(ValueError, match='"all" for everything'):
        resolve(SMALL, None, [SMALL.region.id], known=known)


# --- the hub with 2,000 units -----------------------------------------------------------------------------


def fresh_states(unit_id: str, types: list[str], other_unit: str) -> dict[str, dict[str, Any]]:
    """A unit's states after ``types`` events only (what it had before is gone: figures go down as well)."""
    now = datetime.now(UTC)
    states: dict[str, dict[str, Any]] = {}
    for type_ in types:
        event = parse_event(example_event(type_, unit_id, other_unit=other_unit))
        state = states.setdefault(event.family, new_state(event.family))
        apply_event(event.family, state, event, now=now)
    return states


class Region:
    """A 2,000-unit region (the shipped registry 50 times) with live-like states, and a hub over it."""

    def __init__(self) -> None:
        small = load_org()
        states, _ = realistic_unit_states(small, now=datetime.now(UTC))
        self.org: OrgRegistry
        self.org, unit_states = copies(small, states, 50)
        assert len(self.org.placements) == 2000
        self.store = StatesStore(unit_states)
        self.hub = SituationHub(
            store=self.store,  # type: ignore[arg-type]
            org=self.org,
            rules=load_rules(),
            # The test publishes (no tick of its own), and a held-back client is not closed for slowness.
            settings=Settings(
                kafka_bootstrap="unused:9092",
                websocket_resync_seconds=0,
                gateway_client_send_timeout=600,
                gateway_tick_seconds=3600,
            ),
        )
        self.admins = [a.id for a in self.org.administrations]
        placements = self.org.placements.values()
        self.eds = [p.unit_id for p in placements if p.kind == "ed"]
        diverting = [u for u in self.eds if (unit_states.get(u, {}).get("ed") or {}).get("diversions")]
        self.diverting = diverting or self.eds[:1]

    def rest_view(self, scope: str | None = None) -> dict[str, Any]:
        """What GET /api/v1/situation answers at the moment of the hub's last publish."""
        assert self.hub.latest is not None
        return filter_situation(self.org, scope, self.hub.situation(self.hub.latest[0]))

    def touch(self, unit_id: str, *types: str) -> None:
        self.store.unit_states[unit_id] = fresh_states(unit_id, list(types), other_unit=self.eds[0])


class Inbox:
    """A client's received messages, optionally held back (a slow client) until released."""

    def __init__(self, *, held: bool = False) -> None:
        self.messages: list[dict[str, Any]] = []
        self.gate = asyncio.Event()
        if not held:
            self.gate.set()

    def sender(self) -> Callable[[str], Awaitable[None]]:
        async def send(text: str) -> None:
            message = json.loads(text)
            if self.messages:  # the snapshot goes through; what follows waits for the gate
                await self.gate.wait()
            self.messages.append(message)

        return send

    def picture(self) -> Picture:
        """The snapshot patched with every delta, checking the messages' shape and that seq runs on without a gap."""
        for message in self.messages:
            MESSAGE.validate_python(message)
        snapshot, *rest = self.messages
        assert snapshot["type"] == "snapshot"
        picture: Picture = snapshot["picture"]
        seq = snapshot["seq"]
        for message in rest:
            assert message["type"] in ("delta", "subscribed")
            assert message["seq"] == seq + 1
            seq = message["seq"]
            picture = apply(picture, message["patch"])
        return picture


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)
    await asyncio.sleep(0.05)


async def test_subscribed_clients_get_exactly_their_objects_and_patches_rebuild_the_rest_view() -> None:
    region = Region()
    hub = region.hub
    await hub.start()
    admin, other_admin = region.admins[7], region.admins[26]
    site = region.org.administrations[12].sites[0].id
    unit = region.org.administrations[20].sites[-1].units[0].id
    diverting = region.diverting[0]
    subscriptions: dict[str, tuple[str | None, set[str]]] = {
        "admin": (None, {admin}),
        "mixed": (None, {"region", site, unit}),
        "eds": (None, {"emergency_departments"}),
        "all": (None, {"all"}),
        "scoped": (other_admin, {"region", other_admin}),
        "slow": (None, {"region", admin, region.org.place(diverting).site_id}),
    }
    inboxes = {name: Inbox(held=name == "slow") for name in subscriptions}
    clients = {
        name: hub.connect(inboxes[name].sender(), scope=scope, subscription=Subscription(frozenset(scopes)))
        for name, (scope, scopes) in subscriptions.items()
    }
    tasks = [asyncio.create_task(client.run()) for client in clients.values()]
    try:
        await settle()
        for name, (scope, scopes) in subscriptions.items():  # the snapshot: the last publish, cut
            assert without_as_of(inboxes[name].messages[0]["picture"]) == without_as_of(
                expected(region.rest_view(scope), scopes)
            ), name
        first_unit_of_admin = region.org.administrations[7].sites[0].units[0].id
        rounds: list[list[tuple[str, tuple[str, ...]]]] = [
            [(first_unit_of_admin, ("access.login", "ticket.opened")), (unit, ("ticket.opened",))],
            [(diverting, ("ed.status",)), (region.org.administrations[26].sites[0].units[0].id, ("access.login",))],
            [(diverting, ("ed.status", "ed.diversion_started")), (site_unit(region, site), ("floorwalker.checkin",))],
            [(first_unit_of_admin, ()), (region.org.administrations[17].sites[0].units[0].id, ("ticket.opened",))],
        ]
        for changes in rounds:
            for unit_id, types in changes:
                region.touch(unit_id, *types)
            hub.publish()
            await settle()
        inboxes["slow"].gate.set()
        await settle()
        for name, (scope, scopes) in subscriptions.items():
            got = inboxes[name].picture()
            assert without_as_of(got) == without_as_of(expected(region.rest_view(scope), scopes)), name
            assert len(inboxes[name].messages) > 1, name
        # the slow client's held-back rounds came as one coalesced patch
        assert len(inboxes["slow"].messages) == 3
        # deltas carry changed members only: a login on one unit of the administration
        admin_deltas = [m["patch"] for m in inboxes["admin"].messages[1:]]
        assert first_unit_of_admin in admin_deltas[0]["units"]  # (windows move others too: the oracle has them)
        assert set(admin_deltas[0]["units"]) <= set(expected(region.rest_view(), {admin})["units"])
        assert "name" not in admin_deltas[0]["units"][first_unit_of_admin]
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await hub.stop()


def site_unit(region: Region, site_id: str) -> str:
    return next(u.id for a in region.org.administrations for s in a.sites if s.id == site_id for u in s.units)


async def test_changing_the_subscription_sends_the_objects_gained_whole_and_those_lost_as_null() -> None:
    region = Region()
    hub = region.hub
    await hub.start()
    admin = region.admins[3]
    site = region.org.administrations[23].sites[0].id
    inbox = Inbox()
    client = hub.connect(inbox.sender(), subscription=Subscription(frozenset({admin})))
    task = asyncio.create_task(client.run())
    try:
        await settle()
        before = expected(region.rest_view(), {admin})
        # a change is pending (published, not yet sent) when the subscription changes: both come in one message
        changed_unit = region.org.administrations[3].sites[0].units[0].id
        region.touch(changed_unit, "access.login")
        hub.publish()
        hub.subscribe(client, Subscription(frozenset({"region", site, changed_unit})))
        await settle()
        assert [m["type"] for m in inbox.messages] == ["snapshot", "subscribed"]
        answer = inbox.messages[1]
        assert answer["scopes"] == sorted({"region", site, changed_unit})
        after = expected(region.rest_view(), {"region", site, changed_unit})
        patch = answer["patch"]
        for kind in ("administrations", "sites", "units"):
            lost = set(before[kind]) - set(after[kind])
            gained = set(after[kind]) - set(before[kind])
            assert {k for k, v in patch.get(kind, {}).items() if v is None} == lost, kind
            whole = {k: v for k, v in patch.get(kind, {}).items() if k in gained}
            assert set(whole) == gained, kind
            assert without_as_of({**EMPTY, kind: whole}) == without_as_of(
                {**EMPTY, kind: {k: after[kind][k] for k in gained}}
            )
        assert without_as_of({**EMPTY, "region": patch["region"]}) == without_as_of(
            {**EMPTY, "region": after["region"]}
        )
        assert patch["units"][changed_unit]["access"]["logins_15m"] == 1  # the pending change rode along
        assert without_as_of(inbox.picture()) == without_as_of(after)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await hub.stop()


async def test_each_message_is_encoded_once_per_distinct_subscription(monkeypatch: pytest.MonkeyPatch) -> None:
    encoded: list[str] = []
    real_encode = hub_module.encode

    def counting(message: dict[str, Any]) -> str:
        text = real_encode(message)
        encoded.append(text)
        return text

    monkeypatch.setattr(hub_module, "encode", counting)
    region = Region()
    hub = region.hub
    await hub.start()
    admin = region.admins[5]
    inboxes = [Inbox() for _ in range(4)]
    scopes = [{admin}, {admin}, {admin}, {"region", admin}]  # three of one subscription, one of another
    clients = [
        hub.connect(i.sender(), subscription=Subscription(frozenset(s))) for i, s in zip(inboxes, scopes, strict=True)
    ]
    tasks = [asyncio.create_task(client.run()) for client in clients]
    try:
        await settle()
        assert len(encoded) == 2  # two snapshots' bodies for four clients
        region.touch(region.org.administrations[5].sites[0].units[0].id, "access.login")
        hub.publish()
        await settle()
        assert len(encoded) == 4  # two deltas (one per subscription) for four clients
        deltas = [i.messages[1] for i in inboxes]
        assert deltas[0] == deltas[1] == deltas[2] and deltas[3]["patch"].keys() >= {"region", "units"}
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await hub.stop()


@settings(max_examples=60, deadline=None)
@given(SCOPE_SETS)
def test_the_index_picks_exactly_what_a_subscription_holds(scopes: frozenset[str]) -> None:
    objects = {
        (kind, key): obj
        for kind in ("region", "administrations", "sites", "units")
        for key, obj in SMALL_FLAT[kind].items()
    }
    subscription = Subscription(scopes)
    picked = Index(objects).select(subscription)
    assert len(picked) == len(set(picked))
    assert set(picked) == {key for key, obj in objects.items() if subscription.holds(key[0], obj)}
