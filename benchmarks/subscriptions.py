"""Bytes and cost of WebSocket subscriptions against the whole-scope messages (a benchmark, not a test).

For the shipped registry (40 units) and for it copied 50 times (2,000 units), with unit states from 8 hours of the
seeded go-live scenario: the size of a snapshot, whole (the unsubscribed default) and for typical subscriptions;
the size of the delta of one publish (20 units' tickets replaced by one new ticket, at the same moment and a minute
later), whole objects against JSON Merge Patches; and the time to pick and encode it once for a subscription.

    .venv/bin/python benchmarks/subscriptions.py
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "_support"))

from big_registry import copies  # noqa: E402
from event_examples import example_event  # noqa: E402
from realistic_states import realistic_unit_states  # noqa: E402

from hypercare.contract.events import parse_event  # noqa: E402
from hypercare.org.registry import OrgRegistry, load_org  # noqa: E402
from hypercare.situation.health import load_rules  # noqa: E402
from hypercare.situation.rollup import build_situation  # noqa: E402
from hypercare.situation.state import apply_event, new_state  # noqa: E402
from services.gateway.hub import Flat, delta_fields, diff, encode, flatten  # noqa: E402
from services.gateway.subscriptions import Index, Subscription, cut, picture_patch  # noqa: E402


def ms(work: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def kib(text: str) -> str:
    return f"{len(text.encode()) / 1024:9.1f} KiB"


def subscriptions(org: OrgRegistry) -> dict[str, Subscription]:
    admin = org.administrations[0]
    site = admin.sites[0]
    unit = site.units[0]
    return {
        "all": Subscription(frozenset({"all"})),
        "overview (region, EDs)": Subscription(frozenset({"region", "emergency_departments"})),
        "one administration": Subscription(frozenset({admin.id})),
        "one administration + region + EDs": Subscription(frozenset({"region", "emergency_departments", admin.id})),
        "tablet (unit + its site)": Subscription(frozenset({unit.id, site.id})),
    }


def touch(org: OrgRegistry, unit_states: dict[str, Any], at: datetime) -> int:
    """Replace the tickets of every hundredth unit by one new ticket; how many units were touched."""
    touched = [p.unit_id for p in list(org.placements.values())[:: max(1, len(org.placements) // 20)]]
    for unit_id in touched:
        event = parse_event(example_event("ticket.opened", unit_id, occurred_at=at.isoformat()))
        state = new_state("tickets")  # the held states are views: this unit's tickets start over
        apply_event("tickets", state, event, now=at)
        unit_states[unit_id] = {**unit_states.get(unit_id, {}), "tickets": state}
    return len(touched)


def report(org: OrgRegistry, before: Flat, whole: dict[str, Any], repeat: int) -> None:
    after = flatten(whole)
    changed = diff(before, after)
    pairs = [
        ((kind, key), before.get(kind, {}).get(key), obj)
        for kind, objects in changed.items()
        for key, obj in objects.items()
    ]
    print(f"    {sum(len(v) for v in changed.values())} objects changed")
    print(f"    {'':<36} {'snapshot':>13} {'delta':>13} {'encode':>11}")
    legacy_delta = encode(delta_fields(changed))
    print(f"    {'unsubscribed (whole objects)':<36} {kib(encode(whole))} {kib(legacy_delta)}", end="")
    print(f" {ms(lambda c=changed: encode(delta_fields(c)), repeat):8.2f} ms")
    # The hub diffs each changed object once per token scope, then picks and encodes per subscription.
    patches = {key: picture_patch([(key, b, a)]) for key, b, a in pairs}
    diffing = ms(lambda: [picture_patch([(key, b, a)]) for key, b, a in pairs], repeat)
    index = Index({key: a for key, _, a in pairs})
    for name, subscription in subscriptions(org).items():
        snapshot = encode(cut(after, subscription))

        def delta(s: Subscription = subscription) -> str:
            patch: dict[str, Any] = {}
            for key in index.select(s):
                for kind, part in patches[key].items():
                    if kind == "region":
                        patch["region"] = part
                    else:
                        patch.setdefault(kind, {}).update(part)
            return encode(patch)

        print(f"    {name:<36} {kib(snapshot)} {kib(delta())} {ms(delta, repeat):8.2f} ms")
    print(f"    (diffing the changed objects, once for all subscriptions of a token scope: {diffing:.2f} ms)")


def main() -> None:
    small = load_org()
    rules = load_rules()
    states, now = realistic_unit_states(small)
    later = now + timedelta(minutes=1)
    for label, (org, unit_states), repeat in (
        ("40 units", (small, states), 50),
        ("2,000 units", copies(small, states, 50), 5),
    ):
        eds = len(org.emergency_departments)
        before = flatten(build_situation(unit_states, org=org, rules=rules, now=now))
        n = touch(org, unit_states, now)
        print(f"{label} ({eds} EDs): a publish with {n} units' tickets replaced, at the same moment")
        report(org, before, build_situation(unit_states, org=org, rules=rules, now=now), repeat)
        print(f"{label}: the same a minute later (every window moves)")
        report(org, before, build_situation(unit_states, org=org, rules=rules, now=later), repeat)


if __name__ == "__main__":
    main()
