"""Live situation fan-out: snapshots, deltas with a per-connection ``seq``, coalescing per client.

The picture is brought to the wall clock's "now" after state changes (debounced) and on a steady tick,
because windows move even when no event arrives: :class:`~hypercare.situation.incremental.IncrementalPicture`
computes again only the units the store says changed (``take_touched``) and those whose figures moved with the
clock, and their roll-ups, and names the objects that changed, so a tick no longer diffs the whole region. Each
client has one pending delta that newer changes merge into, so a slow or stalled client costs a
bounded amount of memory and never holds the others back.

Alerts (``services.alerts``) ride along: the snapshot message carries every active alert in
``alerts``, and a delta carries ``alerts`` (whole alert objects, resolved ones included so clients
drop them) only when some changed. The alert service reads :attr:`SituationHub.latest`, the picture
this hub last published and the clock it was computed at.

The tick/publish loop runs under the app's :class:`~services.supervision.Supervisor` (task
``situation-hub``): a picture that cannot be computed fails the loop, which is restarted with backoff
and shows in ``/readyz`` until it runs again.
Limits: a hub serves at most ``HYPERCARE_MAX_WEBSOCKETS`` clients (:meth:`SituationHub.connect` raises
:class:`GatewayFull` beyond, counted in ``hypercare_websockets_refused_total``), and sends a client at most
one snapshot per ``HYPERCARE_WEBSOCKET_RESYNC_SECONDS``: a resync asked for sooner is served when that
time is up, however many arrive meanwhile (they coalesce into that one snapshot).

Scopes: a client connected with an org scope (its token's, :mod:`services.auth.scope`) gets the region's totals
plus its scope's subtree only, in snapshots and deltas alike. Each published change is cut and encoded once per
distinct scope among the connected clients (one :class:`Offer` per scope), never once per client.

Subscriptions (:mod:`services.gateway.subscriptions`): a client that subscribed gets the objects of its scopes
only, as a flat picture (``picture``) in its snapshot and as JSON Merge Patches (``patch``) in its deltas. Each
change is cut, diffed and encoded once per distinct (principal scope, subscription) (a :class:`PatchOffer`); a
client that falls behind keeps, per pending object, the object it last had and the newest one, and sends one
diff of the two (merge patches do not always compose). Subscribed snapshots are cut from the last published
picture (so deltas apply to them exactly) and encoded once per distinct subscription and publish. A client
that never subscribes keeps the whole-object messages of its scope (for one release); its snapshot (the whole
scope, about 3.5 MB at 2,000 units) is built and encoded once per principal scope and publish too, at the first
client that asks after the publish, and reused for every other client until the next publish (whose delta carries
everything that changed since the last publish, so a client that got the shared snapshot misses nothing).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from hypercare.observability import metrics
from hypercare.org.registry import UNMAPPED_ID, OrgRegistry
from hypercare.settings import Settings
from hypercare.situation.health import HealthRules
from hypercare.situation.incremental import IncrementalPicture
from hypercare.situation.rollup import summarize_unit
from services.auth.scope import filter_alerts, filter_flat, filter_situation
from services.gateway.golive_metrics import update_golive_gauges
from services.gateway.situation_store import SituationStore
from services.gateway.subscriptions import Index, Key, Subscription, change, cut, picture_patch
from services.supervision import Supervisor

log = logging.getLogger(__name__)

Flat = dict[str, dict[str, dict[str, Any]]]  # kind -> id -> object
KINDS = ("units", "sites", "administrations")
PENDING = (*KINDS, "region", "alerts")  # what a client's pending delta holds, by kind then id


def flatten(situation: dict[str, Any]) -> Flat:
    """Objects of a situation by kind and id; children are referenced by id, not nested."""
    flat: Flat = {"units": {}, "sites": {}, "administrations": {}, "region": {}}
    for admin in situation["administrations"]:
        sites = admin.get("sites", [])
        flat["administrations"][admin["administration_id"]] = {
            **{k: v for k, v in admin.items() if k != "sites"},
            "site_ids": [site["site_id"] for site in sites],
        }
        for site in sites:
            units = site.get("units", [])
            flat["sites"][site["site_id"]] = {
                **{k: v for k, v in site.items() if k != "units"},
                "unit_ids": [unit["unit_id"] for unit in units],
            }
            for unit in units:
                flat["units"][unit["unit_id"]] = unit
    flat["region"]["region"] = situation["region"]
    return flat


def _comparable(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k != "as_of"}


def diff(previous: Flat, current: Flat) -> Flat:
    changed: Flat = {kind: {} for kind in current}
    for kind, objects in current.items():
        before = previous.get(kind, {})
        for key, obj in objects.items():
            old = before.get(key)
            if old is None or _comparable(old) != _comparable(obj):
                changed[kind][key] = obj
    return changed


Send = Callable[[str], Awaitable[None]]  # a JSON text message


def encode(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)


def delta_fields(changed: Flat) -> dict[str, Any]:
    """A delta message's content (without ``type`` and ``seq``)."""
    fields: dict[str, Any] = {kind: list(changed.get(kind, {}).values()) for kind in KINDS}
    fields["region"] = changed.get("region", {}).get("region")
    if changed.get("alerts"):
        fields["alerts"] = list(changed["alerts"].values())
    return fields


