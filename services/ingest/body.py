"""Splitting a request body into items: one JSON object, a JSON array, or NDJSON (one per line)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException, Request, status


@dataclass(frozen=True)
class RawItem:
    index: int
    text: str
    data: Any = None
    error: str | None = None
    # Where a refused item is kept in the quarantine: "ingest", or "mapping" for a source's record its mapping
    # could not translate (services.sources): the same path, the stage says which step refused it.
    stage: str = "ingest"


class UnreadableBody(ValueError):
    """The body as a whole is neither JSON nor NDJSON."""


def split_body(body: bytes, content_type: str | None) -> list[RawItem]:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise UnreadableBody("body is not UTF-8 text") from None
    if not text.strip():
        return []
    ndjson = content_type is not None and ("ndjson" in content_type or "jsonlines" in content_type)
    if not ndjson:
        try:
            document = json.loads(text)
        except json.JSONDecodeError as error:
            if "\n" not in text.strip():
                raise UnreadableBody(
                    f"body is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"
                ) from None
            ndjson = True
        else:
            if isinstance(document, list):
                return [
                    RawItem(index, json.dumps(item, ensure_ascii=False), item) for index, item in enumerate(document)
                ]
            return [RawItem(0, text, document)]
    items = []
    for index, line in enumerate(line for line in text.splitlines() if line.strip()):
        try:
            items.append(RawItem(index, line, json.loads(line)))
        except json.JSONDecodeError as error:
            items.append(RawItem(index, line, error=f"line is not valid JSON: {error.msg} at column {error.colno}"))
    return items


async def request_items(request: Request, *, limit: int, noun: str) -> list[RawItem]:
    """The request's items (:func:`split_body`): 400 when the body cannot be read, 413 over ``limit`` ``noun``."""
    try:
        items = split_body(await request.body(), request.headers.get("content-type"))
    except UnreadableBody as error:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(error)) from None
    if len(items) > limit:
        raise HTTPException(
            status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, f"{len(items)} {noun} in one request; the limit is {limit}"
        )
    return items
