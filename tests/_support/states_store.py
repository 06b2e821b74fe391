"""What the gateway hub reads of a SituationStore, held in memory: unit states, a change signal, "what changed".

Tests change the states in place, so the store cannot name the units touched: ``take_touched`` answers None
("unknown"), and the hub computes every unit again.
"""

from __future__ import annotations

import asyncio
from typing import Any

States = dict[str, dict[str, dict[str, Any]]]


class StatesStore:
    def __init__(self, unit_states: States | None = None) -> None:
        self.unit_states: States = unit_states if unit_states is not None else {}
        self.changed = asyncio.Event()

    def take_touched(self) -> set[str] | None:
        return None
