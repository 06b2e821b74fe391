"""JSON Merge Patch (RFC 7386) of read-side objects: apply(a, diff(a, b)) == b, with null read as absent."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from hypercare.situation.merge_patch import apply, diff, normalize

KEYS = st.sampled_from(["a", "b", "c", "open", "ed", "diversion"])
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.floats(allow_nan=False, allow_infinity=False).map(lambda f: f + 0.0)
    | st.text(max_size=3)
)
VALUES = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=4), max_leaves=12
)
OBJECTS = st.dictionaries(KEYS, VALUES, max_size=5)


def text(value: Any) -> str:
    """JSON text with sorted keys, for the exact comparisons (``True`` and ``1`` differ, as on the wire)."""
    return json.dumps(value, sort_keys=True)


def nulls(value: Any) -> bool:
    if isinstance(value, dict):
        return any(item is None or nulls(item) for item in value.values())
    return isinstance(value, list) and any(nulls(item) for item in value)


@given(OBJECTS, OBJECTS)
def test_a_patch_turns_one_object_into_the_other_with_null_read_as_absent(a: dict[str, Any], b: dict[str, Any]) -> None:
    # Values compare as Python compares them (numbers by value: ``0 == 0.0``, and so ``True == 1``).
    assert apply(normalize(a), diff(a, b)) == normalize(b)
    # and whether or not the client kept the nulls of a snapshot
    assert normalize(apply(a, diff(a, b))) == normalize(b)


@given(OBJECTS.filter(lambda o: not nulls(o)), OBJECTS.filter(lambda o: not nulls(o)))
def test_without_nulls_the_round_trip_is_exact(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert apply(a, diff(a, b)) == b


ONE_TYPE_PER_KEY = st.dictionaries(
    KEYS, st.integers(-3, 3) | st.lists(st.text(max_size=2), max_size=2) | st.dictionaries(KEYS, st.text(max_size=2))
)


@given(ONE_TYPE_PER_KEY, ONE_TYPE_PER_KEY)
def test_with_one_type_per_field_as_in_the_picture_the_round_trip_is_exact_to_the_json_text(
    a: dict[str, Any], b: dict[str, Any]
) -> None:
    assert text(apply(normalize(a), diff(a, b))) == text(normalize(b))


@given(OBJECTS, OBJECTS)
def test_a_patch_is_empty_exactly_when_nothing_changed(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert (diff(a, b) == {}) == (normalize(a) == normalize(b))
    assert diff(a, a) == {}


def test_rfc_7386_appendix_a_examples() -> None:
    """The RFC's own test cases (those with object targets and patches)."""
    cases: list[tuple[Any, Any, Any]] = [
        ({"a": "b"}, {"a": "c"}, {"a": "c"}),
        ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
        ({"a": "b"}, {"a": None}, {}),
        ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
        ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
        ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
        ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
        ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
        ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
        ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
        ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
    ]
    for target, patch, result in cases:
        assert apply(target, patch) == result


def test_a_value_becoming_null_is_sent_as_a_deletion_and_a_whole_object_when_it_comes_back() -> None:
    diverting = {"ed": {"diversion": {"id": "D1", "to": ["x"], "expected_end": None}, "waiting": 3}}
    calm = {"ed": {"diversion": None, "waiting": 3}}
    assert diff(diverting, calm) == {"ed": {"diversion": None}}
    assert diff(calm, diverting) == {"ed": {"diversion": {"id": "D1", "to": ["x"]}}}
