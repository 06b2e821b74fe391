"""Reporting duties' shapes: each duty with its deadline and time left, and the configured kinds."""

from __future__ import annotations

from services.schemas import Number, Schema


class Duty(Schema):
    duty_id: str
    duty: str  # the kind's key in the duties file
    name: str
    authority: str | None  # None for a kind the duties file does not know
    known_duty: bool
    trigger: str  # ticket or decision
    trigger_id: str
    description: str
    unit_id: str
    opened_by: str
    opened_at: str
    deadline: str | None
    status: str  # open or fulfilled
    fulfilled_at: str | None
    reference: str  # the authority's reference, once reported
    fulfilled_by: str
    minutes_left: int | None  # whole minutes, negative once overdue; None when fulfilled or without a deadline
    overdue: bool


class DutyKindOut(Schema):
    name: str
    authority: str
    deadline_hours: Number


class DutyList(Schema):
    items: list[Duty]
    count: int
    kinds: dict[str, DutyKindOut]
