"""Readiness as the API will show it: per unit with the reasons, and a wave's go/no-go gate with its blockers."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from hypercare.situation.views import UnitDetailView
from services.ingest.schemas import IngestResponse

ReadinessStatus = Literal["green", "yellow", "red"]


class ItemReadiness(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item_id: str
    title: str
    value: float | bool | None = Field(description="the latest assessed value; null when nobody has assessed it")
    status: ReadinessStatus
    reason: str | None = Field(description="why it is not green, in Swedish; null when green")
    assessed_at: datetime | None = Field(default=None, description="when the latest value was assessed; null if never")
    assessor: str | None = Field(default=None, description="who assessed it (a person, or what a source named)")
    evidence: str | None = Field(default=None, description="what the assessment rests on (free text, redacted)")


class UnitReadiness(BaseModel):
    model_config = ConfigDict(extra="forbid")

    unit_id: str
    status: ReadinessStatus = Field(description="the worst of its items")
    items: list[ItemReadiness]


class ReadinessCounts(BaseModel):
    model_config = ConfigDict(extra="forbid")

    green: int = Field(ge=0)
    yellow: int = Field(ge=0)
    red: int = Field(ge=0)


class WaveGate(BaseModel):
    """A wave's readiness gate: red while any of its units is red (those units block it)."""

    model_config = ConfigDict(extra="forbid")

    wave_id: str
    status: ReadinessStatus
    units: ReadinessCounts
    by_area: dict[str, ReadinessCounts]
    by_administration: dict[str, ReadinessCounts]
    blocking_unit_ids: list[str] = Field(description="its red units, in registry order (in the reader's scope)")
    blocking_elsewhere: int = Field(
        default=0, ge=0, description="red units outside the reader's scope: counted in the gate, not listed"
    )


class UnitReadinessView(UnitReadiness):
    """A unit's readiness with where it sits in the registry."""

    name: str
    site_id: str
    administration_id: str
    area: str | None
    wave_id: str | None


class NodeReadiness(BaseModel):
    """A site, administration or area rolled up from its units: red while any is red, else yellow while any is."""

    model_config = ConfigDict(extra="forbid")

    id: str
    name: str
    status: ReadinessStatus
    units: ReadinessCounts


class ChecklistItemView(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item_id: str
    title: str
    kind: Literal["percent", "check"]
    green_from: float | None
    yellow_from: float | None


class ReadinessView(BaseModel):
    """``GET /api/v1/readiness``: each unit's readiness as the stored assessments stood at ``as_of``, rolled up."""

    model_config = ConfigDict(extra="forbid")

    as_of: datetime
    wave: str | None = Field(description="the wave asked for; null for every unit")
    unit_id: str | None = Field(description="the node asked for (a unit, site or administration); null for all")
    checklist: list[ChecklistItemView]
    units: list[UnitReadinessView] = Field(description="in registry order; only those in the reader's scope")
    sites: list[NodeReadiness]
    administrations: list[NodeReadiness]
    areas: list[NodeReadiness] = Field(description="region-wide totals of the units asked for, per area")
    waves: list[WaveGate] = Field(description="the gate of each wave with units asked for (the whole wave)")


class UnitDetailWithReadiness(UnitDetailView):
    """``GET /api/v1/units/{unit_id}``: the unit of the picture with its readiness before go-live."""

    readiness: UnitReadinessView | None = Field(
        description="as the stored assessments stand at the unit's as_of; null for a unit not in the registry, and "
        "while the event store does not answer (the live figures are served all the same)"
    )


class UnitReasons(BaseModel):
    model_config = ConfigDict(extra="forbid")

    unit_id: str
    status: ReadinessStatus
    reasons: list[str]


class ReadinessStamp(BaseModel):
    """The wave's readiness a go/no-go was decided on: its gate, and every unit not green with its reasons."""

    model_config = ConfigDict(extra="forbid")

    as_of: datetime
    wave_id: str
    gate: WaveGate
    units_not_green: list[UnitReasons]


class WaveDecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    wave_id: str = Field(max_length=64)
    wave_decision: Literal["go", "no_go"]
    decision: str = Field(default="", max_length=2000, description="what was decided; a standard text if empty")
    rationale: str = Field(
        default="", max_length=2000, description="why; required for a go while the wave's gate is red"
    )
    mandate: str = Field(default="", max_length=200)
    owner: str = Field(default="", max_length=128)


class WaveDecisionRecorded(IngestResponse):
    """What the ingest path said about the decision event (its 422 body is a plain IngestResponse), and the
    readiness it is stamped with."""

    decision_id: str
    readiness: ReadinessStamp
