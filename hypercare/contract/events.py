"""Event contract v1 (DESIGN.md): the one definition used by the ingest API and the stream workers.

Free-text fields are redacted while they are validated, so no code path can see an identity number
after parsing; identifiers that hold one are refused (an id is stored and shown as it is). No string of an
event may hold a C0 control character other than TAB, LF and CR, or a lone surrogate: every string alias
below refuses them, and every string is strict (pydantic's lax mode would take bytes). Timestamps accept
RFC 3339 strings only (lax mode would take ``0``). Events read back from the store (context ``stored``)
were judged when they were accepted and are not judged again.
"""

from __future__ import annotations

import json
import math
import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PlainValidator,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from hypercare.privacy.redact import identifier_holds_identity_number, redact

MAX_FUTURE = timedelta(minutes=5)

TicketCategory = Literal[
    "login",
    "permissions",
    "printing",
    "orders",
    "medication",
    "documentation",
    "scheduling",
    "lab",
    "radiology",
    "integration",
    "performance",
    "hardware",
    "other",
]
TICKET_CATEGORIES: tuple[str, ...] = get_args(TicketCategory)
TicketChannel = Literal["phone", "chat", "portal", "walk_up", "floorwalker"]
TicketStatus = Literal["in_progress", "waiting", "escalated"]
LoginOutcome = Literal["success", "failure"]
LoginFailureReason = Literal[
    "wrong_password", "card_error", "account_locked", "no_account", "expired", "mfa_failed", "other"
]
WalkerStatus = Literal["on_unit", "assisting", "available", "break"]
DiversionScope = Literal["ambulance", "walk_in", "all"]
RolloutDecision = Literal["continue", "pause", "rollback"]
WaveDecision = Literal["go", "no_go"]
HandoverDecision = Literal["handover", "extend"]
Priority = Annotated[int, Field(ge=1, le=4, strict=True)]


def _timestamp_string(value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError("must be an RFC 3339 timestamp string with offset, e.g. 2024-11-12T05:30:00+01:00")
    return value


# C0 controls except TAB, LF and CR, and lone surrogates (which UTF-8 cannot encode); PostgreSQL keeps neither
# NUL nor a surrogate in text, and the rest has no business in an event.
_UNSAFE_CHARACTER = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


def unsafe_character_problem(text: str) -> str | None:
    """Why ``text`` may not be part of an event (its first forbidden character), or ``None``."""
    match = _UNSAFE_CHARACTER.search(text)
    if match is None:
        return None
    code = ord(match.group())
    what = "a control character" if code < 0x20 else "a lone surrogate"
    return f"contains {what} (U+{code:04X})"


def escape_unsafe_characters(text: str) -> str:
    """``text`` with every character an event may not hold written as a ``\\uXXXX`` escape (for raw text kept
    in the quarantine: storable and encodable, and still showing what was sent)."""
    return _UNSAFE_CHARACTER.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


_ID_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def new_id(prefix: str) -> str:
    """A fresh random identifier: ``<prefix>-`` and 20 letters (94 bits). Letters only: random hex digits read as
    an identity number about once in 600 ids, and an id that does is refused."""
    return f"{prefix}-{''.join(secrets.choice(_ID_LETTERS) for _ in range(20))}"


def _stored(info: ValidationInfo) -> bool:
    return bool(info.context and info.context.get("stored"))


def _plain_text(value: Any, info: ValidationInfo) -> Any:
    # Before the string's own checks (strip_whitespace would silently drop a leading VT or FF).
    if isinstance(value, str) and not _stored(info):
        problem = unsafe_character_problem(value)
        if problem is not None:
            raise ValueError(problem)
    return value


def _plain_document(value: Any, info: ValidationInfo) -> Any:
    """Every key and string inside a JSON document (e.g. ``stop_criteria``)."""
    if _stored(info):
        return value
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            problem = unsafe_character_problem(item)
            if problem is not None:
                raise ValueError(problem)
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)
    return value


def _pseudonymous(value: str, info: ValidationInfo) -> str:
    if not _stored(info) and identifier_holds_identity_number(value):
        raise ValueError("must be a pseudonymous id, not a personal identity number")
    return value


def _no_identity_number(value: str, info: ValidationInfo) -> str:
    if not _stored(info) and identifier_holds_identity_number(value):
        raise ValueError("must not contain a personal identity number (an id is stored and shown as it is)")
    return value


