"""Cost of the gateway's per-tick picture: the full recompute against the incremental one (a benchmark, not a test).

For each ``--units N`` (default 40, 500, 2,000: the shipped region, copied and cut, in four waves) every unit
starts from the state of its original after 8 hours of the seeded go-live scenario (walker ids made distinct per
copy). Then ``--seconds`` of wall clock are played in ticks of ``--tick`` seconds while ``--rate`` events a second
arrive (the scenario's own mix of event types, each on a random copy of its unit, stamped at the tick): each
event is folded like the worker folds it and its (unit, family) view replaces the gateway's copy through the
situation-record codec. At each tick both ways of publishing are timed back to back on the same states:

- full (the hub before): ``build_situation`` over every unit, ``flatten``, ``diff`` against the last picture;
- incremental (the hub now): ``IncrementalPicture.advance`` with the touched units, ``take_changed``, ``diff``
  of only those objects.

The full path is timed on every ``--full-every``-th tick (its cost hardly varies). Prints per size the events
and touched units per tick, the units the incremental picture computed and found changed, and the CPU
milliseconds of this process per tick (CPU time, not wall time: other work on a shared machine would
otherwise count).

With ``--deflate`` it also weighs permessage-deflate (RFC 7692) for the WebSocket payloads: each tick's delta, as
the hub encodes it once for every unscoped client, is compressed the way a connection with context takeover does
(one raw-deflate stream per client, a sync flush per message). Compression is per connection, so its CPU is paid
once per client: the line shows bytes per client per second with and without it, and the CPU it would take for
``--clients`` clients (the gateway's setting is ``HYPERCARE_WEBSOCKET_DEFLATE``; ``gateway_load.py --deflate on``
measures it at live clients).

    .venv/bin/python benchmarks/picture.py [--units 40 --units 2000] [--rate 500] [--tick 0.25] [--seconds 60]
        [--deflate --clients 1000]
"""

from __future__ import annotations

import argparse
import copy
import random
import statistics
import sys
import time
import zlib
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "_support"))

from big_registry import generated_registry  # noqa: E402

from hypercare.contract.events import parse_event  # noqa: E402
from hypercare.entrypoints.simulator.scenario import GO_LIVE_START, CutoverScenario  # noqa: E402
from hypercare.org.registry import OrgRegistry, load_org  # noqa: E402
from hypercare.situation import record  # noqa: E402
from hypercare.situation.health import HealthRules, load_rules  # noqa: E402
from hypercare.situation.incremental import IncrementalPicture  # noqa: E402
from hypercare.situation.rollup import build_situation  # noqa: E402
from hypercare.situation.state import STATEFUL_FAMILIES, apply_event, new_state, state_view  # noqa: E402
from services.alerts.engine import Checked, OpenAlert, Raise, Resolve, Transition, evaluate  # noqa: E402
from services.alerts.rules import AlertRules, load_alert_rules  # noqa: E402
from services.gateway.hub import delta_fields, diff, encode, flatten  # noqa: E402

States = dict[str, dict[str, dict[str, Any]]]
HOURS = 8


def reference_seconds() -> float:
    """A fixed Python loop's time: machines of this kind vary from session to session (pipeline.py prints it too)."""
    start = time.perf_counter()
    total = 0
    for n in range(3_000_000):
        total += n % 7
    return time.perf_counter() - start


def scenario(org: OrgRegistry) -> tuple[States, list[dict[str, Any]], datetime]:
    """(worker states after HOURS of the go-live, the next hour's stateful events as templates, the end)."""
    end = GO_LIVE_START + timedelta(hours=HOURS)
    play = CutoverScenario(org, seed=1)
    states: States = {}
    for raw in play.events_between(GO_LIVE_START, end, stamp=lambda at: at):
        event = parse_event(raw)
        if event.family in STATEFUL_FAMILIES:
            state = states.setdefault(event.unit_id, {}).setdefault(event.family, new_state(event.family))
            apply_event(event.family, state, event, now=end)
    later = play.events_between(end, end + timedelta(hours=1), stamp=lambda at: at)
    templates = [raw for raw in later if parse_event(raw).family in STATEFUL_FAMILIES]
    return states, templates, end


def renamed(family: str, state: dict[str, Any], suffix: str) -> dict[str, Any]:
    """A copy of a unit's state; floor walkers get their copy's own ids (a walker works in one copy)."""
    state = copy.deepcopy(state)
    if family == "floorwalkers":
        state["walkers"] = {f"{walker}{suffix}": value for walker, value in state["walkers"].items()}
    return state


