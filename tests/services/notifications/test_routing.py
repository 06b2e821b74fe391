"""Pure routing: which recipients hear of a transition at a level and a node (no I/O)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from services.alerts.rules import ESCALATION_LEVELS
from services.notifications.service import NOTIFIED_TRANSITIONS, Recipient, backoff, levels_told, route

NODES = ("u1", "u2", "u3", "s1", "s2")


def recipient(
    name: str, levels: set[str], *, nodes: set[str] | None = None, transitions: set[str] | None = None
) -> Recipient:
    return Recipient(
        id=name,
        channel="webhook",
        levels=frozenset(levels),
        transitions=frozenset(transitions or NOTIFIED_TRANSITIONS),
        nodes=None if nodes is None else frozenset(nodes),
    )


TEAM_U1 = recipient("team-u1", {"team"}, nodes={"u1"})
TEAM_SITE = recipient("team-site", {"team"}, nodes={"s1", "u1", "u2"})
MULTI = recipient("multi", {"multi"}, nodes={"s1", "u1", "u2"})
PROGRAM = recipient("program", {"program"})
ELSEWHERE = recipient("elsewhere", {"team", "multi", "program"}, nodes={"s2", "u3"})
RAISES_ONLY = recipient("raises-only", {"team"}, transitions={"raise"})
EVERYONE = (ELSEWHERE, PROGRAM, MULTI, TEAM_SITE, TEAM_U1, RAISES_ONLY)


def ids(chosen: list[Recipient]) -> list[str]:
    return [r.id for r in chosen]


def test_an_escalation_reaches_each_level_in_scope_and_the_resolve_everyone_told() -> None:
    assert ids(route(EVERYONE, transition="raise", level="team", node_id="u1")) == [
        "raises-only",
        "team-site",
        "team-u1",
    ]
    assert ids(route(EVERYONE, transition="escalate", level="multi", node_id="u1")) == ["multi"]
    assert ids(route(EVERYONE, transition="escalate", level="program", node_id="u1")) == ["program"]
    assert ids(route(EVERYONE, transition="resolve", level="program", node_id="u1")) == [
        "multi",
        "program",
        "team-site",
        "team-u1",
    ]
    # Resolved before it escalated: the higher levels never heard of it and hear nothing now.
    assert ids(route(EVERYONE, transition="resolve", level="team", node_id="u2")) == ["team-site"]
    assert ids(route(EVERYONE, transition="raise", level="team", node_id="u3")) == ["elsewhere", "raises-only"]
    assert route(EVERYONE, transition="acknowledge", level="team", node_id="u1") == []


def test_backoff_doubles_up_to_the_cap() -> None:
    assert [backoff(n, initial=5, cap=60) for n in range(1, 7)] == [5, 10, 20, 40, 60, 60]
    assert backoff(10_000, initial=5, cap=600) == 600


recipients = st.lists(
    st.builds(
        recipient,
        st.text("abcdefgh", min_size=1, max_size=4),
        st.sets(st.sampled_from(ESCALATION_LEVELS), min_size=1),
        nodes=st.none() | st.sets(st.sampled_from(NODES)),
        transitions=st.sets(st.sampled_from(NOTIFIED_TRANSITIONS), min_size=1),
    ),
    max_size=8,
    unique_by=lambda r: r.id,
)


@given(recipients, st.sampled_from(NODES), st.integers(0, len(ESCALATION_LEVELS) - 1))
def test_whoever_hears_of_the_resolve_could_have_heard_of_the_alert_before(
    chosen: list[Recipient], node: str, reached: int
) -> None:
    """Along raise → escalate … → resolve at the level reached: with every transition asked for, the resolve goes
    to exactly those told of the raise or an escalation; each transition goes only to recipients in scope."""
    path = [("raise", ESCALATION_LEVELS[0])] + [("escalate", level) for level in ESCALATION_LEVELS[1 : reached + 1]]
    told: set[str] = set()
    for transition, level in path:
        heard = route(chosen, transition=transition, level=level, node_id=node)
        assert all(r.nodes is None or node in r.nodes for r in heard)
        assert all(level in r.levels and transition in r.transitions for r in heard)
        assert ids(heard) == sorted(ids(heard))
        told |= {r.id for r in heard}
    level = ESCALATION_LEVELS[reached]
    resolved = {r.id for r in route(chosen, transition="resolve", level=level, node_id=node)}
    wanting_all = {r.id for r in chosen if r.transitions == frozenset(NOTIFIED_TRANSITIONS)}
    assert resolved & wanting_all == told & wanting_all
    assert levels_told("resolve", level) == frozenset(ESCALATION_LEVELS[: reached + 1])
