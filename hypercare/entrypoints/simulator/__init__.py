"""Built-in cut-over traffic generator (``hypercare simulate``, ``hypercare up --simulate``).

:mod:`.scenario` generates a seeded, repeatable go-live day as contract-v1 events;
:mod:`.runner` paces it against the wall clock and posts it to the ingest API;
:mod:`.command` is the CLI entry point.
"""

from hypercare.entrypoints.simulator.scenario import GO_LIVE_START, CutoverScenario

__all__ = ["GO_LIVE_START", "CutoverScenario"]
