"""The cyclic garbage collector as the long-running processes (API, stream worker) run it.

CPython collects its youngest generation every 700 new container objects (thresholds 700, 10, 10). The gateway's
picture of 2,000 units is hundreds of thousands of small dicts, and each publish builds thousands more, so the
collector ran many times a second and now and then walked the whole heap: in ``benchmarks/picture.py --units
2000`` one tick in twenty took 150–240 ms instead of 40–70 ms, and an alert round 170 ms instead of 12 ms. Those
pauses are the tail of what a client waits for an update. Reference counting frees almost everything these
processes make; the collector only has to find cycles, which they rarely create, so it can run far less often.
The objects built at start (the registry, the rules, the app, the modules) live as long as the process and are
moved out of the collector's sight once started.
"""

from __future__ import annotations

import gc

# Youngest generation every 50,000 new containers; the middle one every 20 of those; the oldest every 10 of those
# (and, as always, only when it has grown by a quarter). Measured against others in the module docstring's benchmark.
THRESHOLDS = (50_000, 20, 10)


def tune_collector() -> None:
    """Collect less often (:data:`THRESHOLDS`): a process-wide setting, for the served processes only."""
    gc.set_threshold(*THRESHOLDS)


def freeze_what_start_built() -> None:
    """Collect once, then keep every object alive now out of later collections (``gc.freeze``): what the process
    built at start is never garbage, and a full collection then walks only what came after."""
    gc.collect()
    gc.freeze()
