"""The mappings in force from the settings: shipped names, a directory of one's own, a unit table replaced."""

from __future__ import annotations

from pathlib import Path

import pytest

from hypercare.settings import Settings
from hypercare.sources.config import load_translators
from hypercare.sources.mapping import MappingError

LAB = """\
version: 1
source: lab
record_key: id
timezone: Europe/Stockholm
units: {table: lab_units.csv}
events:
  - name: login
    type: access.login
    id: record
    fields:
      occurred_at: {from: at, as: timestamp}
      unit_id: {lookup: [{kind: app, from: system}]}
      user_ref: {from: user, as: string}
      outcome: {from: ok, map: {"true": success, "false": failure}}
"""


def test_a_directory_of_mappings_with_their_own_unit_table(tmp_path: Path) -> None:
    (tmp_path / "lab.yaml").write_text(LAB, encoding="utf-8")
    (tmp_path / "lab_units.csv").write_text("kind;key;unit_id\napp;LIMS;U1\n", encoding="utf-8")
    translators = load_translators(
        Settings(sources_dir=tmp_path, source_mappings="servicenow_incident", pseudonym_key="k" * 20),
        known_units={"U1", "SE2321000131-ESASBORAKM", "SE2321000131-ESASBOR210", "SE2321000131-ESASBOR230",
                     "SE2321000131-ESASSKEAKM", "SE2321000131-ENHBORCEN"},
    )  # fmt: skip
    assert sorted(translators) == ["lab", "servicenow"]
    [event] = (
        translators["lab"]
        .translate({"id": 7, "at": "2026-07-01 08:00:00", "system": "lims", "user": "u7", "ok": True})
        .events
    )
    assert (event["unit_id"], event["outcome"], event["occurred_at"]) == ("U1", "success", "2026-07-01T06:00:00+00:00")
    # HYPERCARE_SOURCE_UNITS_FILE replaces every mapping's table.
    other = tmp_path / "other.csv"
    other.write_text("kind,key,unit_id\napp,LIMS,U2\n", encoding="utf-8")
    replaced = load_translators(
        Settings(data_dir=tmp_path, sources_dir=tmp_path, source_units_file=other), known_units=None
    )
    assert (
        replaced["lab"]
        .translate({"id": 7, "at": "2026-07-01 08:00:00", "system": "LIMS", "user": "u", "ok": False})
        .events[0]["unit_id"]
        == "U2"
    )


def test_a_source_configured_twice_and_a_missing_directory_refuse(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="source 'servicenow' is configured twice"):
        load_translators(
            Settings(source_mappings="servicenow_incident,servicenow_incident", pseudonym_key="k" * 20),
            known_units=None,
        )
    with pytest.raises(MappingError, match="is not a directory"):
        load_translators(Settings(sources_dir=tmp_path / "nowhere"), known_units=None)
