"""Readiness per unit from the checklist, and a wave's gate: exactly its red units block it."""

from __future__ import annotations

from pathlib import Path

import pytest

from hypercare.org.registry import load_org
from hypercare.rules.file import load_rules_file
from hypercare.rules.readiness import ReadinessChecklist, load_readiness
from services.readiness.evaluate import unit_readiness, wave_gate

SHIPPED = load_readiness()
VGR = "SE2321000131"
REGISTRY = f"""\
region: {{id: {VGR}-R, name: Regionen, hsa_prefix: {VGR}}}
areas: [{{id: sodra, name: Södra}}, {{id: norra, name: Norra}}]
waves:
  - {{id: w2, name: Våg 2, status: readiness, planned_go_live: 2025-02-18T06:00:00+01:00}}
  - {{id: w3, name: Våg 3}}
administrations:
  - id: {VGR}-FNH
    name: Närhälsan
    sites:
      - id: {VGR}-SNHS
        name: Närhälsan södra
        area: sodra
        wave: w2
        units:
          - {{id: {VGR}-EA, name: A}}
          - {{id: {VGR}-EB, name: B}}
      - id: {VGR}-SNHN
        name: Närhälsan norra
        area: norra
        units:
          - {{id: {VGR}-EC, name: C, wave: w2}}
          - {{id: {VGR}-ED, name: D, wave: w3}}
"""
READY = {
    "permissions_matched": 95,
    "staff_trained": 90,
    "devices_verified": True,
    "migration_checked": True,
    "super_user_every_shift": True,
    "cutover_plan_approved": True,
}


def test_the_shipped_checklist_is_the_issues_six_items() -> None:
    assert [(item.id, item.kind, item.green_from, item.yellow_from) for item in SHIPPED.items] == [
        ("permissions_matched", "percent", 95, 85),
        ("staff_trained", "percent", 90, 75),
        ("devices_verified", "check", None, None),
        ("migration_checked", "check", None, None),
        ("super_user_every_shift", "check", None, None),
        ("cutover_plan_approved", "check", None, None),
    ]
    assert load_rules_file().readiness == SHIPPED


@pytest.mark.parametrize(
    ("changes", "status", "reasons"),
    [
        ({}, "green", []),
        ({"permissions_matched": 94.9}, "yellow", ["Behörigheter matchade mot befattning: 94.9 % (grönt från 95 %)"]),
        ({"permissions_matched": 85}, "yellow", ["Behörigheter matchade mot befattning: 85 % (grönt från 95 %)"]),
        ({"permissions_matched": 84.9}, "red", ["Behörigheter matchade mot befattning: 84.9 % (gult från 85 %)"]),
        ({"staff_trained": 74}, "red", ["Personal som genomgått utbildningen: 74 % (gult från 75 %)"]),
        (
            {"devices_verified": False},
            "red",
            ["Datorer, skrivare och etikettskrivare verifierade mot godkänd utrustningslista: ej klar"],
        ),
        ({"cutover_plan_approved": None}, "red", ["Lokal omställningsplan godkänd: ej bedömd"]),
    ],
)
def test_a_units_readiness_is_its_worst_item_and_flips_exactly_at_the_limits(
    changes: dict[str, float | bool | None], status: str, reasons: list[str]
) -> None:
    values = {key: value for key, value in {**READY, **changes}.items() if value is not None}
    readiness = unit_readiness(SHIPPED, "U", values)
    assert readiness.status == status
    assert [item.reason for item in readiness.items if item.reason] == reasons


def test_nothing_assessed_is_red_on_every_item() -> None:
    readiness = unit_readiness(SHIPPED, "U", {})
    assert readiness.status == "red"
    assert [(item.status, item.value) for item in readiness.items] == [("red", None)] * 6


def test_a_wave_gate_lists_exactly_its_blocking_units(tmp_path: Path) -> None:
    path = tmp_path / "org.yaml"
    path.write_text(REGISTRY, encoding="utf-8")
    org = load_org(path)
    assessments = {
        f"{VGR}-EA": READY,
        f"{VGR}-EB": {**READY, "staff_trained": 80},  # yellow
        # EC: not assessed at all: red
        f"{VGR}-ED": {**READY, "devices_verified": False},  # red, but in wave w3
    }
    gate = wave_gate(org, SHIPPED, assessments, "w2")
    assert gate.model_dump() == {
        "wave_id": "w2",
        "status": "red",
        "units": {"green": 1, "yellow": 1, "red": 1},
        "by_area": {"sodra": {"green": 1, "yellow": 1, "red": 0}, "norra": {"green": 0, "yellow": 0, "red": 1}},
        "by_administration": {f"{VGR}-FNH": {"green": 1, "yellow": 1, "red": 1}},
        "blocking_unit_ids": [f"{VGR}-EC"],
        "blocking_elsewhere": 0,
    }
    assert wave_gate(org, SHIPPED, assessments, "w3").blocking_unit_ids == [f"{VGR}-ED"]
    ready = {**assessments, f"{VGR}-EC": READY}
    assert (wave_gate(org, SHIPPED, ready, "w2").status, wave_gate(org, SHIPPED, ready, "w2").blocking_unit_ids) == (
        "yellow",
        [],
    )


def test_an_empty_checklist_makes_every_unit_green() -> None:
    assert unit_readiness(ReadinessChecklist(), "U", {}).status == "green"
