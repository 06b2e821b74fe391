"""The situation-topic record: one codec for the worker (encode) and the gateway (decode), compatible with
the records written before it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from hypercare.situation import record
from hypercare.situation.record import RecordError, SituationRecord, decode, encode

AS_OF = "2024-11-12T10:00:00.123456+00:00"
STATE: dict[str, Any] = {
    "v": 1,
    "open_summary": {
        "by_priority": {"1": 2},
        "by_category": {"login": 2},
        "patient_safety": 1,
        "oldest_by_priority": {"1": 1731405600.25},
    },
    "opened": {"1731405600": 3},
    "resolved": {},
    "resolutions": [[1731405660.5, 1.02]],
}


def old_worker_value(unit_id: str, family: str, as_of: str, state: dict[str, Any]) -> bytes:
    """Byte for byte what streams/app.py produced before this codec."""

    def j(value: Any) -> bytes:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()

    return b"".join(
        [b'{"unit_id":', j(unit_id), b',"family":', j(family), b',"as_of":', j(as_of), b',"state":', j(state), b"}"]
    )


def test_round_trip() -> None:
    key, value = encode("SE2321000131-ESASBOR240", "tickets", STATE, as_of=AS_OF)
    decoded = decode(value)
    assert decoded == SituationRecord(unit_id="SE2321000131-ESASBOR240", family="tickets", as_of=AS_OF, state=STATE)
    assert decoded.state == STATE and decoded.v == 1
    assert json.loads(key) == ["SE2321000131-ESASBOR240", "tickets"]
    assert record.decode_key(key) == ("SE2321000131-ESASBOR240", "tickets")


def test_bytes_are_plain_json_with_the_members_of_before() -> None:
    unit_id = "Vårdcentral Ödåkra"
    key, value = encode(unit_id, "access", STATE, as_of=AS_OF)
    # The key is the (unit, family) pair; the partition key is byte for byte the key of before.
    assert key == json.dumps([unit_id, "access"], ensure_ascii=False, separators=(",", ":")).encode()
    assert record.partition_key(unit_id) == json.dumps(unit_id, ensure_ascii=False).encode()
    document = json.loads(value)
    assert document == {"v": 1, "unit_id": unit_id, "family": "access", "as_of": AS_OF, "state": STATE}
    assert json.loads(old_worker_value(unit_id, "access", AS_OF, STATE)).items() <= document.items()


def test_records_of_before_decode() -> None:
    decoded = decode(old_worker_value("U1", "floorwalkers", AS_OF, STATE))
    assert (decoded.v, decoded.unit_id, decoded.family, decoded.state) == (1, "U1", "floorwalkers", STATE)


def test_keys_of_before_and_of_now_decode() -> None:
    assert record.decode_key(b'"U1"') == ("U1", None)  # unit only, before the (unit, family) key
    assert record.decode_key('["Vårdcentral Ödåkra","ed"]'.encode()) == ("Vårdcentral Ödåkra", "ed")
    for key in [b"", b"nope", b'""', b"[]", b'["U1"]', b'["U1","ed","x"]', b'["U1",""]', b'["U1",3]', b"{}"]:
        with pytest.raises(RecordError, match="unreadable situation key"):
            record.decode_key(key)


def test_unknown_members_and_families_are_kept_readable() -> None:
    value = json.dumps({"v": 1, "unit_id": "U1", "family": "coordination", "as_of": AS_OF, "state": {}, "new": 1})
    decoded = decode(value.encode())
    assert (decoded.family, decoded.state) == ("coordination", {})


UNREADABLE = [
    b"not json",
    b"[]",
    b'{"unit_id":"U1","family":"access","as_of":"' + AS_OF.encode() + b'"}',  # no state
    b'{"unit_id":"U1","family":"access","as_of":"' + AS_OF.encode() + b'","state":[]}',
    b'{"unit_id":7,"family":"access","as_of":"' + AS_OF.encode() + b'","state":{}}',
    b'{"unit_id":"","family":"access","as_of":"' + AS_OF.encode() + b'","state":{}}',
    b'{"unit_id":"U1","as_of":"' + AS_OF.encode() + b'","state":{}}',  # no family
    b'{"unit_id":"U1","family":"access","as_of":"2024-11-12T10:00:00","state":{}}',  # no offset
    b'{"unit_id":"U1","family":"access","as_of":"yesterday","state":{}}',
    b'{"v":2,"unit_id":"U1","family":"access","as_of":"' + AS_OF.encode() + b'","state":{}}',
]
# Refused by decode() though pydantic's Literal[1] takes True for 1.
BOOLEAN_VERSION = b'{"v":true,"unit_id":"U1","family":"access","as_of":"' + AS_OF.encode() + b'","state":{}}'


@pytest.mark.parametrize("value", [*UNREADABLE, BOOLEAN_VERSION])
def test_unreadable_records_raise_record_error(value: bytes) -> None:
    with pytest.raises(RecordError, match="unreadable situation record"):
        decode(value)
    assert issubclass(RecordError, ValueError)


SCHEMA: TypeAdapter[SituationRecord] = TypeAdapter(SituationRecord)


@pytest.mark.parametrize(
    "value",
    [
        encode("U1", "tickets", STATE, as_of=AS_OF)[1],
        old_worker_value("U1", "ed", AS_OF, {"v": 1, "status": None}),
        b'{"unit_id":"U1","family":"x","as_of":"' + AS_OF.encode() + b'","state":{},"later":[1]}',
        *UNREADABLE,
    ],
)
def test_the_hand_written_decoder_agrees_with_the_dataclass_schema(value: bytes) -> None:
    """decode() checks by hand for speed; pydantic, reading the dataclass, accepts and refuses the same."""
    try:
        expected = SCHEMA.validate_json(value)
    except ValidationError:
        with pytest.raises(RecordError):
            decode(value)
    else:
        assert decode(value) == expected


def test_the_schema_documents_the_record() -> None:
    schema = SCHEMA.json_schema()
    assert set(schema["required"]) == {"unit_id", "family", "as_of", "state"}
    assert schema["properties"]["v"]["const"] == record.VERSION == 1
    assert schema["properties"]["as_of"]["format"] == "date-time"
