"""Cost of the read side's shapes per picture (a benchmark, not a test).

Prints, for the shipped registry (40 units) and for it copied 50 times (2,000 units, ``generated_org.py``),
with unit states from 8 hours of the seeded go-live scenario: building the picture (``build_situation``),
validating it against the read models (what routing every tick through pydantic would add), encoding it for
``GET /api/v1/situation`` (FastAPI's default for a ``dict[str, Any]`` route, validation through
``response_model=Situation``, and the route's direct pydantic-core encoding), and encoding/decoding the
situation-topic records of one batch.

    .venv/bin/python benchmarks/read_side.py
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "_support"))

from generated_org import copies  # noqa: E402
from pydantic import TypeAdapter  # noqa: E402
from pydantic_core import to_json  # noqa: E402
from realistic_states import realistic_unit_states  # noqa: E402

from hypercare.org.registry import load_org  # noqa: E402
from hypercare.situation import record  # noqa: E402
from hypercare.situation.health import load_rules  # noqa: E402
from hypercare.situation.rollup import build_situation  # noqa: E402
from hypercare.situation.views import Situation  # noqa: E402


def ms(work: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def old_record(unit_id: str, family: str, as_of: str, state: dict[str, Any]) -> tuple[bytes, bytes]:
    """What streams/app.py built before hypercare.situation.record."""

    def j(value: Any) -> bytes:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()

    key = j(unit_id)
    return key, b'{"unit_id":' + key + b',"family":' + j(family) + b',"as_of":' + j(as_of) + b',"state":' + j(
        state
    ) + b"}"


def main() -> None:
    org = load_org()
    rules = load_rules()
    states, now = realistic_unit_states(org)
    as_of = now.isoformat()
    any_dict: TypeAdapter[dict[str, Any]] = TypeAdapter(dict[str, Any])
    situation_model: TypeAdapter[Situation] = TypeAdapter(Situation)
    for label, (registry, unit_states), repeat in (
        ("40 units", (org, states), 200),
        ("2,000 units", copies(org, states, 50), 10),
    ):
        built = build_situation(unit_states, org=registry, rules=rules, now=now)
        picture = {"as_of": built["as_of"], "seq": 1, **{k: v for k, v in built.items() if k != "as_of"}}
        views = [(u, family, state) for u, families in unit_states.items() for family, state in families.items()]
        old = [old_record(u, f, as_of, s) for u, f, s in views]
        print(f"{label}: a picture of {len(to_json(picture)) / 1024:.0f} KiB of JSON")
        n = len(views)

        def encode_old(v: list[tuple[str, str, Any]] = views) -> Any:
            return [old_record(u, f, as_of, s) for u, f, s in v]

        def encode_new(v: list[tuple[str, str, Any]] = views) -> Any:
            return [record.encode(u, f, s, as_of=as_of) for u, f, s in v]

        def decode_old(o: list[tuple[bytes, bytes]] = old) -> Any:
            return [json.loads(value)["state"] for _, value in o]

        def decode_new(o: list[tuple[bytes, bytes]] = old) -> Any:
            return [record.decode(value) for _, value in o]

        def rest_before(p: dict[str, Any] = picture) -> Any:
            return any_dict.dump_json(any_dict.validate_python(p))

        def rest_validated(p: dict[str, Any] = picture) -> Any:
            return situation_model.dump_json(situation_model.validate_python(p))

        rows: list[tuple[str, Callable[[], Any]]] = [
            (
                "build_situation (the hub's tick)",
                partial(build_situation, unit_states, org=registry, rules=rules, now=now),
            ),
            ("Situation.model_validate (not done per tick)", partial(Situation.model_validate, picture)),
            ("REST before: dict[str, Any] validate + dump", rest_before),
            ("REST with response_model validation", rest_validated),
            ("REST now: to_json of the dict", partial(to_json, picture)),
            (f"{n} records: encode before (json, by hand)", encode_old),
            (f"{n} records: encode now (record.encode)", encode_new),
            (f"{n} records: decode before (json.loads)", decode_old),
            (f"{n} records: decode now (record.decode)", decode_new),
        ]
        for name, work in rows:
            print(f"  {name:<48} {ms(work, repeat):8.2f} ms")


if __name__ == "__main__":
    main()
