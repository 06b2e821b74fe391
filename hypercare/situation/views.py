"""Typed read models of the live picture: what ``GET /api/v1/units/{id}``, ``GET /api/v1/situation`` and the
``/ws/situation`` messages carry (DESIGN.md, "Read side").

The hot path does not go through these models. :func:`hypercare.situation.rollup.build_situation` keeps
building plain dicts (a picture of every unit is built several times a second and fanned out to every
console), and the gateway sends those dicts as they are. The models describe that JSON for the OpenAPI
document and for clients, and the tests validate real pictures against them: every model forbids unknown
keys and is strict about types, so a field added to, renamed in or retyped in the roll-up without its
model fails a test instead of drifting silently. Field names and order follow the dicts exactly.

Adding a field to the picture means adding it here too (a new block field goes into the block model:
e.g. a floor-walker figure into :class:`FloorwalkersBlock`). Clients must tolerate fields they do not
know: the contract only promises that none is removed or renamed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema

from hypercare.contract.events import DiversionScope, TicketCategory
from hypercare.org.registry import UnitKind
from hypercare.situation.health import Status


def _aware_timestamp(value: str) -> str:
    if datetime.fromisoformat(value).tzinfo is None:
        raise ValueError("a timestamp of the read side carries its UTC offset")
    return value


# Times travel as the strings the roll-up writes (ISO 8601, ``+00:00``); kept as strings so a model
# never rewrites them (pydantic would print ``Z``).
Timestamp = Annotated[str, AfterValidator(_aware_timestamp), WithJsonSchema({"type": "string", "format": "date-time"})]
PriorityKey = Literal["1", "2", "3", "4"]
Count = Annotated[int, Field(ge=0)]
Minutes = Annotated[int, Field(ge=0)]


class _View(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


# --- blocks (the same four on every object, plus health) ----------------------------------------


class TicketsBlock(_View):
    open: Count
    opened_1h: Count
    resolved_1h: Count
    open_by_priority: dict[PriorityKey, Count] = Field(description="every priority, zeros included")
    open_by_category: dict[TicketCategory, Count] = Field(description="categories with open tickets only")
    oldest_open_minutes: Minutes | None = Field(description="null when nothing is open")
    oldest_open_minutes_by_priority: dict[PriorityKey, Minutes | None] = Field(
        description="every priority; null when none of that priority is open"
    )
    patient_safety_open: Count
    median_minutes_to_resolve_24h: float | None = Field(description="over every resolve time below; null when none")
    resolutions_24h: Count


class AccessBlock(_View):
    logins_15m: Count
    login_failures_15m: Count
    login_failure_rate_15m: float = Field(ge=0, le=1, description="recomputed from the counts, never averaged")
    distinct_users_failing_15m: Count
    locked_accounts_1h: Count
    permission_denied_1h: Count
    permission_denied_1h_by_role: dict[str, Count] = Field(description="roles with denials only")


class FloorwalkersBlock(_View):
    """The figures every object carries; :class:`UnitFloorwalkersBlock` and :class:`RollupFloorwalkersBlock`
    add their own. A new figure of every level belongs here."""

    on_unit: Count = Field(description="walkers whose latest check-in puts them on the unit (not on a break)")
    on_break: Count = Field(description="walkers whose latest check-in here says they are on a break")
    minutes_since_last_visit: Minutes | None = Field(
        description="0 while someone is on the unit; roll-ups: the longest of the units that had a visit"
    )
    open_escalations: Count
    assists_1h: Count
    assists_by_category_1h: dict[TicketCategory, Count]


class UnitFloorwalkersBlock(FloorwalkersBlock):
    last_visit_at: Timestamp | None
    minutes_without_visit: Minutes | None = Field(
        description="minutes_since_last_visit, or for a unit never visited the minutes since its wave's actual "
        "go-live (org registry; else HYPERCARE_GO_LIVE_AT); null when never visited and the go-live is unknown"
    )


class RollupFloorwalkersBlock(FloorwalkersBlock):
    units_never_visited: Count = Field(description="units below that no floor walker has visited (ever)")
    units_total: Count = Field(description="units below: 'units_never_visited of units_total not visited'")
    longest_minutes_without_visit: Minutes | None = Field(
        description="the longest minutes_without_visit of the units below, never-visited units included; null when "
        "a never-visited unit below has no go-live (its time without a visit is unknown: 'never') or no units"
    )


class DiversionView(_View):
    """An active ED diversion as the diverting unit shows it."""

    diversion_id: str
    scope: DiversionScope
    to_unit_ids: list[str]
    since: Timestamp
    reason: str
    decided_by: str
    expected_end: Timestamp | None
    review_overdue: bool = Field(description="past expected_end with neither an end nor a renewal")
    overdue_minutes: Minutes


class ActiveDiversionView(DiversionView):
    """A diversion in ``ed.active_diversions``: which unit diverts, then the diversion."""

    unit_id: str


class EdStatusView(_View):
    """The ED's latest own report."""

    patients_waiting: Count
    patients_in_department: Count
    capacity: Count
    longest_wait_minutes: Minutes | None
    reported_at: Timestamp
    minutes_since_report: Minutes