class Feed:
    """The worker's states of the generated registry, the gateway's views of them, and the arriving events."""

    def __init__(self, org: OrgRegistry, big: OrgRegistry, base: States, templates: list[dict[str, Any]]) -> None:
        self.worker: States = {}
        self.gateway: States = {}
        self.copies: dict[str, list[str]] = {}
        for unit_id in big.placements:
            original, _, n = unit_id.rpartition("-")
            self.copies.setdefault(original, []).append(unit_id)
            families = base.get(original, {})
            self.worker[unit_id] = {f: renamed(f, s, f"-{n}") for f, s in families.items()}
            for family, state in self.worker[unit_id].items():
                self.publish(unit_id, family, state)
        self.templates = [raw for raw in templates if raw["unit_id"] in self.copies]
        self.random = random.Random(7)
        self.serial = 0

    def publish(self, unit_id: str, family: str, state: dict[str, Any]) -> None:
        _, value = record.encode(unit_id, family, state_view(family, state), as_of="2024-11-12T00:00:00+00:00")
        self.gateway.setdefault(unit_id, {})[family] = record.decode(value).state

    def arrive(self, n: int, now: datetime) -> set[str]:
        """``n`` events stamped up to a tick before ``now``, folded and published; the units they touched."""
        touched: set[str] = set()
        changed: set[tuple[str, str]] = set()
        for _ in range(n):
            template = self.random.choice(self.templates)
            unit_id = self.random.choice(self.copies[template["unit_id"]])
            suffix = "-" + unit_id.rpartition("-")[2]
            self.serial += 1
            raw = {**template, "event_id": f"b{self.serial}", "unit_id": unit_id}
            raw["occurred_at"] = (now - timedelta(seconds=self.random.random() * 0.25)).isoformat()
            if "walker_id" in raw:
                raw["walker_id"] += suffix
            if "to_unit_ids" in raw:
                raw.pop("expected_end", None)
            event = parse_event(raw)
            state = self.worker[unit_id].setdefault(event.family, new_state(event.family))
            apply_event(event.family, state, event, now=now)
            changed.add((unit_id, event.family))
            touched.add(unit_id)
        for unit_id, family in changed:  # one record per changed (unit, family) per batch, as the worker sends
            self.publish(unit_id, family, self.worker[unit_id][family])
        return touched


def ms(seconds: list[float], q: float) -> float:
    ordered = sorted(seconds)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def run(
    org: OrgRegistry, rules: HealthRules, alerts: AlertRules, units: int, args: argparse.Namespace, base: Any
) -> None:
    states, templates, end = base
    big = generated_registry(org, units)
    feed = Feed(org, big, states, templates)
    now = end
    picture = IncrementalPicture(org=big, rules=rules)
    picture.advance(feed.gateway, now, touched=None)
    picture.take_changed()
    last_new = picture.flat()
    last_full = flatten(build_situation(feed.gateway, org=big, rules=rules, now=now))
    per_tick = round(args.rate * args.tick)
    ticks = round(args.seconds / args.tick)
    full_times: list[float] = []
    new_times: list[float] = []
    touched_counts: list[int] = []
    computed: list[int] = []
    changed_counts: list[int] = []
    alert_all: list[float] = []
    alert_reuse: list[float] = []
    checked = Checked()
    open_alerts: dict[int, OpenAlert] = {}  # as the store keeps them: raised, resolved, escalated
    keep_open(open_alerts, evaluate(last_new, [], now, alerts, checked))
    deflater = Deflater()
    for tick in range(ticks):
        now += timedelta(seconds=args.tick)
        touched = feed.arrive(per_tick, now)
        touched_counts.append(len(touched))
        start = time.process_time()
        picture.advance(feed.gateway, now, touched=touched)
        changed = diff(last_new, picture.take_changed())
        last_new = {kind: {**last_new.get(kind, {}), **objects} for kind, objects in changed.items()}
        new_times.append(time.process_time() - start)
        computed.append(picture.computed[0])
        changed_counts.append(len(changed["units"]))
        start = time.process_time()
        everything = evaluate(last_new, list(open_alerts.values()), now, alerts)
        alert_all.append(time.process_time() - start)
        start = time.process_time()
        reused = evaluate(last_new, list(open_alerts.values()), now, alerts, checked)
        alert_reuse.append(time.process_time() - start)
        assert reused == everything
        keep_open(open_alerts, reused)
        if args.deflate:
            deflater.message(f'{{"type":"delta","seq":{tick + 1},{encode(delta_fields(changed))[1:]}')
        if tick % args.full_every == 0:
            start = time.process_time()
            current = flatten(build_situation(feed.gateway, org=big, rules=rules, now=now))
            diff(last_full, current)
            last_full = current
            full_times.append(time.process_time() - start)
    mean = statistics.fmean
    counts = f"touched {mean(touched_counts):6.1f}  computed {mean(computed):6.1f}  changed {mean(changed_counts):6.1f}"
    full = f"full p50 {ms(full_times, 0.5):7.1f} p95 {ms(full_times, 0.95):7.1f}"
    incremental = f"incremental p50 {ms(new_times, 0.5):6.1f} p95 {ms(new_times, 0.95):6.1f} max {ms(new_times, 1):.1f}"
    print(f"{units:>6} units {per_tick:>4} events/tick  {counts} units/tick | {full} ms | {incremental} ms", flush=True)
    print(
        f"{'':>13}alert round: every node checked p50 {ms(alert_all, 0.5):6.1f} p95 {ms(alert_all, 0.95):6.1f} ms | "
        f"changed nodes checked p50 {ms(alert_reuse, 0.5):6.1f} p95 {ms(alert_reuse, 0.95):6.1f} ms",
        flush=True,
    )
    if args.deflate:
        seconds = ticks * args.tick
        snapshot = Deflater()
        snapshot.message(encode({"type": "snapshot", "seq": 1, "situation": picture.situation(), "alerts": []}))
        print(
            f"{'':>13}WebSocket per client: deltas {deflater.raw / 1024 / seconds:7.1f} KiB/s plain, "
            f"{deflater.packed / 1024 / seconds:6.1f} KiB/s deflated, deflate CPU {deflater.cpu * 1000 / seconds:5.2f} "
            f"ms/s (x {args.clients} clients: {deflater.cpu * args.clients / seconds:5.2f} CPU s/s); snapshot "
            f"{snapshot.raw / 1024:6.0f} KiB plain, {snapshot.packed / 1024:5.0f} KiB deflated "
            f"in {snapshot.cpu * 1000:5.1f} ms",
            flush=True,
        )


