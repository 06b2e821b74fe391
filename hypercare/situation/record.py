"""The situation-topic record: one unit's read-side view of one event family, after a worker batch.

The stream worker produces one record per changed (unit, family) after every batch (:func:`encode`);
every gateway replica reads the whole topic and keeps the newest state per (unit, family)
(:func:`decode`). Both sides use this module, so the format is defined once.

Key: the unit id as a JSON string (``"SE2321000131-ESASBOR240"``, UTF-8, not ASCII-escaped).
Value, a JSON object::

    {"v": 1, "unit_id": str, "family": str, "as_of": ISO 8601 (when the worker published),
     "state": the family's read-side view (hypercare.situation.state.state_view)}

Compatibility: ``v`` was added with this module; records written before it (same members without
``v``) decode as version 1, and a gateway of before ignores ``v`` as it reads by member name. Members
that a reader does not know are ignored, so a member can be added without a new version; a record of
another version is refused (the gateway skips it with a warning). ``family`` is any non-empty name,
so a gateway keeps the states of a family it has no read side for yet instead of failing on them.

Encoding and decoding use pydantic-core's JSON (``to_json`` and the model's JSON validation), several
times faster than the standard library's ``json`` for these records; the bytes are ordinary JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import to_json

from hypercare.situation.views import Timestamp

VERSION: Literal[1] = 1


class RecordError(ValueError):
    """A situation record that cannot be read (not JSON, a member missing or mistyped, another version)."""


class SituationRecord(BaseModel):
    """The decoded value of one situation record."""

    model_config = ConfigDict(extra="ignore", strict=True, frozen=True)

    v: Literal[1] = Field(default=VERSION, description="format version; absent in records of before")
    unit_id: str = Field(min_length=1)
    family: str = Field(min_length=1, description="event family: tickets, access, floorwalkers, ed")
    as_of: Timestamp = Field(description="when the worker published the record")
    state: dict[str, Any] = Field(description="the family's read-side view, summarised by the gateway")


def encode_key(unit_id: str) -> bytes:
    """The record key: the unit id as a JSON string."""
    return to_json(unit_id)


def encode(unit_id: str, family: str, state: Mapping[str, Any], *, as_of: str) -> tuple[bytes, bytes]:
    """(key, value) of the record for one unit's ``state`` view of ``family``, published at ``as_of``.

    Built without validation (the worker publishes after every batch); :func:`decode` reads it back.
    """
    value = to_json({"v": VERSION, "unit_id": unit_id, "family": family, "as_of": as_of, "state": state})
    return encode_key(unit_id), value


def decode(value: bytes | bytearray | str) -> SituationRecord:
    """The record in ``value``; :class:`RecordError` when it is unreadable."""
    try:
        return SituationRecord.model_validate_json(value)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in item['loc']) or 'record'}: {item['msg']}"
            for item in error.errors(include_url=False, include_input=False)
        )
        raise RecordError(f"unreadable situation record: {problems}") from None


__all__ = ["VERSION", "RecordError", "SituationRecord", "decode", "encode", "encode_key"]