class RollupEdStatusView(EdStatusView):
    """The reporting EDs below, summed; ``reported_at`` and ``minutes_since_report`` of the stalest report."""

    reporting_units: Count


class UnitEdBlock(_View):
    diversion: DiversionView | None = Field(description="the latest active diversion; null when none")
    active_diversions: list[ActiveDiversionView]
    status: EdStatusView | None = Field(description="null when the ED has not reported")


class RollupEdBlock(_View):
    diversion: None = Field(description="always null on a roll-up: see active_diversions")
    active_diversions: list[ActiveDiversionView]
    status: RollupEdStatusView | None


class ReasonCode(_View):
    rule: str
    level: Literal["yellow", "red"]
    value: int | float
    threshold: int | float
    phase: str | None = Field(
        description="the threshold phase whose limit applied (e.g. first_72h); null: the normal limit"
    )


class NotAssessedFigure(_View):
    """A figure below its minimum volume: not judged ("ej bedömt"), shown with its n."""

    rule: str
    metric: str
    volume_metric: str
    n: int | float = Field(description="the volume there was (e.g. logins in 15 minutes)")
    min: int | float = Field(description="the volume it needs before it is judged")


class HealthView(_View):
    status: Status = Field(description="not_assessed: nothing triggered and every volume-gated figure is below volume")
    reasons: list[str] = Field(description="readable, red first")
    reason_codes: list[ReasonCode] = Field(description="the same hits, machine-readable, in the same order")
    not_assessed: list[NotAssessedFigure] = Field(description="figures below their minimum volume, in rule order")
    phases: list[str] = Field(description="threshold phases in force here (by hours since go-live), e.g. first_72h")


class UnitsByHealth(_View):
    green: Count
    yellow: Count
    red: Count
    not_assessed: Count


# --- objects -----------------------------------------------------------------------------------


class UnitView(_View):
    """Each unit of the picture (``GET /api/v1/units/{unit_id}`` adds ``hours_since_go_live``)."""

    unit_id: str
    name: str
    kind: UnitKind
    site_id: str
    administration_id: str
    wave_id: str | None = Field(description="the go-live wave the unit belongs to; null in a registry without waves")
    area: str | None = Field(description="the unit's area (södra, norra, östra, västra); null without areas")
    go_live_at: Timestamp | None = Field(description="the actual go-live of the unit's wave; null before it")
    as_of: Timestamp
    tickets: TicketsBlock
    access: AccessBlock
    floorwalkers: UnitFloorwalkersBlock
    ed: UnitEdBlock
    health: HealthView


class UnitDetailView(UnitView):
    """``GET /api/v1/units/{unit_id}``: the unit of the picture and the hours since its wave went live."""

    hours_since_go_live: float | None = Field(
        description="from the wave's actual go-live to the unit's as_of, two decimals; null before it or without"
    )


class _SiteFields(_View):
    site_id: str
    name: str
    administration_id: str
    go_live_at: Timestamp | None = Field(
        description="the earliest actual go-live among the units below (its threshold phase counts from it)"
    )
    as_of: Timestamp
    tickets: TicketsBlock
    access: AccessBlock
    floorwalkers: RollupFloorwalkersBlock
    ed: RollupEdBlock
    health: HealthView
    units_by_health: UnitsByHealth


class SiteView(_SiteFields):
    """A site of the picture, with its units."""

    units: list[UnitView]


class FlatSiteView(_SiteFields):
    """A site in a WebSocket delta: its units by id (they travel as objects of their own)."""

    unit_ids: list[str]


class _AdministrationFields(_View):
    administration_id: str
    name: str
    wave_ids: list[str] = Field(description="the waves its units belong to (an administration may span waves)")
    go_live_at: Timestamp | None = Field(
        description="the earliest actual go-live among the units below (its threshold phase counts from it)"
    )
    as_of: Timestamp
    tickets: TicketsBlock
    access: AccessBlock
    floorwalkers: RollupFloorwalkersBlock
    ed: RollupEdBlock
    health: HealthView
    units_by_health: UnitsByHealth


class AdministrationView(_AdministrationFields):
    """An administration (förvaltning) of the picture, with its sites."""

    sites: list[SiteView]


class FlatAdministrationView(_AdministrationFields):
    """An administration in a WebSocket delta: its sites by id."""

    site_ids: list[str]


class RegionView(_View):
    region_id: str
    name: str
    go_live_at: Timestamp | None = Field(
        description="the earliest actual go-live among the units below (its threshold phase counts from it)"
    )
    as_of: Timestamp
    tickets: TicketsBlock
    access: AccessBlock
    floorwalkers: RollupFloorwalkersBlock
    ed: RollupEdBlock
    health: HealthView
    units_by_health: UnitsByHealth


class DataQuality(_View):
    unmapped_units: list[str] = Field(description="units with events that the org registry does not know")


