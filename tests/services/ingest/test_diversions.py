"""Safe diversions (pure): the cycle check over active diversions, the refusal's reason, the override."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import pairwise
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hypercare.contract.events import InvalidEvent, parse_event
from hypercare.org.registry import load_org
from hypercare.situation.state import ed as ed_state
from services.ingest.diversions import ActiveDiversions, diversion_problem, path_back, refuse_unsafe_diversion

ORG = load_org()
ALINGSAS = "SE2321000131-ESIVALIAKM"
BORAS = "SE2321000131-ESASBORAKM"
SKENE = "SE2321000131-ESASSKEAKM"
SAHLGRENSKA = "SE2321000131-ESUSAHAKM"


def started(unit_id: str, *to: str, diversion_id: str = "D1", **fields: Any) -> Any:
    return parse_event(
        {
            "event_id": f"e-{unit_id}-{diversion_id}-{len(fields)}",
            "type": "ed.diversion_started",
            "occurred_at": datetime.now(UTC).isoformat(),
            "unit_id": unit_id,
            "diversion_id": diversion_id,
            "to_unit_ids": list(to),
            "scope": "ambulance",
            "reason": "Överbeläggning",
            "decided_by": "produktionschef",
            **fields,
        }
    )


def ended(unit_id: str, diversion_id: str = "D1") -> Any:
    return parse_event(
        {
            "event_id": f"end-{unit_id}-{diversion_id}",
            "type": "ed.diversion_ended",
            "occurred_at": datetime.now(UTC).isoformat(),
            "unit_id": unit_id,
            "diversion_id": diversion_id,
            "decided_by": "produktionschef",
        }
    )


def test_path_back_direct_cycle_and_none() -> None:
    graph = {"B": {"A"}, "C": {"D"}}
    assert path_back(graph, "A", ["B"]) == ["B", "A"]
    assert path_back(graph, "A", ["C"]) is None
    assert path_back(graph, "A", ["C", "B"]) == ["B", "A"]
    assert path_back({}, "A", ["B"]) is None


def test_path_back_through_a_longer_cycle_is_the_shortest() -> None:
    graph = {"B": {"C", "X"}, "C": {"A"}, "X": {"Y"}, "Y": {"Z"}, "Z": {"A"}}
    assert path_back(graph, "A", ["B"]) == ["B", "C", "A"]


def test_path_back_ignores_cycles_not_through_the_source() -> None:
    assert path_back({"B": {"C"}, "C": {"B"}}, "A", ["B"]) is None


def test_path_back_to_itself() -> None:
    assert path_back({}, "A", ["A"]) == ["A"]


def test_a_diversion_to_an_ed_diverting_back_is_refused_with_the_reason() -> None:
    active = ActiveDiversions.of({BORAS: {"X": [ALINGSAS]}})
    reason = diversion_problem(started(ALINGSAS, BORAS), active, ORG)
    assert reason == (
        f"to_unit_ids: {BORAS} (Akutmottagning Borås) is itself diverting to {ALINGSAS} (Akutmottagning Alingsås); "
        "a diversion there would send patients back and forth (give override_reason to divert anyway)"
    )


def test_a_circle_of_three_is_refused_naming_each_hop() -> None:
    active = ActiveDiversions.of({BORAS: {"X": [SKENE]}, SKENE: {"Y": [ALINGSAS]}})
    reason = diversion_problem(started(ALINGSAS, SAHLGRENSKA, BORAS), active, ORG)
    assert reason is not None
    assert reason.startswith(
        f"to_unit_ids: {BORAS} (Akutmottagning Borås) is itself diverting to {SKENE} (Akutmottagning Skene), "
        f"which is diverting to {ALINGSAS} (Akutmottagning Alingsås);"
    )


def test_no_cycle_and_other_events_pass() -> None:
    active = ActiveDiversions.of({BORAS: {"X": [SKENE]}})
    assert diversion_problem(started(ALINGSAS, BORAS), active, ORG) is None
    assert diversion_problem(ended(ALINGSAS), active, ORG) is None


def test_an_override_reason_lets_it_through_and_blank_does_not() -> None:
    active = ActiveDiversions.of({BORAS: {"X": [ALINGSAS]}})
    assert diversion_problem(started(ALINGSAS, BORAS, override_reason="Borås har CT-stopp"), active, ORG) is None
    assert diversion_problem(started(ALINGSAS, BORAS, override_reason="   "), active, ORG) is not None


def test_the_override_reason_is_free_text_redacted_and_bounded() -> None:
    event = started(ALINGSAS, BORAS, override_reason="ring 19121212-1212 om frågor")
    assert "19121212-1212" not in event.override_reason
    with pytest.raises(InvalidEvent):
        started(ALINGSAS, BORAS, override_reason="x" * 501)


def test_the_live_picture_states_are_read() -> None:
    """The graph is read from the gateway's unit states, as the ED fold keeps them."""
    state = ed_state.new_state()
    ed_state.apply(state, started(BORAS, ALINGSAS, diversion_id="B1"), now=datetime.now(UTC).timestamp())
    active = ActiveDiversions({BORAS: {"ed": state}, SKENE: {"tickets": {}}})
    assert active.graph() == {BORAS: {ALINGSAS}}
    ed_state.apply(state, ended(BORAS, "B1"), now=datetime.now(UTC).timestamp())
    assert ActiveDiversions({BORAS: {"ed": state}}).graph() == {}


def test_earlier_items_of_the_same_request_count() -> None:
    active = ActiveDiversions({})
    refuse_unsafe_diversion(started(ALINGSAS, BORAS), active, ORG)  # accepted, noted
    with pytest.raises(InvalidEvent, match="is itself diverting to"):
        refuse_unsafe_diversion(started(BORAS, ALINGSAS, diversion_id="D2"), active, ORG)
    refuse_unsafe_diversion(ended(ALINGSAS), active, ORG)  # ended in the same request: no longer in the way
    refuse_unsafe_diversion(started(BORAS, ALINGSAS, diversion_id="D2"), active, ORG)


def test_without_a_live_picture_nothing_is_checked() -> None:
    refuse_unsafe_diversion(started(ALINGSAS, ALINGSAS), None, ORG)


NODES = st.sampled_from("ABCDEFG")
GRAPHS = st.dictionaries(NODES, st.sets(NODES, max_size=4), max_size=7)


def _reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, stack = {start}, [start]
    while stack:
        for nxt in graph.get(stack.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


def _has_cycle_through(graph: dict[str, set[str]], node: str) -> bool:
    return any(node in _reachable(graph, nxt) for nxt in graph.get(node, ()))


@given(GRAPHS, NODES, st.sets(NODES, min_size=1, max_size=3))
def test_refused_iff_the_new_edges_close_a_cycle_through_the_source(
    graph: dict[str, set[str]], source: str, targets: set[str]
) -> None:
    """Property: a path back exists iff adding source → targets puts source on a cycle that the graph without
    source's own edges did not have; and the path returned is a real walk along active diversions."""
    without_source = {node: to for node, to in graph.items() if node != source}
    added = {**without_source, source: set(targets)}
    path = path_back(without_source, source, sorted(targets))
    assert (path is not None) == _has_cycle_through(added, source)
    if path is not None:
        assert path[0] in targets and path[-1] == source
        assert all(b in without_source.get(a, set()) for a, b in pairwise(path))
        assert len(set(path)) == len(path)
