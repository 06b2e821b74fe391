"""The decision log's shapes: one entry (a ``decision.recorded`` event or an ED diversion) and the list."""

from __future__ import annotations

from typing import Any

from services.schemas import Schema


class DecisionEntry(Schema):
    event_id: str
    type: str
    occurred_at: str
    stored_at: str
    unit_id: str
    unit_name: str
    decided_by: str
    decision_id: str
    title: str
    decision: str
    rationale: str
    mandate: str
    owner: str
    follow_up_at: str | None
    affected_unit_ids: list[str]
    linked_alert_ids: list[str]
    corrects: str | None
    rollout_decision: str | None
    stop_criteria: dict[str, Any] | None  # the stop-criteria evaluation a go/no-go decision was taken on
    wave_decision: str | None = None  # go or no_go: a wave's go-live decision
    readiness: dict[str, Any] | None = None  # the wave's readiness that decision was taken on
    handover_decision: str | None = None  # handover or extend: a wave's hypercare exit decision
    exit_criteria: dict[str, Any] | None = None  # the wave's exit criteria that decision was taken on
    override_reason: str | None = None  # why a diversion went to an ED that was itself diverting
    diversion_scope: str | None = None  # a started diversion's scope code (ambulance, walk_in, all)
    corrected_by: list[str]


class DecisionList(Schema):
    items: list[DecisionEntry]
    count: int
