"""The shape of ``GET /api/v1/waves``: the go-live waves of the org registry."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from hypercare.contract.events import HandoverDecision
from hypercare.org.registry import WaveStatus
from services.readiness.schemas import WaveGate
from services.wave_exit.schemas import WaveExit


class WaveRollout(BaseModel):
    """The latest roll-out decision (continue / pause / roll back) that concerns the wave, once one has paused it."""

    model_config = ConfigDict(extra="forbid")

    state: Literal["paused", "rolled_back", "resumed"] = Field(
        description="paused or rolled_back by the latest decision; resumed: continued after a pause or roll-back"
    )
    decided_at: datetime
    decision_id: str
    title: str


class WaveHandover(BaseModel):
    """The latest handover decision of the wave (handover to support, or hypercare extended)."""

    model_config = ConfigDict(extra="forbid")

    decision: HandoverDecision
    decided_at: datetime
    decision_id: str


class WaveView(BaseModel):
    model_config = ConfigDict(extra="forbid")

    wave_id: str
    name: str
    status: WaveStatus = Field(
        description="planned, readiness (units being made ready), live (in hypercare), paused, exited (handed over): "
        "the registry's status as the decision log moves it on (a handover makes the wave exited, a pause or roll-back "
        "of a live wave makes it paused, a later continue makes it live again)"
    )
    registry_status: WaveStatus = Field(description="the status written in the org registry")
    rollout: WaveRollout | None = Field(description="null until a roll-out decision has paused or rolled back the wave")
    handover: WaveHandover | None = Field(description="null until a handover decision is recorded for the wave")
    areas: list[str] = Field(description="the areas of its units, in the registry's order of areas")
    planned_go_live: datetime | None = Field(description="null while not scheduled")
    actual_go_live: datetime | None = Field(description="null before the go-live")
    hours_since_go_live: float | None = Field(description="from the actual go-live to the answer's as_of; null before")
    unit_count: int = Field(ge=0)
    administration_ids: list[str] = Field(description="administrations (organisations) with units in the wave")
    site_ids: list[str] = Field(description="sites with units in the wave (the console's wave filter)")
    readiness: WaveGate = Field(description="its units' readiness rolled up, and the units blocking its gate")
    exit: WaveExit = Field(description="its hypercare exit criteria now: ready for handover to support or not")


class AreaView(BaseModel):
    model_config = ConfigDict(extra="forbid")

    area_id: str
    name: str
    administration_ids: list[str] = Field(description="administrations with units in the area")
    site_ids: list[str] = Field(description="sites with units in the area")


class Waves(BaseModel):
    """Every wave of the registry, in its order, and the areas."""

    model_config = ConfigDict(extra="forbid")

    as_of: datetime
    areas: list[AreaView]
    waves: list[WaveView]


# --- GET /api/v1/waves/compare ------------------------------------------------------------------


class CompareFigures(BaseModel):
    """One bucket of one wave: counts, and per 100 users (the staff of the wave's units the reader may see)."""

    model_config = ConfigDict(extra="forbid")

    tickets: int = Field(ge=0, description="tickets opened")
    logins: int = Field(ge=0)
    login_failures: int = Field(ge=0)
    permission_denials: int = Field(ge=0)
    assists: int = Field(ge=0, description="floor-walker assists reported in check-ins")
    tickets_per_100_users: float | None = Field(description="null without users")
    permission_denials_per_100_users: float | None
    assists_per_100_users: float | None
    login_failure_rate: float | None = Field(description="login failures / logins (0..1); null without logins")


class CompareBucket(BaseModel):
    model_config = ConfigDict(extra="forbid")

    index: int = Field(ge=0, description="hours (72h) or days (14d) since the wave's go-live: [index, index + 1)")
    start: datetime | None = Field(description="the bucket's start on the calendar; null before the go-live")
    complete: bool = Field(description="false while the bucket is still under way or has not begun")
    figures: CompareFigures | None = Field(description="null while the bucket has not begun")


class WaveCompared(BaseModel):
    model_config = ConfigDict(extra="forbid")

    wave_id: str
    name: str
    actual_go_live: datetime | None
    unit_count: int = Field(ge=0, description="the wave's units the reader may see")
    users: int = Field(ge=0, description="their staff (the org registry's staff, 30 per unit where not given)")
    buckets: list[CompareBucket]


class WaveComparison(BaseModel):
    """Waves side by side, each aligned on the hours since its own go-live."""

    model_config = ConfigDict(extra="forbid")

    as_of: datetime
    span: Literal["72h", "14d"]
    bucket_hours: int = Field(description="1 (72h: hourly) or 24 (14d: daily)")
    waves: list[WaveCompared]
