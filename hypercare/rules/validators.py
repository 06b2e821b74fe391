"""Field types and checks shared by every section of the rules file (health, alerts, stop criteria).

Error messages and their file and line come from :mod:`hypercare.rules.loader`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field

NodeLevel = Literal["unit", "site", "administration", "region"]
NODE_LEVELS: tuple[str, ...] = ("unit", "site", "administration", "region")

_KINDS = {str: "text", bool: "true/false", list: "a list", dict: "a mapping", type(None): "nothing"}


def _number(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"must be a number (got {_KINDS.get(type(value), type(value).__name__)})")
    return value


# A whole or decimal number as written in the file: no "5" in quotes, no true/false.
Number = Annotated[int | float, BeforeValidator(_number)]
# A rule's id: what messages, reason codes and the API show.
RuleId = Annotated[str, Field(pattern=r"^[a-z0-9_]{1,64}$")]


def unique_ids(ids: Iterable[str], what: str) -> None:
    """Raises naming every id used more than once (``what``: ``health rule``, ``alert rule``, …)."""
    seen: set[str] = set()
    twice: list[str] = []
    for rule_id in ids:
        if rule_id in seen and rule_id not in twice:
            twice.append(rule_id)
        seen.add(rule_id)
    if twice:
        raise ValueError(f"{what} ids used twice: {', '.join(twice)}")
