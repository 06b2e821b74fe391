"""``POST /api/v1/sources/{source}/records`` and a connector's ``GET/PUT /api/v1/sources/{source}/cursor``."""

from __future__ import annotations

import json
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiokafka.errors import KafkaError
from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import JSONResponse

from hypercare.sources.engine import Translator
from hypercare.topics import topics_for
from services.audit.service import note_counts
from services.auth.dependencies import SourcePoster
from services.auth.tokens import Principal
from services.dependencies import (
    DatabaseDep,
    OrgDep,
    ProducerDep,
    QuarantineSinkDep,
    ReadinessDep,
    SettingsDep,
    SourcesDep,
)
from services.ingest.body import request_items
from services.sources import store
from services.sources.schemas import CursorIn, CursorOut, SourceRecordsResponse
from services.sources.service import post_records, source_refusal

router = APIRouter(prefix="/api/v1/sources", tags=["sources"])
MAX_CURSOR_BYTES = 64 * 1024


def _translator(sources: dict[str, Translator], principal: Principal, source: str) -> Translator:
    translator = sources.get(source)
    if translator is None:
        configured = ", ".join(sorted(sources)) or "none (HYPERCARE_SOURCE_MAPPINGS)"
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"no mapping for the source {source[:40]!r} (configured: {configured})"
        )
    reason = source_refusal(principal, source)
    if reason is not None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, reason)
    return translator


@router.post(
    "/{source}/records",
    response_model=SourceRecordsResponse,
    summary="A source system's raw records (JSON object, array or NDJSON), mapped to events and ingested",
    responses={
        200: {"description": "Batch processed: counts and every refused record with its reason"},
        400: {"description": "The body is neither JSON nor NDJSON, or timezone is not an IANA zone"},
        403: {"model": SourceRecordsResponse, "description": "Not this token's source; or every record refused for it"},
        404: {"description": "No mapping is configured for this source"},
        413: {"description": "Body or record count over the configured limit"},
        422: {"model": SourceRecordsResponse, "description": "Every record was refused (same body as 200)"},
        503: {"description": "The broker did not acknowledge; resend (event ids make it safe)"},
    },
)
async def post_source_records(
    source: str,
    request: Request,
    principal: SourcePoster,
    sources: SourcesDep,
    settings: SettingsDep,
    db: DatabaseDep,
    producer: ProducerDep,
    org: OrgDep,
    quarantine: QuarantineSinkDep,
    readiness: ReadinessDep,
    timezone: Annotated[
        str | None,
        Query(
            max_length=64,
            description="What a timestamp without an offset means in this batch (IANA zone, e.g. UTC for the"
            " ServiceNow Table API's stored values); default: the mapping's",
        ),
    ] = None,
) -> JSONResponse:
    translator = _translator(sources, principal, source)
    zone = None
    if timezone is not None:
        try:
            zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise HTTPException(status.HTTP_400_BAD_REQUEST, "timezone: not an IANA time zone such as UTC") from None
    records = await request_items(request, limit=settings.max_events_per_request, noun="records")
    try:
        answer, result = await post_records(
            translator=translator,
            records=records,
            zone=zone,
            principal=principal,
            producer=producer,
            db=db,
            topics=topics_for(settings),
            org=org,
            unknown_units=settings.unknown_units,
            quarantine=quarantine,
            readiness=readiness,
        )
    except KafkaError as error:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            f"the event broker did not acknowledge ({type(error).__name__}); nothing from this request counts as"
            " accepted, resend it (event ids make resending safe)",
        ) from None
    note_counts(request.scope, accepted=result.accepted, rejected=len(result.rejected))
    return JSONResponse(answer.model_dump(exclude_none=True), status_code=result.status)


def _out(cursor: store.Cursor) -> CursorOut:
    return CursorOut(
        source=cursor.source,
        cursor=cursor.cursor,
        version=cursor.version,
        updated_at=None if cursor.updated_at is None else cursor.updated_at.isoformat(),
        updated_by=cursor.updated_by,
    )


@router.get("/{source}/cursor", summary="Where this source's connector has got to (its own JSON)")
async def get_cursor(source: str, principal: SourcePoster, sources: SourcesDep, db: DatabaseDep) -> CursorOut:
    _translator(sources, principal, source)
    return _out(await store.read_cursor(db, source))


@router.put(
    "/{source}/cursor",
    summary="Save the connector's position after its records were acknowledged (409 when saved since read)",
    responses={
        409: {"description": "Another save came first: read the cursor again"},
        413: {"description": "Over 64 KiB"},
    },
)
async def put_cursor(
    source: str, body: CursorIn, principal: SourcePoster, sources: SourcesDep, db: DatabaseDep
) -> CursorOut:
    _translator(sources, principal, source)
    if len(json.dumps(body.cursor)) > MAX_CURSOR_BYTES:
        raise HTTPException(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, "a cursor is at most 64 KiB of JSON")
    try:
        saved = await store.save_cursor(db, source, cursor=body.cursor, version=body.version, by=principal.name)
    except store.CursorConflict as error:
        raise HTTPException(status.HTTP_409_CONFLICT, str(error)) from None
    return _out(saved)
