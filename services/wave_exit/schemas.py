"""Exit criteria shapes: a wave's verdict (served, shown on each wave, stamped on the handover decision)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from hypercare.contract.events import HandoverDecision
from services.ingest.schemas import IngestResponse
from services.schemas import Number

# within: below the limit; exceeded: at or above it (the value itself counts); not_assessed: the wave has not been
# live long enough (or has no users) to judge it. Only "within" counts towards a handover.
ExitState = Literal["within", "exceeded", "not_assessed"]
# ready: every criterion within; not_ready: any exceeded; not_assessed: none exceeded, some not assessed.
ExitOverall = Literal["ready", "not_ready", "not_assessed"]


class ExitDay(BaseModel):
    """One whole local day of a daily criterion."""

    model_config = ConfigDict(extra="forbid")

    day: str = Field(description="the local date (YYYY-MM-DD)")
    start: datetime
    end: datetime = Field(description="exclusive: tickets opened in [start, end) count")
    opened: int = Field(ge=0, description="tickets first opened that day at the wave's units")
    per_100_users: float = Field(description="opened × 100 / users, two decimals")
    state: Literal["within", "exceeded"]


class ExitCriterionResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    title: str
    metric: str
    unit: str = Field(description="the unit of the value, in Swedish (ärenden per 100 användare, ärenden, pågående)")
    limit: Number = Field(description="exceeded from this value on")
    days: int | None = Field(description="whole days in a row below the limit (daily criterion only)")
    value: Number | None = Field(description="the value judged (daily: the highest day's rate); null when not assessed")
    state: ExitState
    reason: str | None = Field(description="why it is not assessed, in Swedish; null otherwise")
    daily: list[ExitDay] = Field(description="the days judged, oldest first (daily criterion only)")
    source: str = Field(description="the events behind the value, in words")


class WaveExit(BaseModel):
    """A wave's exit criteria as the stored events stood at ``as_of``."""

    model_config = ConfigDict(extra="forbid")

    wave_id: str
    as_of: datetime
    actual_go_live: datetime | None
    unit_count: int = Field(ge=0)
    users: int = Field(ge=0, description="staff of the wave's units (the registry's staff, 30 per unit if not given)")
    overall: ExitOverall
    criteria: list[ExitCriterionResult]


class HandoverDecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    handover_decision: HandoverDecision = Field(
        description="handover: the wave leaves hypercare for ordinary support; extend: hypercare goes on"
    )
    decision: str = Field(default="", max_length=2000, description="what was decided; a standard text if empty")
    rationale: str = Field(default="", max_length=2000, description="required for a handover while not ready")
    mandate: str = Field(default="", max_length=200)
    owner: str = Field(default="", max_length=128)


class HandoverDecisionRecorded(IngestResponse):
    """What the ingest path said about the decision event (its 422 body is a plain :class:`IngestResponse`)."""

    decision_id: str
    exit_criteria: WaveExit = Field(description="the wave's exit criteria the decision is stamped with")
