"""The source mapping engine: shipped mappings, time zones, deterministic ids, pseudonyms, load-time errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hypercare.contract.events import InvalidEvent, parse_event
from hypercare.org.registry import load_org
from hypercare.sources.engine import Translator
from hypercare.sources.mapping import MappingError, read_mapping
from hypercare.sources.pseudonym import pseudonym
from hypercare.sources.units import UnitTableError, load_unit_table, parse_unit_table

KEY = b"test-pseudonym-key-0123456789abcdef"
BORAS_AKM = "SE2321000131-ESASBORAKM"
UPN = "anna.andersson@vgregion.se"
NAME = "Anna Andersson"


def _translator(name: str, key: bytes | None = KEY) -> Translator:
    mapping, _ = read_mapping(name)
    return Translator(mapping, units=load_unit_table("example_units.csv"), key=key)


SNOW = _translator("servicenow_incident")
ENTRA = _translator("entra_signin")


def incident(**fields: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "sys_id": "46d44a5c2f1e2010a5a5b6f2f699b6a1",
        "number": "INC0010001",
        "short_description": "Kan inte skriva ut remiss",
        "priority": "2",
        "state": "1",
        "opened_at": "2026-02-18 07:45:00",
        "resolved_at": "",
        "location": {
            "link": "https://x.service-now.com/api/now/table/cmn_location/1",
            "value": "8f1e2a3b4c5d6e7f8091a2b3c4d5e6f7",
        },
        "cmdb_ci": "",
        "assignment_group": {"link": "https://x", "value": "287ebd7da9fe198100f92cc8d1d2154e"},
        "category": "hardware",
        "contact_type": "phone",
        "caller_id": {"link": "https://x", "value": "anna.andersson"},
        "sys_updated_by": "anna.andersson",
        "sys_updated_on": "2026-02-18 07:45:00",
        "sys_mod_count": "0",
    }
    record.update(fields)
    return record


def signin(**fields: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": "66ea54eb-6301-4ee5-be62-ff5a759b0100",
        "createdDateTime": "2026-02-18T06:45:12Z",
        "userPrincipalName": UPN,
        "userId": "d7cc485d-2c1b-422c-98fd-5ce52859a4a3",
        "userDisplayName": NAME,
        "appDisplayName": "Millennium",
        "ipAddress": "10.41.12.7",
        "deviceDetail": {"displayName": "VGR-BOR-AKM-PC01", "operatingSystem": "Windows10"},
        "status": {"errorCode": 0, "failureReason": "Other."},
    }
    record.update(fields)
    return record


def test_a_new_incident_is_one_opening_in_utc_from_stockholm_winter_time() -> None:
    result = SNOW.translate(incident())
    assert result.reason is None
    [opened] = result.events
    assert opened["type"] == "ticket.opened"
    assert opened["occurred_at"] == "2026-02-18T06:45:00+00:00"  # CET is UTC+1
    assert opened["unit_id"] == BORAS_AKM
    assert (opened["priority"], opened["channel"], opened["category"]) == (2, "phone", "hardware")
    assert parse_event(opened).source == "servicenow"


def test_summer_time_and_the_repeated_autumn_hour() -> None:
    summer = SNOW.translate(incident(opened_at="2026-07-01 07:45:00")).events[0]
    assert summer["occurred_at"] == "2026-07-01T05:45:00+00:00"  # CEST is UTC+2
    # 02:30 happens twice on 25 October 2026: the first one (still summer time) is taken.
    autumn = SNOW.translate(incident(opened_at="2026-10-25 02:30:00")).events[0]
    assert autumn["occurred_at"] == "2026-10-25T00:30:00+00:00"
    # A time with an offset is taken as it is; the batch's zone replaces the mapping's for times without.
    assert SNOW.translate(incident(opened_at="2026-02-18T07:45:00+01:00")).events[0]["occurred_at"] == (
        "2026-02-18T06:45:00+00:00"
    )
    utc = SNOW.translate(incident(), zone=ZoneInfo("UTC")).events[0]
    assert utc["occurred_at"] == "2026-02-18T07:45:00+00:00"


def test_states_give_their_events_and_ids_are_deterministic() -> None:
    new = SNOW.translate(incident())
    again = SNOW.translate(incident())
    assert [e["event_id"] for e in new.events] == [e["event_id"] for e in again.events]
    progress = SNOW.translate(incident(state="2", sys_updated_on="2026-02-18 08:00:00", sys_mod_count="1"))
    hold = SNOW.translate(incident(state="3", sys_updated_on="2026-02-18 08:10:00", sys_mod_count="2"))
    resolved = SNOW.translate(
        incident(state="6", resolved_at="2026-02-18 09:00:00", close_code="Solved (Permanently)", sys_mod_count="3")
    )
    canceled = SNOW.translate(incident(state="8", sys_updated_on="2026-02-18 09:30:00", sys_mod_count="4"))
    assert [e["type"] for e in progress.events] == ["ticket.opened", "ticket.updated"]
    assert progress.events[1]["status"] == "in_progress"
    assert hold.events[1]["status"] == "waiting"
    assert resolved.events[1] == {
        "event_id": resolved.events[1]["event_id"],
        "type": "ticket.resolved",
        "source": "servicenow",
        "occurred_at": "2026-02-18T08:00:00+00:00",
        "unit_id": BORAS_AKM,
        "ticket_id": "INC0010001",
        "resolution_code": "Solved (Permanently)",
    }
    assert canceled.events[1]["resolution_code"] == "Canceled"
    # The opening's id is the record's (one per incident); each version's state event has its own.
    assert len({r.events[0]["event_id"] for r in (new, progress, hold, resolved, canceled)}) == 1
    assert len({r.events[1]["event_id"] for r in (progress, hold, resolved, canceled)}) == 4
    for result in (progress, hold, resolved, canceled):
        for event in result.events:
            parse_event(event)


def test_an_incident_the_mapping_cannot_place_or_read_gives_a_reason() -> None:
    nowhere = SNOW.translate(incident(location="ffff", cmdb_ci="PRN-NOWHERE"))
    assert nowhere.events == []
    assert nowhere.reason is not None
    assert "no unit for location 'ffff' or ci 'PRN-NOWHERE'" in nowhere.reason
    unknown_state = SNOW.translate(incident(state="9"))
    assert "type: '9' at `state` is not in the mapping's map" in (unknown_state.reason or "")
    no_key = SNOW.translate(incident(sys_id=None))
    assert no_key.reason == "record_key: nothing usable at `sys_id` (the record's identity)"
    assert SNOW.translate(["not", "a", "record"]).reason == "a record must be a JSON object, not an array"  # type: ignore[arg-type]
    bad_time = SNOW.translate(incident(opened_at="igår"))
    assert "occurred_at: 'igår' is not a timestamp" in (bad_time.reason or "")


def test_a_ci_finds_the_unit_when_the_location_does_not() -> None:
    result = SNOW.translate(incident(location="", cmdb_ci={"value": "SCAN-SKE-AKM-02"}))
    assert result.events[0]["unit_id"] == "SE2321000131-ESASSKEAKM"


def test_people_are_pseudonymised_before_anything_reads_the_record() -> None:
    result = SNOW.translate(incident())
    text = json.dumps([result.record, result.events])
    assert "anna.andersson" not in text
    assert result.record["caller_id"]["value"] == pseudonym(KEY, "anna.andersson")
    assert "description" not in SNOW.translate(incident(description="Patientens namn ...")).record
    login = ENTRA.translate(signin())
    text = json.dumps([login.record, login.events])
    assert UPN not in text and NAME not in text and "d7cc485d" not in text
    [event] = login.events
    assert event["user_ref"] == pseudonym(KEY, "d7cc485d-2c1b-422c-98fd-5ce52859a4a3")
    assert parse_event(event).user_ref.startswith("ps-")
    # The same person under another key is another pseudonym; the key is needed to run at all.
    other = _translator("entra_signin", key=b"another-key-0123456789abcdefghijk").translate(signin())
    assert other.events[0]["user_ref"] != event["user_ref"]
    with pytest.raises(MappingError, match="HYPERCARE_PSEUDONYM_KEY is not set"):
        _translator("entra_signin", key=None)


@pytest.mark.parametrize(
    ("code", "outcome", "reason"),
    [
        (0, "success", None),
        (50126, "failure", "wrong_password"),
        (50053, "failure", "account_locked"),
        (50074, "failure", "mfa_failed"),
        (50076, "failure", "mfa_failed"),
        (50055, "failure", "expired"),
        (50034, "failure", "no_account"),
        (90095, "failure", "other"),
    ],
)
def test_sign_in_outcomes_and_reasons(code: int, outcome: str, reason: str | None) -> None:
    [event] = ENTRA.translate(signin(status={"errorCode": code, "failureReason": "x"})).events
    assert event["outcome"] == outcome
    assert event.get("reason") == reason
    assert event["occurred_at"] == "2026-02-18T06:45:12+00:00"
    parse_event(event)


def test_sign_in_units_by_workstation_then_network_and_graph_fractions() -> None:
    by_network = ENTRA.translate(
        signin(deviceDetail={}, ipAddress="10.41.21.200", createdDateTime="2026-02-18T06:45:12.1234567Z")
    )
    assert by_network.events[0]["unit_id"] == "SE2321000131-ESASBOR210"
    assert by_network.events[0]["occurred_at"] == "2026-02-18T06:45:12.123456+00:00"
    nowhere = ENTRA.translate(
        signin(deviceDetail={"displayName": "LAPTOP-X"}, ipAddress="192.168.1.4", appDisplayName="Outlook")
    )
    assert nowhere.reason == (
        "unit_id: no unit for workstation 'LAPTOP-X' or cidr '192.168.1.4' or app 'Outlook' "
        "in the unit table example_units.csv (shipped)"
    )


def test_shipped_unit_table_names_units_of_the_default_registry() -> None:
    org = load_org(None)
    table = load_unit_table("example_units.csv", known_units=frozenset(org.placements))
    assert table.find("cidr", "10.52.200.1") == "SE2321000131-ENHBORCEN"
    assert table.find("location", "  akutmottagning BORÅS ") == BORAS_AKM


def test_unit_table_errors_name_their_lines() -> None:
    with pytest.raises(UnitTableError) as caught:
        parse_unit_table(
            "kind;key;unit_id\ncidr;10.0.0.0/33;U1\nlocation;A;U2\nlocation;a;U3\nci;;U4\nci;X;U9\n",
            name="units.csv",
            known_units={"U1", "U2", "U3", "U4"},
        )
    assert str(caught.value).splitlines() == [
        "units.csv:2: '10.0.0.0/33' is not an IPv4 network such as 10.12.0.0/16 ('33' is not a valid netmask)",
        "units.csv:4: location 'a' is given twice",
        "units.csv:5: kind, key and unit_id must all be given",
        "units.csv:6: unit 'U9' is not a unit of the org registry",
    ]
    with pytest.raises(UnitTableError, match="units.csv:1: the header lacks unit_id"):
        parse_unit_table("kind,key\n", name="units.csv")


BAD_MAPPING = """\
version: 1
source: lab
record_key: "id["
timezone: Europe/Stockhol
units: {table: example_units.csv}
events:
  - name: opened
    type: ticket.opened
    fields:
      occurred_at: {from: created, as: timestamp}
      unit_id: {lookup: [{kind: location, from: where}]}
      ticket_id: {from: id, colour: red}
      priority: {value: 1}
