"""The console API's shapes: the token holder, trends, the ticket flow and hot spots, a unit's history, known issues."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from hypercare.privacy.redact import contains_identity_number, redact
from services.schemas import Schema

KnownIssueStatus = Literal["open", "workaround", "resolved"]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), AfterValidator(redact)]
Workaround = Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000), AfterValidator(redact)]


def _not_identity(value: str) -> str:
    if contains_identity_number(value):
        raise ValueError("a ticket id must not contain a personal identity number")
    return value


TicketId = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128), AfterValidator(_not_identity)
]


class Me(Schema):
    name: str
    role: str
    walker_id: str  # pseudonymous and stable: the tablet's floor-walker id
    scope: str | None = None  # the org node the principal is scoped to; None: the whole region
    whole_region: bool = True  # False: reads are cut to the scope, region-wide documents (reports) refused


class RegionTrend(Schema):
    region_id: str
    name: str
    go_live_at: str | None = Field(description="the earliest go-live of its units (ISO 8601), null when none known")
    tickets_opened: list[int]
    tickets_resolved: list[int]
    logins: list[int]
    login_failures: list[int]


class AdministrationTrend(Schema):
    administration_id: str
    name: str
    go_live_at: str | None
    tickets_opened: list[int]
    tickets_resolved: list[int]
    logins: list[int]
    login_failures: list[int]


class UnitTrend(Schema):
    unit_id: str
    name: str
    go_live_at: str | None
    tickets_opened: list[int]
    tickets_resolved: list[int]
    logins: list[int]
    login_failures: list[int]


class Trends(Schema):
    """Counts per bucket; each list has one number per bucket start in ``buckets``."""

    as_of: str
    from_: str = Field(alias="from")
    to: str
    bucket_minutes: int
    buckets: list[str]
    region: RegionTrend
    administrations: list[AdministrationTrend]
    unit: UnitTrend | None = Field(default=None, description="the unit's own series, with ?unit_id=")


class TicketState(Schema):
    """A ticket as currently known, folded from all its stored events."""

    status: str
    category: str | None
    priority: int | None
    channel: str | None
    summary: str | None
    patient_safety: bool
    opened_at: str | None
    resolved_at: str | None


class TicketEvent(Schema):
    event_id: str
    type: str
    ticket_id: str
    unit_id: str
    unit_name: str
    site_id: str
    administration_id: str
    occurred_at: str
    source: str | None
    payload: dict[str, Any]  # the stored event's fields (redacted at ingest)
    ticket: TicketState | None
    known_issue_ids: list[int]


class TicketFlow(Schema):
    as_of: str
    items: list[TicketEvent]


class Hotspot(Schema):
    unit_id: str
    unit_name: str
    site_id: str
    administration_id: str
    opened: int
    resolved: int
    growth: int  # opened − resolved in the period


class Hotspots(Schema):
    as_of: str
    minutes: int
    items: list[Hotspot]


class UnitEvent(Schema):
    event_id: str
    type: str
    occurred_at: str
    source: str | None
    payload: dict[str, Any]  # the stored event's fields (redacted at ingest)


class UnitHistory(Schema):
    unit_id: str
    name: str
    site_id: str
    administration_id: str
    items: list[UnitEvent]


class KnownIssueOut(Schema):
    id: int
    title: str
    workaround: str
    status: str
    created_by: str
    created_at: str
    updated_at: str
    ticket_ids: list[str]
    ticket_count: int


class KnownIssueList(Schema):
    items: list[KnownIssueOut]


class NewKnownIssue(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: Title
    workaround: Workaround = ""
    status: KnownIssueStatus = "open"


class KnownIssueChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: Title | None = None
    workaround: Workaround | None = None
    status: KnownIssueStatus | None = None


class TicketLink(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ticket_id: TicketId