def keep_open(open_alerts: dict[int, OpenAlert], transitions: list[Transition]) -> None:
    """Apply a round's transitions the way the alert store does, so the next round starts from them."""
    for transition in transitions:
        if isinstance(transition, Raise):
            alert_id = max(open_alerts, default=0) + 1
            open_alerts[alert_id] = OpenAlert(
                alert_id, transition.rule, transition.node_kind, transition.node_id, "team", transition.at, False
            )
        elif isinstance(transition, Resolve):
            open_alerts.pop(transition.alert_id, None)
        else:
            alert = open_alerts[transition.alert_id]
            open_alerts[transition.alert_id] = OpenAlert(
                alert.id, alert.rule, alert.node_kind, alert.node_id, transition.to_level, alert.raised_at, False
            )


class Deflater:
    """One connection's permessage-deflate (context takeover, window 2^15): bytes in and out, CPU spent."""

    def __init__(self) -> None:
        self.stream = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
        self.raw = self.packed = 0
        self.cpu = 0.0

    def message(self, text: str) -> None:
        data = text.encode()
        start = time.process_time()
        packed = self.stream.compress(data) + self.stream.flush(zlib.Z_SYNC_FLUSH)
        self.cpu += time.process_time() - start
        self.raw += len(data)
        self.packed += len(packed) - 4  # the flush's 00 00 ff ff is not sent (RFC 7692 7.2.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, action="append", help="registry sizes (default 40, 500, 2000)")
    parser.add_argument("--rate", type=float, default=500.0, help="events per second (default 500)")
    parser.add_argument("--tick", type=float, default=0.25, help="seconds between publishes (default 0.25)")
    parser.add_argument("--seconds", type=float, default=60.0, help="wall clock played per size (default 60)")
    parser.add_argument("--full-every", type=int, default=10, help="time the full path on every n-th tick")
    parser.add_argument(
        "--deflate", action=argparse.BooleanOptionalAction, default=False, help="weigh permessage-deflate"
    )
    parser.add_argument("--clients", type=int, default=1000, help="clients the deflate CPU is multiplied by")
    args = parser.parse_args()
    print(f"reference loop: {reference_seconds():.2f} s", flush=True)
    org = load_org()
    rules = load_rules()
    alerts = load_alert_rules()
    base = scenario(org)
    for units in args.units or [40, 500, 2000]:
        run(org, rules, alerts, units, args, base)


if __name__ == "__main__":
    main()
