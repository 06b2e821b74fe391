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


class RollupFloorwalkersBlock(FloorwalkersBlock):
    units_never_visited: Count


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


class HealthView(_View):
    status: Status
    reasons: list[str] = Field(description="readable, red first")
    reason_codes: list[ReasonCode] = Field(description="the same hits, machine-readable, in the same order")


class UnitsByHealth(_View):
    green: Count
    yellow: Count
    red: Count


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
    type: Literal["pong"]


ServerMessage = Annotated[SnapshotMessage | DeltaMessage | PongMessage, Field(discriminator="type")]


class AuthMessage(_View):
    """The client's first message when it has no session cookie."""

    token: str


class ClientRequest(_View):
    """``resync`` after a gap in ``seq``; ``ping`` for a ``pong``."""

    type: Literal["resync", "ping"]


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
    "FlatAdministrationView",
    "FlatSiteView",
    "FloorwalkersBlock",
    "HealthView",
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
    "TicketsBlock",
    "UnitEdBlock",
    "UnitFloorwalkersBlock",
    "UnitView",
    "UnitsByHealth",
]