# Every string of an event is one of these aliases (tests/hypercare/contract checks that no field escapes them).
_Plain = BeforeValidator(_plain_text)
_NoIdentityNumber = AfterValidator(_no_identity_number)
Identifier = Annotated[
    str, StringConstraints(strict=True, pattern=r"^[A-Za-z0-9._:-]{1,64}$"), _NoIdentityNumber, _Plain
]
Reference = Annotated[
    str, StringConstraints(strict=True, min_length=1, max_length=128, strip_whitespace=True), _NoIdentityNumber, _Plain
]
PseudonymousId = Annotated[
    str,
    StringConstraints(strict=True, min_length=1, max_length=128, strip_whitespace=True),
    AfterValidator(_pseudonymous),
    _Plain,
]
SourceName = Annotated[str, StringConstraints(strict=True, max_length=64), _NoIdentityNumber, _Plain]
Code = Annotated[str, StringConstraints(strict=True, pattern=r"^[a-z_]{1,40}$"), _Plain]
Timestamp = Annotated[AwareDatetime, BeforeValidator(_timestamp_string)]
JsonDocument = Annotated[dict[str, Any], AfterValidator(_plain_document)]


# Free text, redacted of identity numbers as part of validation (after the length check): one alias per
# length in use, so the annotations stay plain types for mypy. Add an alias here for a new length.
_Redacted = AfterValidator(redact)
FreeText64 = Annotated[str, StringConstraints(strict=True, max_length=64), _Redacted, _Plain]
FreeText128 = Annotated[str, StringConstraints(strict=True, max_length=128), _Redacted, _Plain]
FreeText200 = Annotated[str, StringConstraints(strict=True, max_length=200), _Redacted, _Plain]
FreeText500 = Annotated[str, StringConstraints(strict=True, max_length=500), _Redacted, _Plain]
FreeText2000 = Annotated[str, StringConstraints(strict=True, max_length=2000), _Redacted, _Plain]
# Free text that must not be empty.
Title = Annotated[str, StringConstraints(strict=True, min_length=1, max_length=200), _Redacted, _Plain]
Text2000 = Annotated[str, StringConstraints(strict=True, min_length=1, max_length=2000), _Redacted, _Plain]


