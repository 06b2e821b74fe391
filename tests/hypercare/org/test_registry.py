"""The org registry's areas, waves and organisations, and every broken registry refused with its line and reason."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from hypercare.org.registry import DEFAULT_UNIT_STAFF, OrgFileError, hours_since_go_live, load_org
from hypercare.settings import Settings
from services.app import create_app

VGR = "SE2321000131"
KOMMUN = "SE2120001561"

# Line numbers matter: the tests below name them.
GOOD = f"""\
region: {{id: {VGR}-R, name: Regionen, hsa_prefix: {VGR}}}
areas:
  - {{id: sodra, name: Södra}}
  - {{id: norra, name: Norra}}
waves:
  - {{id: w1, name: Våg 1, status: live, planned_go_live: 2024-11-12T05:30:00+01:00,
     actual_go_live: 2024-11-12T06:00:00+01:00}}
  - {{id: w2, name: Våg 2, status: readiness, planned_go_live: 2025-02-18T06:00:00+01:00}}
  - {{id: w3, name: Våg 3}}
administrations:
  - id: {VGR}-FNH
    name: Närhälsan
    sites:
      - id: {VGR}-SNHS
        name: Närhälsan södra
        area: sodra
        wave: w1
        units:
          - {{id: {VGR}-ENHA, name: Vårdcentral A, kind: primary_care}}
          - {{id: {VGR}-ENHB, name: Vårdcentral B, kind: primary_care}}
      - id: {VGR}-SNHN
        name: Närhälsan norra
        area: norra
        units:
          - {{id: {VGR}-ENHC, name: Vårdcentral C, kind: primary_care, wave: w2}}
          - {{id: {VGR}-ENHD, name: Vårdcentral D, kind: primary_care, wave: w3}}
  - id: {KOMMUN}-F
    name: Borås stad
    type: municipality
    hsa_prefix: {KOMMUN}
    area: sodra
    sites:
      - id: {KOMMUN}-SHT
        name: Hemtjänst
        wave: w2
        units:
          - {{id: {KOMMUN}-EHT1, name: Hemtjänst 1, kind: home_care}}
  - id: SE5560000001-F
    name: Vårdbolaget AB
    type: private
    contract_form: LOV
    hsa_prefix: SE5560000001
    area: norra
    sites:
      - id: SE5560000001-S
        name: Vårdbolaget
        wave: w3
        units:
          - {{id: SE5560000001-EVC, name: Vårdbolagets vårdcentral, kind: primary_care}}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "org.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def refusal(path: Path) -> list[str]:
    with pytest.raises(OrgFileError) as error:
        load_org(path)
    return str(error.value).splitlines()


def test_units_are_placed_in_their_wave_and_area(tmp_path: Path) -> None:
    org = load_org(write(tmp_path, GOOD))
    placed = {unit_id: (p.wave_id, p.area, p.go_live_at) for unit_id, p in org.placements.items()}
    assert placed == {
        f"{VGR}-ENHA": ("w1", "sodra", "2024-11-12T05:00:00+00:00"),
        f"{VGR}-ENHB": ("w1", "sodra", "2024-11-12T05:00:00+00:00"),
        f"{VGR}-ENHC": ("w2", "norra", None),
        f"{VGR}-ENHD": ("w3", "norra", None),
        f"{KOMMUN}-EHT1": ("w2", "sodra", None),
        "SE5560000001-EVC": ("w3", "norra", None),
    }
    assert org.wave_units == {
        "w1": [f"{VGR}-ENHA", f"{VGR}-ENHB"],
        "w2": [f"{VGR}-ENHC", f"{KOMMUN}-EHT1"],
        "w3": [f"{VGR}-ENHD", "SE5560000001-EVC"],
    }
    assert org.wave_areas == {"w1": ["sodra"], "w2": ["sodra", "norra"], "w3": ["norra"]}
    assert org.administration_waves == {
        f"{VGR}-FNH": ["w1", "w2", "w3"],
        f"{KOMMUN}-F": ["w2"],
        "SE5560000001-F": ["w3"],
    }
    assert [(a.type, a.contract_form) for a in org.administrations] == [
        ("region", None),
        ("municipality", None),
        ("private", "LOV"),
    ]
    assert org.latest_live_wave() is org.waves[0]


