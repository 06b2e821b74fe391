"""The risk register's shapes: a version of a risk, the current risks with flags, one risk with its history."""

from __future__ import annotations

from services.schemas import Schema


class RiskVersion(Schema):
    """One ``risk.recorded`` event: a full version of the risk."""

    risk_id: str
    title: str
    description: str
    owner: str
    mitigation: str
    status: str
    severity: str
    linked_alert_ids: list[str]
    linked_decision_ids: list[str]
    unit_id: str
    recorded_by: str
    recorded_at: str
    event_id: str


class CurrentRisk(RiskVersion):
    """The latest version, when the risk was first recorded, how many versions exist, and its flags."""

    first_recorded_at: str
    versions: int
    flags: list[str]  # no_owner, no_mitigation (open and mitigating risks only)


class RiskList(Schema):
    items: list[CurrentRisk]
    count: int
    flagged: int


class RiskDetail(RiskVersion):
    flags: list[str]
    history: list[RiskVersion]  # every version, oldest first