class Envelope(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: Identifier
    occurred_at: Timestamp
    unit_id: Reference
    source: SourceName | None = None
    # Stamped by the ingest API on every event it accepts: who submitted it (the token's name and role) and when
    # the server received it (UTC). Never taken from a client (services.ingest.actors refuses them on input);
    # absent from events accepted before they existed.
    submitted_by: FreeText128 | None = None
    submitted_role: Code | None = None
    received_at: Timestamp | None = None

    @field_validator("occurred_at")
    @classmethod
    def _not_in_future(cls, value: datetime, info: ValidationInfo) -> datetime:
        # Judged once, at ingest: an event read back from the store (context ``stored``) was accepted then.
        stored = _stored(info)
        utc = value.astimezone(UTC)  # first: two values in the same zone subtract without asking it for offsets
        if not stored and utc - datetime.now(UTC) > MAX_FUTURE:
            raise ValueError("is more than 5 minutes in the future")
        return utc

    @property
    def family(self) -> str:
        return family_of(self.type)  # type: ignore[attr-defined]


class TicketOpened(Envelope):
    type: Literal["ticket.opened"]
    ticket_id: Reference
    channel: TicketChannel
    category: TicketCategory
    priority: Priority
    summary: FreeText500 = ""
    patient_safety: bool = False


class TicketUpdated(Envelope):
    type: Literal["ticket.updated"]
    ticket_id: Reference
    status: TicketStatus
    priority: Priority | None = None
    category: TicketCategory | None = None


class TicketResolved(Envelope):
    type: Literal["ticket.resolved"]
    ticket_id: Reference
    resolution_code: FreeText64 | None = None
    known_issue_id: Reference | None = None


class AccessLogin(Envelope):
    type: Literal["access.login"]
    user_ref: PseudonymousId
    outcome: LoginOutcome
    reason: LoginFailureReason | None = None

    @field_validator("reason")
    @classmethod
    def _reason_only_for_failures(cls, value: str | None, info: Any) -> str | None:
        if value is not None and info.data.get("outcome") == "success":
            raise ValueError("is only allowed when outcome is 'failure'")
        return value


class PermissionDenied(Envelope):
    type: Literal["access.permission_denied"]
    user_ref: PseudonymousId
    role: Code
    module: FreeText64
    privilege: FreeText64 | None = None


class FloorwalkerCheckin(Envelope):
    type: Literal["floorwalker.checkin"]
    walker_id: PseudonymousId
    status: WalkerStatus
    assists: Annotated[int, Field(ge=0, le=1000, strict=True)] = 0
    categories: list[TicketCategory] = Field(default_factory=list, max_length=20)
    needs_escalation: bool = False
    note: FreeText500 | None = None


class FloorwalkerCheckout(Envelope):
    type: Literal["floorwalker.checkout"]
    walker_id: PseudonymousId


class EdStatus(Envelope):
    type: Literal["ed.status"]
    patients_waiting: Annotated[int, Field(ge=0, strict=True)]
    patients_in_department: Annotated[int, Field(ge=0, strict=True)]
    capacity: Annotated[int, Field(ge=1, strict=True)]
    longest_wait_minutes: Annotated[int, Field(ge=0, strict=True)] | None = None


class EdDiversionStarted(Envelope):
    type: Literal["ed.diversion_started"]
    diversion_id: Reference
    to_unit_ids: list[Reference] = Field(min_length=1, max_length=20)
    scope: DiversionScope
    reason: FreeText500
    decided_by: FreeText128
    expected_end: Timestamp | None = None
    # Given when a chief diverts to an ED that is itself diverting back (services.ingest.diversions): why anyway.
    override_reason: FreeText500 | None = None


class EdDiversionEnded(Envelope):
    type: Literal["ed.diversion_ended"]
    diversion_id: Reference
    decided_by: FreeText128
    reason: FreeText500 | None = None


class DecisionRecorded(Envelope):
    """An entry of the coordination group's decision log (beslutslogg); ``unit_id`` is the unit, site,
    administration or region it concerns. Entries are immutable: a correction is a new entry whose
    ``corrects`` names the ``decision_id`` it corrects."""

    type: Literal["decision.recorded"]
    decision_id: Identifier
    title: Title
    decision: Text2000
    rationale: FreeText2000 = ""
    mandate: FreeText200 = ""
    owner: FreeText128 = ""
    follow_up_at: Timestamp | None = None
    affected_unit_ids: list[Reference] = Field(default_factory=list, max_length=100)
    linked_alert_ids: list[Reference] = Field(default_factory=list, max_length=50)
    corrects: Identifier | None = None
    decided_by: FreeText128
    # A go/no-go decision on the roll-out, and the stop-criteria evaluation the group decided on
    # (stamped by the gateway when recorded through POST /api/v1/stop-criteria/decisions).
    rollout_decision: RolloutDecision | None = None
    stop_criteria: JsonDocument | None = None
    # A wave's go/no-go for its go-live, and the wave's readiness the group decided on (stamped by the gateway
    # when recorded through POST /api/v1/readiness/decisions).
    wave_decision: WaveDecision | None = None
    readiness: JsonDocument | None = None
    # A wave's hypercare exit ("handover to support", or hypercare extended), and the wave's exit criteria the
    # group decided on (stamped by the gateway when recorded through POST /api/v1/waves/{wave_id}/exit/decisions).
    handover_decision: HandoverDecision | None = None
    exit_criteria: JsonDocument | None = None


class RiskRecorded(Envelope):
    """One version of a risk or problem in the risk register; the latest version is the risk's state."""

    type: Literal["risk.recorded"]
    risk_id: Identifier
    title: Title
    description: FreeText2000 = ""
    owner: FreeText128 = ""
    mitigation: FreeText2000 = ""
    status: Literal["open", "mitigating", "closed"] = "open"
    severity: Literal["low", "medium", "high"] = "medium"
    linked_alert_ids: list[Reference] = Field(default_factory=list, max_length=50)
    linked_decision_ids: list[Identifier] = Field(default_factory=list, max_length=50)
    recorded_by: FreeText128


class DutyOpened(Envelope):
    """A reporting duty (e.g. lex Maria to IVO) opened by a patient-safety ticket or a decision; the deadline
    follows from ``duty`` and the configured hours (hypercare/rules/reporting_duties.yaml)."""

    type: Literal["duty.opened"]
    duty_id: Identifier
    duty: Code
    trigger: Literal["ticket", "decision"]
    trigger_id: Reference
    description: FreeText500 = ""
    opened_by: FreeText128


class DutyFulfilled(Envelope):
    type: Literal["duty.fulfilled"]
    duty_id: Identifier
    reference: FreeText128 = ""
    fulfilled_by: FreeText128


def _assessed_value(value: Any) -> bool | float:
    """A check's done/not done (JSON true/false) or a percent item's share (a number 0–100); a bool is never read
    as a number, nor 1 as true, nor a string as either."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and math.isfinite(value) and 0 <= value <= 100:
        return float(value)
    raise ValueError("must be true or false (a check) or a number from 0 to 100 (a percent)")


AssessedValue = Annotated[bool | float, PlainValidator(_assessed_value, json_schema_input_type=bool | float)]


class ReadinessAssessed(Envelope):
    """One checklist item of a unit assessed before its wave's go-live (the rules file's ``readiness:`` section):
    a percent item's share (0–100) or a check's done/not done. The latest assessment per (unit, item) counts.
    Whether ``item`` is on the checklist and ``value`` fits its kind is checked at ingest against the rules
    file in force (services.readiness.checks), which the contract does not know."""

    type: Literal["readiness.assessed"]
    item: Code
    value: AssessedValue
    assessor: FreeText128
    evidence: FreeText500 = ""


Event = Annotated[
    (
        TicketOpened
        | TicketUpdated
        | TicketResolved
        | AccessLogin
        | PermissionDenied
        | FloorwalkerCheckin
        | FloorwalkerCheckout
        | EdStatus
        | EdDiversionStarted
        | EdDiversionEnded
        | DecisionRecorded
        | RiskRecorded
        | DutyOpened
        | DutyFulfilled
        | ReadinessAssessed
    ),
    Discriminator("type"),
]
# The envelope's fields only the server sets (see Envelope).
SERVER_FIELDS: tuple[str, ...] = ("submitted_by", "submitted_role", "received_at")
# Every type, in the order of the union above: one place to add an event type.
EVENT_TYPES: tuple[str, ...] = tuple(
    get_args(model.model_fields["type"].annotation)[0] for model in get_args(get_args(Event)[0])
)
# Event families map one to one onto Kafka topics (hypercare.topics). "coordination" carries the
# coordination group's own records (decisions, risks, reporting duties): stored, never aggregated per unit.
# "readiness" carries the checklist assessments before a go-live (stored, read by services.readiness): a family
# of its own, so a training system's or permission matcher's token can be issued for it alone.
FAMILIES: tuple[str, ...] = ("tickets", "access", "floorwalkers", "ed", "coordination", "readiness")
_FAMILY_BY_PREFIX = {
    "ticket": "tickets",
    "access": "access",
    "floorwalker": "floorwalkers",
    "ed": "ed",
    "decision": "coordination",
    "risk": "coordination",
    "duty": "coordination",
    "readiness": "readiness",
}

event_adapter: TypeAdapter[Event] = TypeAdapter(Event)


def family_of(event_type: str) -> str:
    return _FAMILY_BY_PREFIX[event_type.split(".", 1)[0]]


def parse_event(data: Any) -> Event:
    """Validate one decoded JSON item; raises :class:`InvalidEvent` with a readable reason."""
    if not isinstance(data, dict):
        raise InvalidEvent("an event must be a JSON object")
    event_type = data.get("type")
    if event_type not in EVENT_TYPES:
        raise InvalidEvent(
            f"type: must be one of {', '.join(EVENT_TYPES)} (got {str(event_type)[:40]!r})"
            if event_type is not None
            else "type: field required"
        )
    try:
        return event_adapter.validate_python(data)
    except ValidationError as error:
        raise InvalidEvent(describe_validation_error(error)) from None


def parse_event_json(raw: bytes) -> Event:
    """Validate one JSON document: pydantic's own JSON parser on the hot path, the readable reason otherwise."""
    try:
        return event_adapter.validate_json(raw)
    except ValidationError:
        pass
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidEvent(f"not valid JSON: {error.msg if hasattr(error, 'msg') else error}") from None
    return parse_event(data)


def stored_event(payload: Any) -> Event:
    """An event read back from the event store (its stored payload is the whole event as accepted).

    Goes through the contract models, so every reader sees the same defaults and types as the worker.
    """
    return event_adapter.validate_python(payload, context={"stored": True})


def stored_fields(payload: Any) -> dict[str, Any]:
    """A stored event's fields as JSON values, every default filled in by its contract model (not by hand);
    values that were absent and default to None stay present as None."""
    return stored_event(payload).model_dump(mode="json")


def event_to_json(event: Event) -> dict[str, Any]:
    return event.model_dump(mode="json", exclude_none=True)


def event_to_json_text(event: Event) -> str:
    """The same document as :func:`event_to_json`, serialised by pydantic-core in one step."""
    return event.model_dump_json(exclude_none=True)


class InvalidEvent(ValueError):
    """An event that breaks the contract; the message is safe to show (it echoes no input)."""


def describe_validation_error(error: ValidationError) -> str:
    parts = []
    for item in error.errors(include_input=False, include_url=False):
        location = ".".join(str(part) for part in item["loc"][1:] or item["loc"])
        message = item["msg"]
        if message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        parts.append(f"{location}: {message}" if location else message)
    return "; ".join(parts)
