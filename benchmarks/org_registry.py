"""How long the org registry takes to load and validate (a benchmark, not a test).

Prints, for the shipped default (40 units) and the whole region (``region_org.yaml``, 1,500+ units), the
median time of ``load_org`` (read, parse, validate, cross-check) and of the first use of its placements, the
time of one whole picture of it (``build_situation`` without events), and the YAML parser in use (libyaml's
when PyYAML has it). The goal: the whole region under a second.

    .venv/bin/python benchmarks/org_registry.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from datetime import UTC, datetime  # noqa: E402

import yaml  # noqa: E402
from pydantic_core import to_json  # noqa: E402

from hypercare.org.registry import load_org  # noqa: E402
from hypercare.situation.health import load_rules  # noqa: E402
from hypercare.situation.rollup import build_situation  # noqa: E402


def main() -> None:
    print(f"YAML parser: {'libyaml (CSafeLoader)' if getattr(yaml, '__with_libyaml__', False) else 'pure Python'}")
    for filename, repeat in (("default_org.yaml", 50), ("region_org.yaml", 10)):
        loads, places = [], []
        units = 0
        for _ in range(repeat):
            start = time.perf_counter()
            org = load_org(filename=filename)
            loaded = time.perf_counter()
            units = len(org.placements)
            loads.append(loaded - start)
            places.append(time.perf_counter() - loaded)
        print(
            f"{filename}: {units} units, {len(org.waves)} waves, {len(org.administrations)} organisations: "
            f"load_org {statistics.median(loads) * 1000:.0f} ms (median of {repeat}, max "
            f"{max(loads) * 1000:.0f} ms), placements {statistics.median(places) * 1000:.1f} ms"
        )
        rules, builds = load_rules(), []
        for _ in range(5):
            start = time.perf_counter()
            picture = build_situation({}, org=org, rules=rules, now=datetime.now(UTC))
            builds.append(time.perf_counter() - start)
        print(
            f"  a picture of it without events: build_situation {statistics.median(builds) * 1000:.0f} ms "
            f"(median of 5), {len(to_json(picture)) / 1024:.0f} KiB of JSON"
        )


if __name__ == "__main__":
    main()
