"""The read models describe the picture the roll-up builds, exactly: realistic pictures validate against them
(unknown keys forbidden, types strict) and dump back to the same data, so a field added, renamed or retyped
in the roll-up without its model fails here."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import pytest
from pydantic import ValidationError
from realistic_states import UNMAPPED_UNIT, realistic_unit_states

from hypercare.org.registry import load_org
from hypercare.situation.health import load_rules
from hypercare.situation.rollup import build_situation, summarize_unit
from hypercare.situation.views import RegionView, SiteView, Situation, UnitView

ORG = load_org()
RULES = load_rules()
STATES, NOW = realistic_unit_states(ORG)


def picture(states: dict[str, Any] = STATES, **kw: Any) -> dict[str, Any]:
    built = build_situation(states, org=ORG, rules=RULES, now=kw.pop("now", NOW), **kw)
    return {"as_of": built["as_of"], "seq": 7, **{k: v for k, v in built.items() if k != "as_of"}}


def units(situation: dict[str, Any]) -> list[dict[str, Any]]:
    return [u for a in situation["administrations"] for s in a["sites"] for u in s["units"]]


def test_the_realistic_picture_has_every_optional_shape() -> None:
    """Guards the fixture: the shapes below are only proven if the picture contains them."""
    situation = picture()
    every = units(situation)
    assert len(every) == len(ORG.placements) + 1
    assert situation["data_quality"]["unmapped_units"] == [UNMAPPED_UNIT]
    assert any(u["ed"]["diversion"] and u["ed"]["diversion"]["review_overdue"] for u in every)
    assert any(u["ed"]["status"] and u["ed"]["status"]["longest_wait_minutes"] is not None for u in every)
    assert any(u["ed"]["status"] and u["ed"]["status"]["longest_wait_minutes"] is None for u in every)
    assert any(u["floorwalkers"]["last_visit_at"] for u in every)
    assert any(u["floorwalkers"]["last_visit_at"] is None for u in every)
    assert any(u["tickets"]["median_minutes_to_resolve_24h"] is not None for u in every)
    assert {u["health"]["status"] for u in every} == {"green", "yellow", "red"}
    assert any(isinstance(code["value"], float) for u in every for code in u["health"]["reason_codes"])
    assert any(isinstance(code["value"], int) for u in every for code in u["health"]["reason_codes"])
    assert situation["region"]["ed"]["status"]["reporting_units"] > 1
    assert [] in [a["wave_ids"] for a in situation["administrations"]]  # the unmapped administration
    assert any(u["go_live_at"] is not None for u in every) and any(u["go_live_at"] is None for u in every)
    assert any(u["wave_id"] is None for u in every) and any(u["area"] is None for u in every)  # the unmapped unit


@pytest.mark.parametrize("minutes_later", [0, 45, 24 * 60])
def test_the_picture_validates_and_dumps_back_unchanged(minutes_later: int) -> None:
    """Also read later, when windows have emptied (zeros and nulls where figures were)."""
    situation = picture(now=NOW + timedelta(minutes=minutes_later))
    model = Situation.model_validate(situation)
    assert model.model_dump(mode="json") == situation  # nothing dropped, nothing defaulted in


def test_every_unit_object_validates_as_the_unit_endpoint_returns_it() -> None:
    for unit_id in [*ORG.placements, UNMAPPED_UNIT]:
        unit = summarize_unit(unit_id, STATES, org=ORG, rules=RULES, now=NOW)
        assert UnitView.model_validate(unit).model_dump(mode="json") == unit


def test_an_empty_picture_validates() -> None:
    situation = picture({})
    assert Situation.model_validate(situation).model_dump(mode="json") == situation


def _drifted(path: list[str | int], change: Any) -> dict[str, Any]:
    situation = copy.deepcopy(picture())
    node: Any = situation
    for part in path[:-1]:
        node = node[part]
    change(node, path[-1])
    return situation


UNIT = ["administrations", 0, "sites", 0, "units", 0]


@pytest.mark.parametrize(
    ("path", "change"),
    [
        ([*UNIT, "floorwalkers", "on_leave"], lambda node, key: node.__setitem__(key, 1)),  # added
        ([*UNIT, "tickets", "open"], lambda node, key: node.__setitem__("open_now", node.pop(key))),  # renamed
        ([*UNIT, "access", "logins_15m"], lambda node, key: node.__setitem__(key, "40")),  # retyped
        ([*UNIT, "access", "logins_15m"], lambda node, key: node.__setitem__(key, True)),  # bool is no count
        ([*UNIT, "as_of"], lambda node, key: node.__setitem__(key, "2024-11-12T10:00:00")),  # no offset
        (["region", "units_by_health", "red"], lambda node, key: node.pop(key)),  # removed
        (["administrations", 0, "ed", "diversion"], lambda node, key: node.__setitem__(key, {})),
    ],
)
def test_drift_from_the_models_is_caught(path: list[str | int], change: Any) -> None:
    with pytest.raises(ValidationError):
        Situation.model_validate(_drifted(path, change))


def test_roll_ups_and_units_are_not_interchangeable() -> None:
    """A unit's floor-walker block has last_visit_at, a roll-up's units_never_visited: each model forbids the other."""
    situation = picture()
    site = situation["administrations"][0]["sites"][0]
    with pytest.raises(ValidationError):
        UnitView.model_validate({**site["units"][0], "floorwalkers": site["floorwalkers"]})
    SiteView.model_validate(site)
    RegionView.model_validate(situation["region"])
