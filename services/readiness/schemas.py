"""Readiness as the API will show it: per unit with the reasons, and a wave's go/no-go gate with its blockers."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ReadinessStatus = Literal["green", "yellow", "red"]


class ItemReadiness(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item_id: str
    title: str
    value: float | bool | None = Field(description="the latest assessed value; null when nobody has assessed it")
    status: ReadinessStatus
    reason: str | None = Field(description="why it is not green, in Swedish; null when green")


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
    blocking_unit_ids: list[str] = Field(description="its red units, in registry order")
