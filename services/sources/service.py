"""A source system's raw records: pseudonymised and mapped (hypercare/sources), then the same ingest path as
``POST /api/v1/events`` (validation, authorization, quarantine, production): nothing validated twice, nothing
dropped. A record its mapping cannot translate is refused per item and kept in the quarantine (stage
``mapping``) as the pseudonymised record, never as it came in.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from hypercare.org.registry import OrgRegistry
from hypercare.rules.readiness import ReadinessChecklist
from hypercare.settings import UnknownUnits
from hypercare.sources.engine import Translator
from hypercare.storage.db import Database
from hypercare.topics import Topics
from services.auth.roles import Role
from services.auth.tokens import Principal
from services.ingest.body import RawItem
from services.ingest.producer import EventProducer
from services.ingest.quarantine_sink import QuarantineSink
from services.ingest.service import IngestResult, ingest_items, response
from services.sources.schemas import SourceRecordsResponse

MAPPING = "mapping"


def source_refusal(principal: Principal, source: str) -> str | None:
    """Why ``principal`` may not post ``source``'s records: a source token names its sources; an admin may post any."""
    if principal.role is Role.ADMIN:
        return None
    if principal.sources is None:
        return (
            f"this token was issued without sources; a source system posts its records with a token issued for it "
            f"(hypercare token issue --role source --sources {source} ...)"
        )
    if source not in principal.sources:
        return (
            f"this token may post the records of {', '.join(sorted(principal.sources)) or 'no source'}, not {source!r}"
        )
    return None


def _withheld(translator: Translator, text: str) -> str:
    """A record that could not be read as JSON: with pseudonymised fields, its text cannot be cleaned, so it is
    not kept (the quarantine row says so and how long it was)."""
    if translator.mapping.pseudonymise:
        return f"[record of {len(text)} characters not kept: it is not JSON, so its personal fields cannot be hidden]"
    return text


def _text(record: Any) -> str:
    return json.dumps(record, ensure_ascii=False)


@dataclass(frozen=True)
class Batch:
    items: list[RawItem]  # the events, and the records refused by the mapping, in record order
    records: int
    events: int


def translate_batch(translator: Translator, records: list[RawItem], *, zone: ZoneInfo | None = None) -> Batch:
    """Each record (``split_body``'s items) translated; pure."""
    items: list[RawItem] = []
    events = 0
    for record in records:
        if record.error is not None:
            items.append(
                RawItem(
                    record.index, _withheld(translator, record.text), error=f"record: {record.error}", stage=MAPPING
                )
            )
            continue
        translation = translator.translate(record.data, zone=zone)
        if translation.reason is not None:
            raw = _text(translation.record) if translation.record is not None else _withheld(translator, record.text)
            items.append(RawItem(record.index, raw, error=translation.reason, stage=MAPPING))
            continue
        for event in translation.events:
            items.append(RawItem(record.index, _text(event), event))
            events += 1
    return Batch(items=items, records=len(records), events=events)


async def post_records(
    *,
    translator: Translator,
    records: list[RawItem],
    zone: ZoneInfo | None,
    principal: Principal,
    producer: EventProducer,
    db: Database,
    topics: Topics,
    org: OrgRegistry,
    unknown_units: UnknownUnits,
    quarantine: QuarantineSink | None,
    readiness: ReadinessChecklist | None,
) -> tuple[SourceRecordsResponse, IngestResult]:
    batch = translate_batch(translator, records, zone=zone)
    result = await ingest_items(
        items=batch.items,
        principal=principal,
        producer=producer,
        db=db,
        topics=topics,
        org=org,
        unknown_units=unknown_units,
        quarantine=quarantine,
        readiness=readiness,
    )
    answer = response(result)
    return (
        SourceRecordsResponse(
            records=batch.records, events=batch.events, accepted=answer.accepted, rejected=answer.rejected
        ),
        result,
    )
