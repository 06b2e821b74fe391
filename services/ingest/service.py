"""Validate, redact, produce and quarantine one submitted batch of events."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from hypercare.contract.events import (
    EVENT_TYPES,
    Event,
    InvalidEvent,
    escape_unsafe_characters,
    event_to_json,
    parse_event,
)
from hypercare.observability import metrics
from hypercare.org.registry import OrgRegistry
from hypercare.privacy.redact import redact
from hypercare.rules.readiness import ReadinessChecklist
from hypercare.settings import UnknownUnits
from hypercare.storage.db import Database
from hypercare.storage.quarantine import QuarantineRow, add_quarantined
from hypercare.topics import Topics
from services.auth.families import DECISION_TYPES, refusal
from services.auth.scope import refusal as scope_refusal
from services.auth.tokens import Principal
from services.ingest.actors import actor_refusal, stamped, with_actor
from services.ingest.body import RawItem
from services.ingest.diversions import ActiveDiversions, refuse_unsafe_diversion
from services.ingest.producer import EventProducer, encode_key, encode_value
from services.ingest.quarantine_sink import QuarantineSink
from services.ingest.schemas import IngestResponse, RejectedItem
from services.readiness.checks import readiness_refusal

log = logging.getLogger(__name__)


class Forbidden(InvalidEvent):
    """An item this principal may not submit (role or family, scope, actor): valid, but not theirs to send."""


@dataclass(frozen=True)
class Rejection:
    index: int
    reason: str
    event_id: str | None = None
    forbidden: bool = False  # refused for who sent it, not for what it says


@dataclass
class IngestResult:
    accepted: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    event_ids: list[str] = field(default_factory=list)

    @property
    def status(self) -> int:
        """200 when anything was accepted (or nothing sent); 403 when every item was refused for its sender
        (role, scope, actor: e.g. a chief diverting another administration's ED); 422 otherwise."""
        if self.accepted or not self.rejected:
            return 200
        return 403 if all(rejection.forbidden for rejection in self.rejected) else 422


def _validate(
    item: RawItem,
    principal: Principal,
    org: OrgRegistry,
    unknown_units: UnknownUnits,
    active_diversions: ActiveDiversions | None = None,
    readiness: ReadinessChecklist | None = None,
) -> Event:
    if item.error is not None:
        raise InvalidEvent(item.error)
    event = parse_event(with_actor(item.data, principal))
    reason = refusal(principal, event)
    if reason is not None:
        raise Forbidden(reason)
    reason = scope_refusal(org, principal.scope, event.unit_id, f"submit {event.type}")
    if reason is not None:
        raise Forbidden(f"unit_id: {reason}")
    reason = actor_refusal(principal, event)
    if reason is not None:
        raise Forbidden(reason)
    if unknown_units == "reject" and not _known_unit(org, event):
        raise InvalidEvent(f"unit_id: {event.unit_id!r} is not in the org registry")
    reason = readiness_refusal(readiness, event)
    if reason is not None:
        raise InvalidEvent(reason)
    refuse_unsafe_diversion(event, active_diversions, org)  # last: it notes the accepted diversion
    return event


def _known_unit(org: OrgRegistry, event: Event) -> bool:
    """A unit of the registry; the coordination group's records may also name a site, administration or region."""
    if org.knows(event.unit_id):
        return True
    return event.family == "coordination" and event.unit_id in org.node_ids


async def ingest_items(
    *,
    items: list[RawItem],
    principal: Principal,
    producer: EventProducer,
    db: Database,
    topics: Topics,
    org: OrgRegistry,
    unknown_units: UnknownUnits,
    quarantine: QuarantineSink | None = None,
    active_diversions: ActiveDiversions | None = None,
    readiness: ReadinessChecklist | None = None,
) -> IngestResult:
    """Validate and authorize each item (``unknown_units``: refuse units the ``org`` registry lacks, or accept
    them under "unmapped"); valid events to their family topics, rejected items to the quarantine topic and
    table with their reasons. With ``active_diversions`` (the live picture's) a diversion that would send
    patients back and forth is refused unless it gives an override reason (:mod:`services.ingest.diversions`).
    ``readiness`` is the checklist a ``readiness.assessed`` item must fit (without it such items are refused).

    With ``quarantine`` (the API's sink) a database outage does not fail the batch: the rejected items'
    rows wait in the sink (see :mod:`services.ingest.quarantine_sink`). Without it the rows are written
    here and a database error fails the request before anything is produced.
    """
    result = IngestResult()
    messages: list[tuple[str, bytes | None, bytes]] = []
    quarantined: list[QuarantineRow] = []
    accepted_types: list[str] = []
    received_at = datetime.now(UTC)
    for item in items:
        try:
            event = _validate(item, principal, org, unknown_units, active_diversions, readiness)
        except InvalidEvent as error:
            reason = redact(str(error))
            metrics.EVENTS_INGESTED.labels(type=_type_label(item), outcome="rejected").inc()
            event_id = item.data.get("event_id") if isinstance(item.data, dict) else None
            result.rejected.append(
                Rejection(
                    index=item.index,
                    reason=reason,
                    event_id=redact(escape_unsafe_characters(event_id[:64])) if isinstance(event_id, str) else None,
                    forbidden=isinstance(error, Forbidden),
                )
            )
            quarantined.append(
                QuarantineRow(
                    stage=item.stage,
                    reason=escape_unsafe_characters(reason),
                    item_index=item.index,
                    raw=redact(escape_unsafe_characters(item.text)),
                    submitted_by=principal.name,
                    src_topic=None,
                    src_partition=None,
                    src_offset=None,
                )
            )
            continue
        event = stamped(event, principal, received_at)
        payload = event_to_json(event)
        messages.append((topics.family(event.family), encode_key(event.unit_id), encode_value(payload)))
        accepted_types.append(event.type)
        result.event_ids.append(event.event_id)
    if quarantined:
        # In the table or waiting for it in the sink, and in the topic, before anything is acknowledged:
        # a rejected item is never lost.
        if quarantine is not None:
            stored = await quarantine.store(quarantined)
        else:
            await add_quarantined(db, items=quarantined)
            stored = True
        for stage, n in Counter(row.stage for row in quarantined).items():
            metrics.QUARANTINED.labels(stage=stage).inc(n)
        await producer.send_all(
            [
                (
                    topics.quarantine,
                    None,
                    encode_value(
                        {
                            "stage": row.stage,
                            "reason": row.reason,
                            "index": row.item_index,
                            "raw": row.raw,
                            "submitted_by": row.submitted_by,
                            "received_at": datetime.now(UTC).isoformat(),
                            "stored": stored,  # False: its table row waited for the database
                        }
                    ),
                )
                for row in quarantined
            ]
        )
    if messages:
        with metrics.PRODUCE_LATENCY.time():
            await producer.send_all(messages)
        for event_type, n in Counter(accepted_types).items():
            metrics.EVENTS_INGESTED.labels(type=event_type, outcome="accepted").inc(n)
    result.accepted = len(messages)
    return result


def _type_label(item: RawItem) -> str:
    """The item's event type when it names a real one; anything else would be unbounded."""
    event_type = item.data.get("type") if isinstance(item.data, dict) else None
    return event_type if event_type in EVENT_TYPES else "invalid"


def response(result: IngestResult) -> IngestResponse:
    return IngestResponse(
        accepted=result.accepted,
        rejected=[RejectedItem(index=r.index, reason=r.reason, event_id=r.event_id or None) for r in result.rejected],
    )


def describe(result: IngestResult) -> dict[str, object]:
    """The :class:`IngestResponse` as JSON-ready data; ``event_id`` only where an item had one."""
    return response(result).model_dump(exclude_none=True)


__all__ = ["DECISION_TYPES", "Forbidden", "IngestResult", "Rejection", "describe", "ingest_items", "response"]