def test_staff_per_unit_defaults_to_thirty_and_must_not_be_negative(tmp_path: Path) -> None:
    staffed = GOOD.replace(
        "name: Vårdcentral A, kind: primary_care}", "name: Vårdcentral A, kind: primary_care, staff: 45}"
    )
    org = load_org(write(tmp_path, staffed))
    assert org.unit_staff[f"{VGR}-ENHA"] == 45
    assert org.unit_staff[f"{VGR}-ENHB"] == DEFAULT_UNIT_STAFF == 30
    assert refusal(write(tmp_path, staffed.replace("staff: 45", "staff: -1"))) == [
        f"{tmp_path}/org.yaml:19: administrations.0.sites.0.units.0.staff: Input should be greater than or equal to 0"
    ]


def test_hours_since_go_live_count_from_the_actual_go_live_and_are_null_before_it() -> None:
    go_live = "2024-11-12T05:00:00+00:00"
    assert hours_since_go_live(go_live, datetime(2024, 11, 12, 5, 0, tzinfo=UTC)) == 0.0
    assert hours_since_go_live(go_live, datetime(2024, 11, 15, 6, 30, tzinfo=UTC)) == 73.5
    assert hours_since_go_live(go_live, datetime(2024, 11, 12, 5, 0, 20, tzinfo=UTC)) == 0.01
    assert hours_since_go_live(go_live, datetime(2024, 11, 12, 4, 59, tzinfo=UTC)) is None
    assert hours_since_go_live(None, datetime(2024, 11, 12, 4, 59, tzinfo=UTC)) is None


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            f"  - id: {VGR}-FNH\n    name: Närhälsan\n",
            f"  - id: {VGR}-FNH\n    name: Närhälsan\n    wave: 1\n",
            "org.yaml:11: administrations.0: an administration has no wave (it may span waves): "
            "give 'wave: <wave id>' to its sites or units",
        ),
        (
            f"- {{id: {VGR}-ENHB, name: Vårdcentral B,",
            f"- {{id: {VGR}-ENHA, name: Vårdcentral B,",
            f"org.yaml:20: unit '{VGR}-ENHA': id used twice in the tree",
        ),
        (
            "  - {id: norra, name: Norra}\n",
            "  - {id: norra, name: Norra}\n  - {id: norra, name: Norra igen}\n",
            "org.yaml:5: area 'norra': id used twice",
        ),
        (
            f"hsa_prefix: {VGR}}}",
            "hsa_prefix: SE232100013}",
            "org.yaml:1: region.hsa_prefix: 'SE232100013' is not an HSA prefix: 'SE' and the 10-digit "
            "organisation number",
        ),
        (
            f"- {{id: {VGR}-ENHB, name",
            f"- {{id: {VGR}-ENH_B, name",
            f"org.yaml:20: unit '{VGR}-ENH_B': not an HSA id of its organisation: {VGR}- and 1–18 letters or digits",
        ),
        (
            f"- {{id: {KOMMUN}-EHT1,",
            f"- {{id: {VGR}-EHT1,",
            f"org.yaml:37: unit '{VGR}-EHT1': not an HSA id of its organisation: {KOMMUN}- and 1–18 letters or digits",
        ),
        (
            f"    hsa_prefix: {KOMMUN}\n",
            f"    hsa_prefix: {VGR}\n",
            f"org.yaml:30: administration '{KOMMUN}-F': a municipality organisation has its own HSA prefix, "
            f"not the region's ({VGR})\n"
            + "\n".join(
                f"org.yaml:{line}: {what} '{KOMMUN}-{suffix}': not an HSA id of its organisation: {VGR}- and 1–18 "
                "letters or digits"
                for line, what, suffix in ((27, "administration", "F"), (33, "site", "SHT"), (37, "unit", "EHT1"))
            ),
        ),
        (
            f"    hsa_prefix: {KOMMUN}\n",
            "",
            "org.yaml:27: administrations.1: a municipality organisation needs its own hsa_prefix",
        ),
        (
            "    contract_form: LOV\n",
            "",
            "org.yaml:38: administrations.2: a private provider needs contract_form (LOV or LOU)",
        ),
        (
            "    contract_form: LOV\n",
            "    contract_form: LOX\n",
            "org.yaml:41: administrations.2.contract_form: Input should be 'LOV' or 'LOU'",
        ),
        (
            "        area: norra\n",
            "        area: vastra\n",
            f"org.yaml:23: site '{VGR}-SNHN': area 'vastra' is not in areas (norra, sodra)",
        ),
        (
            "        area: norra\n",
            "",
            f"org.yaml:21: site '{VGR}-SNHN': no area: give the site (or its administration) an area",
        ),
        (
            "kind: primary_care, wave: w2}",
            "kind: primary_care, wave: w9}",
            f"org.yaml:25: unit '{VGR}-ENHC': wave 'w9' is not in waves (w1, w2, w3)",
        ),
        (
            "kind: primary_care, wave: w2}",
            "kind: primary_care}",
            f"org.yaml:25: unit '{VGR}-ENHC': in no wave: give the unit or its site a wave "
            "(every unit is in exactly one)",
        ),
        (
            f"- {{id: {VGR}-ENHB, name: Vårdcentral B, kind: primary_care}}",
            f"- {{id: {VGR}-ENHB, name: Vårdcentral B, kind: primary_care, wave: w2}}",
            f"org.yaml:20: unit '{VGR}-ENHB': in two waves: 'w2' and, through its site, 'w1' "
            "(a unit is in exactly one)",
        ),
        (
            "  - {id: w3, name: Våg 3}",
            "  - {id: w3, name: Våg 3, status: exited}",
            "org.yaml:9: waves.2: a wave with status 'exited' needs actual_go_live",
        ),
        (
            "status: readiness, planned_go_live: 2025-02-18T06:00:00+01:00}",
            "status: readiness}",
            "org.yaml:8: waves.1: a wave in readiness needs planned_go_live",
        ),
        (
            "planned_go_live: 2024-11-12T05:30:00+01:00",
            "planned_go_live: 2024-11-12T05:30:00",
            "org.yaml:6: waves.0.planned_go_live: Input should have timezone info",
        ),
    ],
)
def test_a_broken_registry_is_refused_with_the_line_and_the_reason(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    assert GOOD.count(old) == 1
    path = write(tmp_path, GOOD.replace(old, new))
    assert refusal(path) == [f"{tmp_path}/{line}" for line in expected.splitlines()]


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    broken = GOOD.replace("kind: primary_care, wave: w2}", "kind: primary_care, wave: w9}").replace(
        "        area: norra\n", "        area: vastra\n"
    )
    assert [line.split(": ", 1)[0] for line in refusal(write(tmp_path, broken))] == [
        f"{tmp_path}/org.yaml:23",
        f"{tmp_path}/org.yaml:25",
    ]


def test_a_registry_without_waves_places_units_in_none(tmp_path: Path) -> None:
    org = load_org(
        write(
            tmp_path,
            "region: {id: R, name: Regionen}\n"
            "administrations:\n"
            "  - {id: F, name: F, sites: [{id: S, name: S, units: [{id: U, name: U}]}]}\n",
        )
    )
    assert (org.place("U").wave_id, org.place("U").area, org.place("U").go_live_at) == (None, None, None)
    assert org.waves == [] and org.latest_live_wave() is None


def test_the_shipped_default_is_the_first_wave_and_planned_areas() -> None:
    org = load_org()
    assert [(w.id, w.status) for w in org.waves] == [
        ("sodra", "live"),
        ("vastra", "planned"),
        ("norra", "planned"),
        ("ostra", "planned"),
    ]
    assert {wave: len(units) for wave, units in org.wave_units.items()} == {
        "sodra": 32,
        "vastra": 6,
        "norra": 1,
        "ostra": 1,
    }
    assert org.place("SE2321000131-ESASBORAKM").go_live_at == "2024-11-12T04:30:00+00:00"


def test_a_broken_registry_refuses_to_start(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("kind: primary_care, wave: w2}", "kind: primary_care}"))
    with pytest.raises(OrgFileError, match=r"org\.yaml:25: .* in no wave"):
        create_app(Settings(data_dir=tmp_path, org_file=path))
