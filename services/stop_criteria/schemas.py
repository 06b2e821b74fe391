"""Stop criteria shapes: the evaluation (as served, frozen into reports and stamped on decisions) and go/no-go."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from hypercare.contract.events import RolloutDecision
from services.ingest.schemas import IngestResponse
from services.schemas import Number, Schema


def _absent(value: object) -> bool:
    return value is None


# Only a login failure rate has the counts behind it; other criteria send neither key.
Logins = Field(default=None, exclude_if=_absent, description="logins counted (login failure rate only)")
Failures = Field(default=None, exclude_if=_absent, description="failed logins counted (login failure rate only)")


# within: below the limit ("Inom gräns"); exceeded: at or above it ("Överskriden – stopp"); not_assessed: too few
# logins behind a rate to judge it ("Ej bedömt"; it does not stop the roll-out).
CriterionState = Literal["within", "exceeded", "not_assessed"]


class AdministrationValue(Schema):
    id: str
    name: str
    value: Number
    met: bool
    judged: bool  # false when too few logins stand behind a rate (it then counts as met)
    state: CriterionState
    logins: int | None = Logins
    failures: int | None = Failures
    limit: Number  # this administration's limit (a threshold phase's while the administration is in it)
    phase: str | None  # the threshold phase whose limit applied; null: the normal limit


class CriterionResult(Schema):
    id: str
    title: str
    metric: str
    unit: str  # the unit of the value, in Swedish (andel, ärenden, timmar)
    scope: str  # region or administration
    limit: Number  # not met from this value on (a threshold phase's limit while the region is in it)
    phase: str | None  # the threshold phase whose limit applied (region scope; per administration in breakdown)
    min_logins: int | None
    value: Number
    logins: int | None = Logins
    failures: int | None = Failures
    met: bool
    judged: bool
    state: CriterionState  # exceeded when any administration is; not_assessed when none could be judged
    breakdown: list[AdministrationValue]  # per administration when the scope is administration
    source: str  # the query behind the value, in words


class StopCriteriaEvaluation(Schema):
    as_of: str
    day_start: str
    overall: str  # met or not_met
    criteria: list[CriterionResult]


class RolloutDecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rollout_decision: RolloutDecision
    decision: str = Field(default="", max_length=2000, description="what was decided; a standard text if empty")
    rationale: str = Field(default="", max_length=2000)
    mandate: str = Field(default="", max_length=200)
    owner: str = Field(default="", max_length=128)
    unit_id: str | None = Field(default=None, description="what it concerns; the region if empty")


class RolloutDecisionRecorded(IngestResponse):
    """What the ingest path said about the decision event (its 422 body is a plain :class:`IngestResponse`)."""

    decision_id: str
    stop_criteria: StopCriteriaEvaluation  # the evaluation the decision is stamped with