class Offer:
    """One published change, shared by every client: its JSON is encoded once, not once per client.

    With a hundred consoles connected, per-client encoding was the gateway's largest cost.
    """

    __slots__ = ("_body", "changed")

    def __init__(self, changed: Flat) -> None:
        self.changed = changed
        self._body: str | None = None

    def body(self) -> str:
        """The content as a JSON object's members, ready to follow ``{"type":"delta","seq":N,``."""
        if self._body is None:
            self._body = encode(delta_fields(self.changed))[1:]
        return self._body


Pair = tuple[dict[str, Any] | None, dict[str, Any] | None]  # (before, after) of one object; None: absent
PATCH_KINDS = ("region", *KINDS)


class PatchOffer:
    """One published change for every client of one (principal scope, subscription): patched and encoded once."""

    __slots__ = ("_body", "alerts", "changes", "patch")

    def __init__(self, changes: dict[Key, Pair], patch: dict[str, Any], alerts: dict[str, dict[str, Any]]) -> None:
        self.changes = changes
        self.patch = patch
        self.alerts = alerts
        self._body: str | None = None

    def body(self) -> str:
        if self._body is None:
            self._body = encode(patch_fields(self.patch, self.alerts))[1:]
        return self._body


def patch_fields(patch: dict[str, Any], alerts: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A subscribed delta's content (without ``type`` and ``seq``): ``patch``, and ``alerts`` when some changed."""
    fields: dict[str, Any] = {"patch": patch}
    if alerts:
        fields["alerts"] = list(alerts.values())
    return fields


class Client:
    """One WebSocket connection's outbox: at most one pending delta.

    A client that keeps up sends each offer as it is (its encoding shared with the other clients);
    one that falls behind merges the offers into one coalesced delta of one object per changed id.
    """

    def __init__(
        self, send: Send, *, send_timeout: float, scope: str | None = None, subscription: Subscription | None = None
    ) -> None:
        self._send = send
        self.scope = scope  # the org node this client reads (None: the whole region)
        self.subscription = subscription  # what it shows (None: never subscribed, the whole scope)
        self._send_timeout = send_timeout
        self.seq = 0
        self._single: Offer | PatchOffer | None = None
        self._pending: Flat = {kind: {} for kind in PENDING}
        # A subscribed client's pending change: per object, the one it last had and the newest (None: absent).
        self._base: dict[Key, dict[str, Any] | None] = {}
        self._latest: dict[Key, dict[str, Any] | None] = {}
        self._alerts: dict[str, dict[str, Any]] = {}
        self._answer: list[str] | None = None  # the scopes of a subscribe to confirm in the next message
        self._snapshot: dict[str, Any] | str | None = None
        self._snapshot_alerts: list[dict[str, Any]] = []
        self._wake = asyncio.Event()
        self.closed = asyncio.Event()
        # Resync throttle: when the last snapshot was requested (monotonic), and a deferred one if any.
        self.last_snapshot = float("-inf")
        self.deferred_resync: asyncio.TimerHandle | None = None

    def _idle(self) -> bool:
        return not any(self._pending.values()) and not self._latest and not self._alerts and self._answer is None

    @property
    def caught_up(self) -> bool:
        """Nothing is due to this client: every change published so far that it reads has been sent."""
        return self._single is None and self._snapshot is None and self._idle()

    def offer(self, offer: Offer | PatchOffer) -> None:
        if self._single is None and self._idle():
            self._single = offer
        else:
            self._absorb_single()
            self._absorb(offer)
        self._wake.set()

    def _absorb_single(self) -> None:
        if self._single is not None:
            self._absorb(self._single)
            self._single = None

    def _absorb(self, offer: Offer | PatchOffer) -> None:
        if isinstance(offer, Offer):
            for kind, objects in offer.changed.items():
                self._pending[kind].update(objects)
            return
        for key, (before, after) in offer.changes.items():
            self._base.setdefault(key, before)
            self._latest[key] = after
        self._alerts.update(offer.alerts)

    def resubscribe(self, picture: Flat, subscription: Subscription) -> None:
        """Switch a subscribed client to ``subscription``: the objects it gains come whole, those it loses as
        ``null``, in the next message (type ``subscribed``), together with whatever change was pending."""
        if self.subscription is None:
            raise ValueError("resubscribe is for subscribed clients; a first subscription gets a snapshot")
        self._absorb_single()
        added, dropped = change(picture, self.subscription, subscription)
        for key in dropped:
            self._base.setdefault(key, picture[key[0]][key[1]])
            self._latest[key] = None
        for key in added:
            self._base.setdefault(key, None)
            self._latest[key] = picture[key[0]][key[1]]
        self.subscription = subscription
        self._answer = subscription.listed()
        self._wake.set()

    @property
    def snapshot_due(self) -> bool:
        return self._snapshot is not None

    def request_snapshot(self, situation: dict[str, Any] | str, alerts: list[dict[str, Any]] | None = None) -> None:
        """Due next: a whole-scope snapshot (a nested situation) or a subscribed one (its members, encoded)."""
        self._snapshot = situation
        self._snapshot_alerts = list(alerts or [])
        self._single = None
        self._pending = {kind: {} for kind in PENDING}
        self._base, self._latest, self._alerts, self._answer = {}, {}, {}, None
        self._wake.set()

    def _next_message(self) -> tuple[str, str] | None:
        """(type, JSON text) of what is due, or None when nothing is."""
        if isinstance(self._snapshot, str):
            body, self._snapshot = self._snapshot, None
            self.seq += 1
            return "snapshot", f'{{"type":"snapshot","seq":{self.seq},{body}'
        if self._snapshot is not None:
            situation, self._snapshot = self._snapshot, None
            self.seq += 1
            return "snapshot", encode(
                {"type": "snapshot", "seq": self.seq, "situation": situation, "alerts": self._snapshot_alerts}
            )
        kind = "delta"
        if self._single is not None:
            body, self._single = self._single.body(), None
        elif any(self._pending.values()):
            pending, self._pending = self._pending, {k: {} for k in PENDING}
            body = encode(delta_fields(pending))[1:]
        else:
            base, latest, alerts, answer = self._base, self._latest, self._alerts, self._answer
            self._base, self._latest, self._alerts, self._answer = {}, {}, {}, None
            patch = picture_patch((key, base[key], after) for key, after in latest.items())
            if answer is not None:
                kind = "subscribed"
                body = encode({"scopes": answer, **patch_fields(patch, alerts)})[1:]
            elif patch or alerts:
                body = encode(patch_fields(patch, alerts))[1:]
            else:
                return None
        self.seq += 1
        return kind, f'{{"type":"{kind}","seq":{self.seq},{body}'

    async def run(self) -> None:
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                due = self._next_message()
                if due is None:
                    continue
                kind, text = due
                await asyncio.wait_for(self._send(text), timeout=self._send_timeout)
                metrics.WEBSOCKET_MESSAGES.labels(type=kind).inc()
        except (TimeoutError, Exception) as error:
            if not isinstance(error, asyncio.CancelledError):
                log.info("closing a websocket client: %s", type(error).__name__)
        finally:
            self.closed.set()


TASK = "situation-hub"


class GatewayFull(Exception):
    """This gateway already serves ``HYPERCARE_MAX_WEBSOCKETS`` clients."""


class SituationHub:
    def __init__(self, *, store: SituationStore, org: OrgRegistry, rules: HealthRules, settings: Settings) -> None:
        self.store = store
        self.org = org
        self.rules = rules
        self._settings = settings
        self.seq = 0
        self._clients: set[Client] = set()
        self._last: Flat = {}
        self._supervisor: Supervisor | None = None
        # Active alerts by id (public form), kept current by services.alerts.service.
        self.alerts: dict[str, dict[str, Any]] = {}
        # The last published picture and the wall clock it was computed at; ``published`` is set each time.
        self.latest: tuple[datetime, Flat] | None = None
        self.published = asyncio.Event()
        self._picture = IncrementalPicture(org=org, rules=rules, presence_minutes=settings.floorwalker_presence_minutes)
        # Per published picture: the picture cut to each principal scope, and each subscribed snapshot's body.
        self._scoped: dict[str | None, Flat] = {}
        self._snapshot_bodies: dict[tuple[str | None, Subscription], str] = {}
        # Per publish: the unsubscribed (whole-scope) snapshot of each principal scope, encoded.
        self._whole_bodies: dict[str | None, str] = {}

    def situation(self, now: datetime | None = None) -> dict[str, Any]:
        """The whole picture at ``now`` (equal to ``build_situation`` of the stored states then)."""
        self._picture.advance(self.store.unit_states, now or datetime.now(UTC), touched=self.store.take_touched())
        situation = self._picture.situation()
        return {"as_of": situation["as_of"], "seq": self.seq, **{k: v for k, v in situation.items() if k != "as_of"}}

    def unit(self, unit_id: str) -> dict[str, Any] | None:
        if unit_id not in self.store.unit_states and not self.org.knows(unit_id):
            return None
        return summarize_unit(
            unit_id,
            self.store.unit_states,
            org=self.org,
            rules=self.rules,
            now=datetime.now(UTC),
            presence_minutes=self._settings.floorwalker_presence_minutes,
        )

    @property
    def client_count(self) -> int:
        return len(self._clients)

    def knows(self, node_id: str) -> bool:
        """Whether ``node_id`` is an administration, site or unit of the picture (registry or unmapped)."""
        if node_id in self.org.node_ids or node_id == UNMAPPED_ID:
            return True
        return any(node_id in self._last.get(kind, {}) for kind in KINDS)

    def connect(self, send: Send, *, scope: str | None = None, subscription: Subscription | None = None) -> Client:
        """A new client with its first snapshot due; :class:`GatewayFull` when the cap is reached."""
        if len(self._clients) >= self._settings.max_websockets:
            metrics.WEBSOCKETS_REFUSED.inc()
            raise GatewayFull(f"this gateway serves its maximum of {self._settings.max_websockets} WebSocket clients")
        client = Client(
            send, send_timeout=self._settings.gateway_client_send_timeout, scope=scope, subscription=subscription
        )
        client.seq = self.seq - 1
        self._snapshot(client)
        self._clients.add(client)
        metrics.WEBSOCKET_CLIENTS.set(len(self._clients))
        return client

    def disconnect(self, client: Client) -> None:
        self._clients.discard(client)
        if client.deferred_resync is not None:
            client.deferred_resync.cancel()
            client.deferred_resync = None
        metrics.WEBSOCKET_CLIENTS.set(len(self._clients))

    def subscribe(self, client: Client, subscription: Subscription) -> None:
        """Show ``subscription`` from now on: a first subscription (or one while a snapshot is due) gets a
        subscribed snapshot, a change gets the objects gained and lost (:meth:`Client.resubscribe`)."""
        if client.subscription is None or client.snapshot_due:
            client.subscription = subscription
            self._snapshot(client)
        else:
            client.resubscribe(self._scoped_picture(client.scope), subscription)

    def _scoped_picture(self, scope: str | None) -> Flat:
        """The last published picture cut to a principal's scope (once per scope and publish)."""
        picture = self._scoped.get(scope)
        if picture is None:
            picture = self._scoped[scope] = filter_flat(self.org, scope, self._last)
        return picture

    def _snapshot_body(self, scope: str | None, subscription: Subscription) -> str:
        """A subscribed snapshot without ``type`` and ``seq``: encoded once per distinct subscription and publish."""
        body = self._snapshot_bodies.get((scope, subscription))
        if body is None:
            message = {
                "scopes": subscription.listed(),
                "picture": cut(self._scoped_picture(scope), subscription),
                "alerts": filter_alerts(self.org, scope, self.active_alerts()),
            }
            body = self._snapshot_bodies[(scope, subscription)] = encode(message)[1:]
        return body

    def resync(self, client: Client) -> None:
        """A snapshot now, or when the client's throttle window ends (one, however many resyncs came)."""
        wait = client.last_snapshot + self._settings.websocket_resync_seconds - time.monotonic()
        if wait <= 0:
            metrics.WEBSOCKET_RESYNCS.labels(outcome="served").inc()
            self._snapshot(client)
            return
        metrics.WEBSOCKET_RESYNCS.labels(outcome="deferred").inc()
        if client.deferred_resync is None:
            client.deferred_resync = asyncio.get_running_loop().call_later(wait, self._deferred_resync, client)

    def _deferred_resync(self, client: Client) -> None:
        client.deferred_resync = None
        if client in self._clients:
            self._snapshot(client)

    def _snapshot(self, client: Client) -> None:
        if client.deferred_resync is not None:
            client.deferred_resync.cancel()
            client.deferred_resync = None
        client.last_snapshot = time.monotonic()
        if client.subscription is not None:
            client.request_snapshot(self._snapshot_body(client.scope, client.subscription))
            return
        client.request_snapshot(self._whole_body(client.scope))

    def _whole_body(self, scope: str | None) -> str:
        """An unsubscribed snapshot without ``type`` and ``seq``: built and encoded once per scope and publish.

        A hundred consoles connecting at once at 2,000 units each cost the whole picture built and encoded
        (about 3.5 MB), one after the other on the event loop: seconds for the last of them.
        """
        body = self._whole_bodies.get(scope)
        if body is None:
            message = {
                "situation": filter_situation(self.org, scope, self.situation()),
                "alerts": filter_alerts(self.org, scope, self.active_alerts()),
            }
            body = self._whole_bodies[scope] = encode(message)[1:]
        return body

    def active_alerts(self) -> list[dict[str, Any]]:
        return list(self.alerts.values())

    async def start(self, *, supervisor: Supervisor | None = None) -> None:
        now = datetime.now(UTC)
        self._last = flatten(self.situation(now))
        self._scoped, self._snapshot_bodies, self._whole_bodies = {}, {}, {}
        self.latest = (now, self._last)
        update_golive_gauges(self._last)
        self._supervisor = supervisor or Supervisor(cap=self._settings.task_restart_backoff_max)
        self._supervisor.start(TASK, self._run)

    async def stop(self) -> None:
        if self._supervisor is not None:
            await self._supervisor.cancel(TASK)

    async def _run(self) -> None:
        """Publish after changes (debounced) and every tick; a failure ends it and the supervisor runs it again."""
        tick = self._settings.gateway_tick_seconds
        debounce = self._settings.gateway_debounce_seconds
        while True:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.store.changed.wait(), timeout=tick)
                await asyncio.sleep(debounce)
            self.store.changed.clear()
            self.publish()

    def pong(self, client: Client) -> dict[str, Any]:
        """The answer to a client's ping: with its ``seq`` and the last publish's clock when it is caught up."""
        if self.latest is None or not client.caught_up:
            return {"type": "pong"}
        return {"type": "pong", "seq": client.seq, "as_of": self.latest[0].isoformat()}

    def publish(self) -> None:
        now = datetime.now(UTC)
        self._picture.advance(self.store.unit_states, now, touched=self.store.take_touched())
        changed = diff(self._last, self._picture.take_changed())  # the objects the picture names, not the region
        current = {kind: {**self._last.get(kind, {}), **objects} for kind, objects in changed.items()}
        previous, self._last = self._last, current
        self._scoped, self._snapshot_bodies, self._whole_bodies = {}, {}, {}
        self.latest = (now, current)
        self.published.set()
        update_golive_gauges(current)
        if not any(changed.values()):
            return
        self._offer(changed, previous)

    def publish_alerts(self, active: list[dict[str, Any]], changed: list[dict[str, Any]]) -> None:
        """Replace the active alerts (for snapshots) and send ``changed`` to every client as a delta."""
        self.alerts = {str(alert["id"]): alert for alert in active}
        self._snapshot_bodies, self._whole_bodies = {}, {}
        if changed:
            self._offer({"alerts": {str(alert["id"]): alert for alert in changed}}, {})

    def _offer(self, changed: Flat, previous: Flat) -> None:
        """Offer ``changed`` (objects as now; ``previous`` holds them as before) to every client it concerns."""
        self.seq += 1
        offers: dict[str | None, Offer | None] = {}  # one per distinct scope: cut and encoded once
        patch_offers: dict[tuple[str | None, Subscription], PatchOffer | None] = {}  # one per distinct subscription
        scoped: dict[str | None, ScopedChanges] = {}
        for client in list(self._clients):
            if client.subscription is None:
                if client.scope not in offers:
                    cut_changed = filter_flat(self.org, client.scope, changed)
                    offers[client.scope] = Offer(cut_changed) if any(cut_changed.values()) else None
                offer: Offer | PatchOffer | None = offers[client.scope]
            else:
                key = (client.scope, client.subscription)
                if key not in patch_offers:
                    if client.scope not in scoped:
                        scoped[client.scope] = self._scoped_changes(client.scope, changed, previous)
                    patch_offers[key] = _patch_offer(client.subscription, scoped[client.scope])
                offer = patch_offers[key]
            if offer is not None:
                client.offer(offer)

    def _scoped_changes(self, scope: str | None, changed: Flat, previous: Flat) -> ScopedChanges:
        """(before, after) of each changed object a principal scope reads, its alerts, and a cache of patches."""
        after = filter_flat(self.org, scope, changed)
        before = filter_flat(
            self.org,
            scope,
            {
                kind: {i: previous[kind][i] for i in objects if i in previous.get(kind, {})}
                for kind, objects in changed.items()
                if kind in PATCH_KINDS
            },
        )
        pairs: dict[Key, Pair] = {}
        for kind in PATCH_KINDS:
            for ident, obj in after.get(kind, {}).items():
                pairs[(kind, ident)] = (before.get(kind, {}).get(ident), obj)
        index = Index({key: pair[1] or pair[0] or {} for key, pair in pairs.items()})
        return ScopedChanges(pairs, index, after.get("alerts", {}), {})


@dataclass(slots=True)
class ScopedChanges:
    """One publish as a principal scope reads it: (before, after) per object, indexed by where objects sit, the
    alerts, and each object's patch once computed (shared by every subscription of the scope)."""

    pairs: dict[Key, Pair]
    index: Index
    alerts: dict[str, dict[str, Any]]
    patches: dict[Key, Any]


def _patch_offer(subscription: Subscription, scoped: ScopedChanges) -> PatchOffer | None:
    """The offer of one subscription: its share of the changes and the picture patch (object patches cached)."""
    changes = {key: scoped.pairs[key] for key in scoped.index.select(subscription)}
    patch: dict[str, Any] = {}
    for key, (before, after) in changes.items():
        value = scoped.patches.get(key, _MISSING)
        if value is _MISSING:
            value = scoped.patches[key] = picture_patch([(key, before, after)])
        for kind, part in value.items():
            if kind == "region":
                patch["region"] = part
            else:
                patch.setdefault(kind, {}).update(part)
    if not patch and not scoped.alerts:
        return None
    return PatchOffer(changes, patch, scoped.alerts)


_MISSING: Any = object()