class Situation(_View):
    """``GET /api/v1/situation``: the whole picture."""

    as_of: Timestamp
    seq: int = Field(ge=0, description="the gateway's delta sequence number the picture belongs to")
    region: RegionView
    administrations: list[AdministrationView]
    data_quality: DataQuality


# --- WebSocket messages ------------------------------------------------------------------------

# Alerts ride along as the alert service's public objects (services.alerts owns their shape).
AlertObject = dict[str, Any]


class SnapshotMessage(_View):
    """Sent on connect and after a ``resync``."""

    type: Literal["snapshot"]
    seq: int
    situation: Situation
    alerts: list[AlertObject] = Field(description="every active alert")


class DeltaMessage(_View):
    """What changed since the previous message (whole objects, v1); ``seq`` is the previous one's plus one."""

    type: Literal["delta"]
    seq: int
    units: list[UnitView]
    sites: list[FlatSiteView]
    administrations: list[FlatAdministrationView]
    region: RegionView | None
    alerts: list[AlertObject] | None = Field(
        default=None, description="only present when alerts changed (resolved ones included)"
    )


class PongMessage(_View):
    """The answer to a ping. When nothing is due to this client (every change it reads has been sent), ``seq`` is
    the last it was sent and ``as_of`` the clock of the hub's last publish: a client holding that ``seq`` is current
    as of then, even if no figure has moved since (the console's "Uppdaterad" in a quiet region)."""

    type: Literal["pong"]
    seq: int | None = None
    as_of: Timestamp | None = None


ServerMessage = Annotated[SnapshotMessage | DeltaMessage | PongMessage, Field(discriminator="type")]


class AuthMessage(_View):
    """The client's first message when it has no session cookie."""

    token: str


class ClientRequest(_View):
    """``resync`` after a gap in ``seq``; ``ping`` for a ``pong``."""

    type: Literal["resync", "ping"]


# --- subscriptions (services.gateway.subscriptions; README "Live updates") -----------------------
# The subscribed picture leaves null members out (a JSON Merge Patch cannot set null), so its objects are the
# models above without their null members: typed here as JSON objects (the tests check that they equal the REST
# view's objects without their null members).

JsonObject = dict[str, Any]


class SubscribeRequest(_View):
    """What the client shows: ``"region"``, ``"all"``, ``"emergency_departments"`` or node ids."""

    type: Literal["subscribe"]
    scopes: list[str] = Field(min_length=1, max_length=200)


class SubscribedPicture(_View):
    """The subscribed objects by kind and id (sites with ``unit_ids``, administrations with ``site_ids``)."""

    region: JsonObject | None = Field(default=None, description="absent unless subscribed")
    administrations: dict[str, JsonObject]
    sites: dict[str, JsonObject]
    units: dict[str, JsonObject]


class SubscribedSnapshotMessage(_View):
    """Sent on the first subscription and after a ``resync``: the subscribed picture at the last publish."""

    type: Literal["snapshot"]
    seq: int
    scopes: list[str]
    picture: SubscribedPicture
    alerts: list[AlertObject] = Field(description="every active alert of the principal's scope")


class PatchDeltaMessage(_View):
    """A JSON Merge Patch (RFC 7386) of the subscribed picture: changed members only, a whole object when it
    appears, ``null`` when it goes (or a member becomes null)."""

    type: Literal["delta"]
    seq: int
    patch: JsonObject
    alerts: list[AlertObject] | None = Field(
        default=None, description="only present when alerts changed (resolved ones included)"
    )


class SubscribedMessage(PatchDeltaMessage):
    """The answer to a change of subscription: a patch with the objects gained (whole) and lost (``null``)."""

    type: Literal["subscribed"]  # type: ignore[assignment]
    scopes: list[str]


class ErrorMessage(_View):
    """A refused request (e.g. a subscription outside the token's scope); the connection stays as it was."""

    type: Literal["error"]
    request: Literal["subscribe"]
    detail: str


SubscribedServerMessage = Annotated[
    SubscribedSnapshotMessage | PatchDeltaMessage | SubscribedMessage | ErrorMessage | PongMessage,
    Field(discriminator="type"),
]


__all__ = [
    "AccessBlock",
    "ActiveDiversionView",
    "AdministrationView",
    "AuthMessage",
    "ClientRequest",
    "DataQuality",
    "DeltaMessage",
    "DiversionView",
    "EdStatusView",
    "ErrorMessage",
    "FlatAdministrationView",
    "FlatSiteView",
    "FloorwalkersBlock",
    "HealthView",
    "NotAssessedFigure",
    "PatchDeltaMessage",
    "PongMessage",
    "ReasonCode",
    "RegionView",
    "RollupEdBlock",
    "RollupEdStatusView",
    "RollupFloorwalkersBlock",
    "ServerMessage",
    "SiteView",
    "Situation",
    "SnapshotMessage",
    "SubscribeRequest",
    "SubscribedMessage",
    "SubscribedPicture",
    "SubscribedServerMessage",
    "SubscribedSnapshotMessage",
    "TicketsBlock",
    "UnitEdBlock",
    "UnitFloorwalkersBlock",
    "UnitView",
    "UnitsByHealth",
]
