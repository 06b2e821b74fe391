"""The shape of ``GET /api/v1/waves``: the go-live waves of the org registry."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from hypercare.org.registry import WaveStatus
from services.readiness.schemas import WaveGate
from services.wave_exit.schemas import WaveExit


class WaveView(BaseModel):
    model_config = ConfigDict(extra="forbid")

    wave_id: str
    name: str
    status: WaveStatus = Field(
        description="planned, readiness (units being made ready), live (in hypercare), paused, exited (handed over)"
    )
    areas: list[str] = Field(description="the areas of its units, in the registry's order of areas")
    planned_go_live: datetime | None = Field(description="null while not scheduled")
    actual_go_live: datetime | None = Field(description="null before the go-live")
    hours_since_go_live: float | None = Field(description="from the actual go-live to the answer's as_of; null before")
    unit_count: int = Field(ge=0)
    administration_ids: list[str] = Field(description="administrations (organisations) with units in the wave")
    readiness: WaveGate = Field(description="its units' readiness rolled up, and the units blocking its gate")
    exit: WaveExit = Field(description="its hypercare exit criteria now: ready for handover to support or not")


class AreaView(BaseModel):
    model_config = ConfigDict(extra="forbid")

    area_id: str
    name: str


class Waves(BaseModel):
    """Every wave of the registry, in its order, and the areas."""

    model_config = ConfigDict(extra="forbid")

    as_of: datetime
    areas: list[AreaView]
    waves: list[WaveView]