"""


def test_mapping_errors_name_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "lab.yaml"
    path.write_text(BAD_MAPPING, encoding="utf-8")
    with pytest.raises(MappingError) as caught:
        read_mapping(str(path))
    lines = str(caught.value).splitlines()
    assert f"{path}:3: record_key: not a JMESPath expression" in lines[0]
    assert f"{path}:4: timezone: 'Europe/Stockhol' is not an IANA time zone such as Europe/Stockholm" in lines
    assert f"{path}:12: events.0.fields.ticket_id.colour: Extra inputs are not permitted" in lines
    fixed = BAD_MAPPING.replace('"id["', "id").replace("Stockhol\n", "Stockholm\n").replace(", colour: red", "")
    path.write_text(fixed, encoding="utf-8")
    with pytest.raises(MappingError, match=rf"{path}:7: events.0: fields: ticket.opened needs category, channel"):
        read_mapping(str(path))


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)
SNOW_VALUES = st.one_of(
    JSON,
    st.sampled_from(["1", "2", "3", "6", "7", "8", "9", "", "2026-02-18 07:45:00", "2026-10-25 02:30:00", "hardware"]),
    st.sampled_from(["8f1e2a3b4c5d6e7f8091a2b3c4d5e6f7", "PRN-BOR-210-01", "10.41.12.9", "VGR-BOR-AKM-PC01"]),
)
SNOW_FIELDS = [
    "sys_id",
    "number",
    "state",
    "priority",
    "opened_at",
    "resolved_at",
    "location",
    "cmdb_ci",
    "category",
    "contact_type",
    "sys_updated_on",
    "sys_mod_count",
    "close_code",
    "short_description",
    "caller_id",
]
ENTRA_FIELDS = [
    "id",
    "createdDateTime",
    "userId",
    "userPrincipalName",
    "ipAddress",
    "deviceDetail",
    "status",
    "appDisplayName",
]


def _check(translator: Translator, record: Any) -> None:
    result = translator.translate(record)
    assert (result.reason is None) == bool(result.events)
    if result.reason is not None:
        assert isinstance(result.reason, str) and result.reason
    json.dumps(result.record)  # the pseudonymised copy stays JSON
    problems = []
    for event in result.events:
        try:
            parse_event(event)
        except InvalidEvent as error:
            problems.append(str(error))
    # The contract may still refuse what the mapping made (a future time, an over-long ticket number): the ingest
    # path then quarantines that event with this reason. It never is a malformed event.
    assert all(p.startswith(("occurred_at", "ticket_id", "user_ref", "summary")) for p in problems), problems


@given(JSON)
def test_never_raises_on_any_json(record: Any) -> None:
    _check(SNOW, record)
    _check(ENTRA, record)


@given(st.fixed_dictionaries({}, optional=dict.fromkeys(SNOW_FIELDS, SNOW_VALUES)))
def test_incident_shaped_records_give_valid_events_or_a_reason(record: dict[str, Any]) -> None:
    _check(SNOW, record)


@given(
    st.fixed_dictionaries(
        {},
        optional={
            **dict.fromkeys(ENTRA_FIELDS, SNOW_VALUES),
            "status": st.fixed_dictionaries({"errorCode": st.sampled_from([0, 50126, 50053, 1, "0", None])}),
        },
    )
)
def test_sign_in_shaped_records_give_valid_events_or_a_reason(record: dict[str, Any]) -> None:
    _check(ENTRA, record)


@given(st.text(max_size=60), st.binary(min_size=16, max_size=40))
def test_pseudonyms_are_stable_letters_and_keyed(value: str, key: bytes) -> None:
    first = pseudonym(key, value)
    assert first == pseudonym(key, value) == pseudonym(key, f"  {value.upper()} ".casefold().upper())
    assert first.startswith("ps-") and first[3:].isalpha() and len(first) == 31
