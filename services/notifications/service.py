"""Pure routing: which recipients hear of an alert transition at a level and a node.

No I/O: the recipients come resolved from the notifications file (:mod:`services.notifications.config`),
each with the node ids of its scope's subtree (``None``: the whole region).

- raise at level L, and escalate to level L: the recipients of level L;
- resolve while at level L: every recipient of level L or below — whoever may have been told of the alert
  (a recipient of a level the alert never reached hears neither of it nor of its end).

A recipient hears only of alerts at a node inside its scope, and only of the transitions it asked for.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from hypercare.rules.alerts import ESCALATION_LEVELS

Channel = Literal["webhook", "teams", "email"]
CHANNELS: tuple[str, ...] = ("webhook", "teams", "email")
NotifiedTransition = Literal["raise", "escalate", "resolve"]
NOTIFIED_TRANSITIONS: tuple[str, ...] = ("raise", "escalate", "resolve")


@dataclass(frozen=True)
class Recipient:
    """One recipient of the notifications file, resolved: its secret and URL read from the environment."""

    id: str
    channel: Channel
    levels: frozenset[str]
    transitions: frozenset[str] = frozenset(NOTIFIED_TRANSITIONS)
    scope: str | None = None
    nodes: frozenset[str] | None = None  # the scope's subtree; None: the whole region
    url: str | None = field(default=None, repr=False)
    secret: str | None = field(default=None, repr=False)
    to: tuple[str, ...] = ()


def rank(level: str) -> int:
    return ESCALATION_LEVELS.index(level) if level in ESCALATION_LEVELS else 0


def levels_told(transition: str, level: str) -> frozenset[str]:
    """The levels whose recipients hear of ``transition`` made at (raise, resolve) or to (escalate) ``level``."""
    if transition == "resolve":
        return frozenset(ESCALATION_LEVELS[: rank(level) + 1])
    return frozenset({level})


def route(recipients: Iterable[Recipient], *, transition: str, level: str, node_id: str) -> list[Recipient]:
    """The recipients of one transition, by id; none for a transition that is not notified (acknowledge)."""
    if transition not in NOTIFIED_TRANSITIONS:
        return []
    told = levels_told(transition, level)
    chosen = {
        recipient.id: recipient
        for recipient in recipients
        if transition in recipient.transitions
        and recipient.levels & told
        and (recipient.nodes is None or node_id in recipient.nodes)
    }
    return [chosen[key] for key in sorted(chosen)]


def backoff(attempts: int, *, initial: float, cap: float) -> float:
    """Seconds before the next attempt after ``attempts`` failed ones: ``initial`` doubled per attempt, capped."""
    return float(min(cap, initial * 2 ** max(0, min(attempts - 1, 30))))


def by_id(recipients: Sequence[Recipient]) -> dict[str, Recipient]:
    return {recipient.id: recipient for recipient in recipients}
