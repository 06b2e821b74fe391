"""The situation-topic record: one unit's read-side view of one event family, after a worker batch.

The stream worker produces one record per changed (unit, family) after every batch, or once for the batches
of a backlog (:func:`encode`);
every gateway replica reads the whole topic and keeps the newest state per (unit, family)
(:func:`decode`). Both sides use this module, so the format is defined once.

Key: the pair as a JSON array ``["SE2321000131-ESASBOR240","tickets"]`` (UTF-8, not ASCII-escaped),
so that a compacted topic (``cleanup.policy=compact``, :mod:`hypercare.topics`) keeps the newest
record of every (unit, family) for good and a gateway started after any time rebuilds the whole
picture. The partition is still chosen by the unit alone: the worker's producer hashes
:func:`partition_key` (the unit's JSON string, the bytes of the key of before) with
:func:`hypercare.topics.situation_partitioner`. So a unit's records of every family stay on one
partition and in order, on the partition its records of before are on, and (ASCII unit ids, equal
partition counts) on the partition number of its events.

Value, a JSON object::

    {"v": 1, "unit_id": str, "family": str, "as_of": ISO 8601 (when the worker published),
     "state": the family's read-side view (hypercare.situation.state.state_view)}

Compatibility: ``v`` was added with this module; records written before it (same members without
``v``) decode as version 1, and a gateway of before ignores ``v`` as it reads by member name. Members
that a reader does not know are ignored, so a member can be added without a new version; a record of
another version is refused (the gateway skips it with a warning). ``family`` is any non-empty name,
so a gateway keeps the states of a family it has no read side for yet instead of failing on them.

Format change of the key (the value is unchanged, still version 1): until the (unit, family) key the
key was the unit id alone as a JSON string (``"SE2321000131-ESASBOR240"``). Readers take the unit and
the family from the value, never from the key, so records of both kinds read the same, and a gateway
of before reads the new records (an upgrade in place, in either order). :func:`decode_key` reads both
kinds. A unit-keyed record of before sorts before every newer record of its unit (same partition), so
replaying the topic still ends on the newest state; once compaction runs on a topic that still holds
unit-keyed records, only the newest of them per unit stays, so a family that the worker has not
republished since the upgrade can go missing from a gateway that starts after the compaction (the
next event of that unit and family restores it). Tombstones (a key with no value) are skipped.

Encoding uses pydantic-core's ``to_json`` (several times faster than the standard library's ``json``
here); decoding parses with pydantic-core's ``from_json`` and checks the members by hand, twice as fast
as validating a pydantic model, which matters when a starting gateway reads the whole topic. The bytes
are ordinary JSON. :class:`SituationRecord` is a dataclass that pydantic understands too:
``TypeAdapter(SituationRecord)`` gives its JSON schema, and the tests check that it accepts and refuses
what :func:`decode` does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field
from pydantic_core import from_json, to_json

from hypercare.situation.views import Timestamp

VERSION: Literal[1] = 1


class RecordError(ValueError):
    """A situation record that cannot be read (not JSON, a member missing or mistyped, another version)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SituationRecord:
    """The decoded value of one situation record."""

    __pydantic_config__ = ConfigDict(strict=True, extra="ignore")

    unit_id: Annotated[str, Field(min_length=1)]
    family: Annotated[str, Field(min_length=1, description="event family: tickets, access, floorwalkers, ed")]
    as_of: Annotated[Timestamp, Field(description="when the worker published the record")]
    state: Annotated[dict[str, Any], Field(description="the family's read-side view, summarised by the gateway")]
    v: Annotated[Literal[1], Field(description="format version; absent in records of before")] = VERSION


def encode_key(unit_id: str, family: str) -> bytes:
    """The record key: ``[unit_id, family]`` as a JSON array (one compacted record per pair)."""
    return to_json([unit_id, family])


def partition_key(unit_id: str) -> bytes:
    """The bytes whose hash picks a unit's partition: the unit id as a JSON string (the key of before)."""
    return to_json(unit_id)


def decode_key(key: bytes | bytearray | str) -> tuple[str, str | None]:
    """(unit, family) of a record key; the family is None in a unit-only key of before.

    :class:`RecordError` when the key is neither.
    """
    try:
        data = from_json(key)
    except ValueError as error:
        raise RecordError(f"unreadable situation key: not JSON ({error})") from None
    if type(data) is str and data:
        return data, None
    if type(data) is list and len(data) == 2 and all(type(part) is str and part for part in data):
        return data[0], data[1]
    raise RecordError("unreadable situation key: neither a unit id nor a [unit id, family] pair")


def encode(unit_id: str, family: str, state: Mapping[str, Any], *, as_of: str) -> tuple[bytes, bytes]:
    """(key, value) of the record for one unit's ``state`` view of ``family``, published at ``as_of``.

    Built without validation (the worker publishes after every batch it is not behind); :func:`decode` reads it back.
    """
    value = to_json({"v": VERSION, "unit_id": unit_id, "family": family, "as_of": as_of, "state": state})
    return encode_key(unit_id, family), value


def _text(data: dict[str, Any], member: str) -> str:
    value = data.get(member)
    if type(value) is not str or not value:
        raise RecordError(f"unreadable situation record: {member!r} is not a non-empty string")
    return value


def decode(value: bytes | bytearray | str) -> SituationRecord:
    """The record in ``value``; :class:`RecordError` when it is unreadable."""
    try:
        data = from_json(value)
    except ValueError as error:
        raise RecordError(f"unreadable situation record: not JSON ({error})") from None
    if type(data) is not dict:
        raise RecordError("unreadable situation record: not a JSON object")
    version = data.get("v", VERSION)
    if type(version) is not int or version != VERSION:
        raise RecordError(f"unreadable situation record: version {version!r}, this reader knows {VERSION}")
    state = data.get("state")
    if type(state) is not dict:
        raise RecordError("unreadable situation record: 'state' is not an object")
    as_of = _text(data, "as_of")
    try:
        aware = datetime.fromisoformat(as_of).tzinfo is not None
    except ValueError:
        aware = False
    if not aware:
        raise RecordError(f"unreadable situation record: 'as_of' {as_of!r} is no ISO 8601 time with an offset")
    return SituationRecord(unit_id=_text(data, "unit_id"), family=_text(data, "family"), as_of=as_of, state=state)


__all__ = [
    "VERSION",
    "RecordError",
    "SituationRecord",
    "decode",
    "decode_key",
    "encode",
    "encode_key",
    "partition_key",
]
