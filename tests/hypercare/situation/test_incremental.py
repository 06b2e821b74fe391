"""The incremental picture equals the full build (``build_situation``, the oracle) after every step, exactly.

Steps are what the gateway sees: the worker folds events into unit states and publishes each changed (unit,
family) view through the situation-record codec (a new state object, as the store holds it), and the wall
clock moves, across window edges and whole minutes too. After each step the incremental picture is advanced
with the units whose states arrived and compared with the full build whole, and the objects it reports as
changed are exactly those whose flattened form (``as_of`` aside) differs from the previous full build.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hypercare.contract.events import parse_event
from hypercare.entrypoints.simulator.scenario import GO_LIVE_START, CutoverScenario
from hypercare.org.registry import OrgRegistry, load_org
from hypercare.situation import record
from hypercare.situation.health import HealthRules, load_rules, parse_rules
from hypercare.situation.incremental import IncrementalPicture
from hypercare.situation.rollup import build_situation
from hypercare.situation.state import STATEFUL_FAMILIES, apply_event, new_state, state_view
from services.gateway.hub import diff, flatten

START = datetime(2024, 11, 12, 10, 0, 0, 250_000, tzinfo=UTC)
PRESENCE_MINUTES = 30
# Wave w1 goes live half an hour into the run (its never-visited units count their time without a visit from
# then); S2's wave is only planned (no go-live: its never-visited unit's time is unknown).
ORG = OrgRegistry.model_validate(
    {
        "region": {"id": "R", "name": "Regionen"},
        "waves": [
            {
                "id": "w1",
                "name": "Våg 1",
                "status": "live",
                "planned_go_live": (START + timedelta(minutes=30)).isoformat(),
                "actual_go_live": (START + timedelta(minutes=30, seconds=17)).isoformat(),
            },
            {"id": "w2", "name": "Våg 2", "status": "planned"},
        ],
        "administrations": [
            {
                "id": "F1",
                "name": "Förvaltning 1",
                "sites": [
                    {
                        "id": "S1",
                        "name": "Sjukhus 1",
                        "wave": "w1",
                        "units": [{"id": "A", "name": "Avdelning A"}, {"id": "E1", "name": "Akut 1", "kind": "ed"}],
                    },
                    {"id": "S2", "name": "Sjukhus 2", "wave": "w2", "units": [{"id": "B", "name": "Avdelning B"}]},
                ],
            },
            {
                "id": "F2",
                "name": "Förvaltning 2",
                "sites": [
                    {
                        "id": "S3",
                        "name": "Sjukhus 3",
                        "wave": "w1",
                        "units": [{"id": "C", "name": "Avdelning C"}, {"id": "E2", "name": "Akut 2", "kind": "ed"}],
                    }
                ],
            },
        ],
    }
)
UNITS = ["A", "E1", "B", "C", "E2", "ZZ-UNMAPPED", "YY-UNMAPPED"]
EDS = ["E1", "E2"]
# Rules that also judge roll-ups by their children and units, so a child's health change must reach its parents.
ROLLUP_RULES = parse_rules(
    {
        "version": 1,
        "health": [
            {
                "id": "fails",
                "levels": ["unit", "site"],
                "metric": "access.login_failures_15m",
                "yellow": 1,
                "red": 3,
                "reason": "{value} failures",
            },
            {
                "id": "users",
                "levels": ["site", "administration", "region"],
                "metric": "access.distinct_users_failing_15m",
                "yellow": 2,
                "reason": "{value} users failing",
            },
            {
                "id": "red_children",
                "levels": ["administration", "region"],
                "metric": "children.red",
                "red": 1,
                "reason": "{value} red",
            },
            {
                "id": "yellow_units",
                "levels": ["site", "administration", "region"],
                "metric": "units.not_green_share",
                "yellow": 0.3,
                "reason": "{value}",
            },
            {
                "id": "old_p1",
                "levels": ["unit", "site", "administration"],
                "metric": "tickets.oldest_open_minutes",
                "yellow": 2,
                "red": 5,
                "reason": "{value} min",
            },
            {
                "id": "median",
                "levels": ["site", "region"],
                "metric": "tickets.median_minutes_to_resolve_24h",
                "yellow": 3,
                "reason": "{value}",
            },
            {
                "id": "visit",
                "levels": ["unit"],
                "metric": "floorwalkers.minutes_since_last_visit",
                "yellow": 2,
                "reason": "{value}",
            },
            {
                "id": "report",
                "levels": ["unit", "site"],
                "metric": "ed.status.minutes_since_report",
                "yellow": 1,
                "red": 3,
                "reason": "{value}",
            },
        ],
    }
)
_ids = itertools.count()

OFFSETS = st.one_of(
    st.sampled_from([0.0, 1.0, 59.0, 60.0, 61.0, 899.0, 900.0, 1800.0, 3599.0, 3600.0, -30.0, -1.0]),
    st.floats(-120, 5000, allow_nan=False).map(lambda s: round(s, 3)),
)
ADVANCES = st.one_of(
    st.sampled_from([0.0, 0.25, 0.001, 1.0, 30.0, 60.0, 120.0, 600.0, 900.0, 1800.0, 3600.0, 86_400.0]),
    st.floats(0, 4000, allow_nan=False).map(lambda s: round(s, 6)),
)


@st.composite
def event(draw: st.DrawFn, now: datetime) -> dict[str, Any]:
    kind = draw(
        st.sampled_from(
            [
                "login",
                "login",
                "denied",
                "opened",
                "opened",
                "updated",
                "resolved",
                "checkin",
                "checkin",
                "checkout",
                "ed_status",
                "div_start",
                "div_end",
            ]
        )
    )
    unit = draw(st.sampled_from(EDS if kind.startswith(("ed", "div")) else UNITS))
    base = {
        "event_id": f"e{next(_ids)}",
        "occurred_at": (now - timedelta(seconds=draw(OFFSETS))).isoformat(),
        "unit_id": unit,
    }
    user = f"u{draw(st.integers(0, 3))}"
    ticket = f"T{draw(st.integers(0, 4))}"
    walker = f"w{draw(st.integers(0, 2))}"
    diversion = f"D{draw(st.integers(0, 1))}"
    if kind == "login":
        failed = draw(st.booleans())
        reason = {"reason": draw(st.sampled_from(["account_locked", "card_error"]))} if failed else {}
        return {
            **base,
            "type": "access.login",
            "user_ref": user,
            "outcome": "failure" if failed else "success",
            **reason,
        }
    if kind == "denied":
        role = draw(st.sampled_from(["lakare", "usk"]))
        return {**base, "type": "access.permission_denied", "user_ref": user, "role": role, "module": "journal"}
    if kind == "opened":
        return {
            **base,
            "type": "ticket.opened",
            "ticket_id": ticket,
            "channel": "phone",
            "category": draw(st.sampled_from(["login", "printing"])),
            "priority": draw(st.integers(1, 4)),
            "patient_safety": draw(st.booleans()),
        }
    if kind == "updated":
        return {
            **base,
            "type": "ticket.updated",
            "ticket_id": ticket,
            "status": "escalated",
            "priority": draw(st.integers(1, 4)),
        }
    if kind == "resolved":
        return {**base, "type": "ticket.resolved", "ticket_id": ticket}
    if kind == "checkin":
        return {
            **base,
            "type": "floorwalker.checkin",
            "walker_id": walker,
            "status": draw(st.sampled_from(["on_unit", "break", "assisting"])),
            "assists": draw(st.integers(0, 2)),
            "categories": draw(st.lists(st.sampled_from(["login", "lab"]), max_size=2)),
            "needs_escalation": draw(st.booleans()),
        }
    if kind == "checkout":
        return {**base, "type": "floorwalker.checkout", "walker_id": walker}
    if kind == "ed_status":
        return {
            **base,
            "type": "ed.status",
            "patients_waiting": draw(st.integers(0, 5)),
            "patients_in_department": draw(st.integers(0, 5)),
            "capacity": draw(st.integers(1, 6)),
            "longest_wait_minutes": draw(st.none() | st.integers(0, 90)),
        }
    if kind == "div_start":
        end = draw(st.none() | OFFSETS)
        expected = {} if end is None else {"expected_end": (now - timedelta(seconds=end - 600)).isoformat()}
        return {
            **base,
            "type": "ed.diversion_started",
            "diversion_id": diversion,
            "to_unit_ids": [EDS[0]],
            "scope": "all",
            "reason": "full",
            "decided_by": "pc",
            **expected,
        }
    return {**base, "type": "ed.diversion_ended", "diversion_id": diversion, "decided_by": "pc"}


class World:
    """The worker's states and the gateway's copy of their views, and the wall clock."""

    def __init__(self) -> None:
        self.now = START
        self.worker: dict[str, dict[str, dict[str, Any]]] = {}
        self.gateway: dict[str, dict[str, dict[str, Any]]] = {}

    def fold(self, raw: dict[str, Any]) -> str:
        parsed = parse_event(raw)
        state = self.worker.setdefault(parsed.unit_id, {}).setdefault(parsed.family, new_state(parsed.family))
        apply_event(parsed.family, state, parsed, now=self.now)
        view = state_view(parsed.family, state)
        decoded = record.decode(record.encode(parsed.unit_id, parsed.family, view, as_of=self.now.isoformat())[1])
        self.gateway.setdefault(decoded.unit_id, {})[decoded.family] = decoded.state  # a new object, as the store
        return parsed.unit_id


def full(world: World, rules: HealthRules) -> dict[str, Any]:
    return build_situation(world.gateway, org=ORG, rules=rules, now=world.now, presence_minutes=PRESENCE_MINUTES)


def run_steps(steps: Any, data: st.DataObject, rules: HealthRules) -> None:
    world = World()
    picture = IncrementalPicture(org=ORG, rules=rules, presence_minutes=PRESENCE_MINUTES)
    picture.advance(world.gateway, world.now, touched=None)
    picture.take_changed()
    before = flatten(full(world, rules))
    for n_events, advance in steps:
        touched = {world.fold(data.draw(event(world.now))) for _ in range(n_events)}
        world.now += timedelta(seconds=advance)
        picture.advance(world.gateway, world.now, touched=touched)
        expected = full(world, rules)
        assert picture.situation() == expected
        current = flatten(expected)
        assert picture.flat() == current
        truly_changed = {kind: set(objects) for kind, objects in diff(before, current).items()}
        reported = picture.take_changed()
        assert {kind: set(objects) for kind, objects in reported.items()} == truly_changed
        assert all(obj == current[kind][key] for kind, objects in reported.items() for key, obj in objects.items())
        before = current


STEPS = st.lists(st.tuples(st.integers(0, 4), ADVANCES), min_size=1, max_size=25)


@given(steps=STEPS, data=st.data())
def test_the_incremental_picture_equals_the_full_build_after_every_step(steps: Any, data: st.DataObject) -> None:
    run_steps(steps, data, ROLLUP_RULES)


@given(steps=STEPS, data=st.data())
def test_with_the_shipped_rules_too(steps: Any, data: st.DataObject) -> None:
    run_steps(steps, data, load_rules())


def test_a_login_leaves_the_window_at_its_edge_and_only_its_unit_and_ancestors_change() -> None:
    world = World()
    picture = IncrementalPicture(org=ORG, rules=ROLLUP_RULES, presence_minutes=PRESENCE_MINUTES)
    picture.advance(world.gateway, world.now, touched=None)
    picture.take_changed()
    raw = {
        "event_id": "x1",
        "type": "access.login",
        "occurred_at": world.now.isoformat(),
        "unit_id": "B",
        "user_ref": "u1",
        "outcome": "failure",
        "reason": "card_error",
    }
    picture.advance(world.gateway, world.now, touched={world.fold(raw)})
    changed = picture.take_changed()
    assert {kind: sorted(objects) for kind, objects in changed.items()} == {
        "units": ["B"],
        "sites": ["S2"],
        "administrations": ["F1"],
        "region": ["region"],
    }
    assert changed["units"]["B"]["access"]["login_failures_15m"] == 1
    # The count's bucket is the event's whole second; the failing user is kept with the event's own time.
    edge = world.now.replace(microsecond=0) + timedelta(minutes=15)
    moments = [
        (edge - timedelta(microseconds=1), None),
        (edge, (0, 1)),
        (world.now + timedelta(minutes=15) - timedelta(microseconds=1), None),
        (world.now + timedelta(minutes=15), (0, 0)),
        (world.now + timedelta(hours=5), None),
    ]
    for at, figures in moments:
        world.now = at
        picture.advance(world.gateway, at, touched=())
        assert picture.situation() == full(world, ROLLUP_RULES)
        units = picture.take_changed()["units"]
        if figures is None:  # B unchanged (S1's and S3's units count minutes without a visit from w1's go-live)
            assert "B" not in units
        else:
            access = units["B"]["access"]
            assert (access["login_failures_15m"], access["distinct_users_failing_15m"]) == figures


def test_a_walker_checking_in_elsewhere_leaves_the_unit_they_were_on() -> None:
    world = World()
    picture = IncrementalPicture(org=ORG, rules=ROLLUP_RULES, presence_minutes=PRESENCE_MINUTES)
    picture.advance(world.gateway, world.now, touched=None)
    for n, unit in enumerate(("A", "C")):
        at = world.now + timedelta(seconds=n)
        raw = {
            "event_id": f"w{n}",
            "type": "floorwalker.checkin",
            "occurred_at": at.isoformat(),
            "unit_id": unit,
            "walker_id": "w1",
            "status": "on_unit",
        }
        touched = {world.fold(raw)}
        world.now += timedelta(seconds=1)
        picture.take_changed()
        picture.advance(world.gateway, world.now, touched=touched)
    changed = picture.take_changed()["units"]
    assert changed["A"]["floorwalkers"]["on_unit"] == 0 and changed["C"]["floorwalkers"]["on_unit"] == 1
    assert picture.situation() == full(world, ROLLUP_RULES)


def test_unmapped_units_appear_in_order_and_a_clock_that_steps_back_rebuilds() -> None:
    world = World()
    picture = IncrementalPicture(org=ORG, rules=ROLLUP_RULES, presence_minutes=PRESENCE_MINUTES)
    picture.advance(world.gateway, world.now, touched=None)
    for unit in ("ZZ-2", "AA-1"):
        raw = {
            "event_id": f"u-{unit}",
            "type": "access.login",
            "occurred_at": world.now.isoformat(),
            "unit_id": unit,
            "user_ref": "u1",
            "outcome": "success",
        }
        picture.advance(world.gateway, world.now, touched={world.fold(raw)})
    situation = picture.situation()
    assert situation == full(world, ROLLUP_RULES)
    assert situation["data_quality"] == {"unmapped_units": ["AA-1", "ZZ-2"]}
    assert picture.take_changed()["sites"]["unmapped"]["unit_ids"] == ["AA-1", "ZZ-2"]
    world.now -= timedelta(minutes=20)
    picture.advance(world.gateway, world.now, touched=())
    assert picture.situation() == full(world, ROLLUP_RULES)


def test_naive_moments_are_refused() -> None:
    picture = IncrementalPicture(org=ORG, rules=ROLLUP_RULES)
    with pytest.raises(ValueError, match="aware"):
        picture.advance({}, datetime(2024, 11, 12), touched=None)


def test_a_never_visited_unit_counts_its_time_without_a_visit_from_its_waves_go_live() -> None:
    """No event at all: the minutes without a visit of S1's units start at w1's go-live and grow by the clock."""
    world = World()
    picture = IncrementalPicture(org=ORG, rules=ROLLUP_RULES, presence_minutes=PRESENCE_MINUTES)
    picture.advance(world.gateway, world.now, touched=None)
    picture.take_changed()
    go_live = START + timedelta(minutes=30, seconds=17)
    for at, minutes in [
        (go_live - timedelta(seconds=1), 0),
        (go_live + timedelta(seconds=59), 0),
        (go_live + timedelta(seconds=60), 1),
        (go_live + timedelta(minutes=7, seconds=30), 7),
    ]:
        world.now = at
        picture.advance(world.gateway, at, touched=())
        assert picture.situation() == full(world, ROLLUP_RULES)
        unit = picture.flat()["units"]["A"]["floorwalkers"]
        assert unit["minutes_without_visit"] == minutes
        assert picture.flat()["units"]["B"]["floorwalkers"]["minutes_without_visit"] is None  # w2 has no go-live


def test_hours_of_the_shipped_go_live_give_the_full_build_at_every_step() -> None:
    """The seeded go-live scenario over the shipped registry and rules, published in 7-minute batches, the
    clock also moving alone after each (up to a quarter of an hour, so window edges pass between batches): real
    states, with many buckets, resolve times and walkers, where the property test's are small."""
    org, rules = load_org(), load_rules()
    play = CutoverScenario(org, seed=1)
    worker: dict[str, dict[str, dict[str, Any]]] = {}
    gateway: dict[str, dict[str, dict[str, Any]]] = {}
    picture = IncrementalPicture(org=org, rules=rules)
    clock = cursor = GO_LIVE_START
    picture.advance(gateway, clock, touched=None)
    for step in range(40):
        batch_end = cursor + timedelta(minutes=7)
        clock = max(clock, batch_end)
        touched: set[str] = set()
        for raw in play.events_between(cursor, batch_end, stamp=lambda at: at):
            parsed = parse_event(raw)
            if parsed.family not in STATEFUL_FAMILIES:
                continue
            state = worker.setdefault(parsed.unit_id, {}).setdefault(parsed.family, new_state(parsed.family))
            apply_event(parsed.family, state, parsed, now=clock)
            view = state_view(parsed.family, state)
            value = record.encode(parsed.unit_id, parsed.family, view, as_of=clock.isoformat())[1]
            gateway.setdefault(parsed.unit_id, {})[parsed.family] = record.decode(value).state
            touched.add(parsed.unit_id)
        cursor = batch_end
        for units in (touched, set()):
            picture.advance(gateway, clock, touched=units)
            expected = build_situation(gateway, org=org, rules=rules, now=clock)
            assert picture.situation() == expected
            assert picture.flat() == flatten(expected)
            clock += timedelta(seconds=(0.25, 61.5, 180.0, 900.25)[step % 4])
