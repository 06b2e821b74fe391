"""The stream worker's unit states held in memory (a Faust table per family in the worker), for the batch
processor in tests: values go through JSON as a changelog would keep them."""

from __future__ import annotations

import json
from typing import Any


class MemoryStates:
    def __init__(self) -> None:
        self.values: dict[tuple[str, str], dict[str, Any]] = {}

    def get(self, family: str, key: str) -> dict[str, Any] | None:
        return self.values.get((family, key))

    def put(self, family: str, key: str, partition: int, value: dict[str, Any]) -> None:
        self.values[(family, key)] = json.loads(json.dumps(value))
