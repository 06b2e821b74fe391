"""How we change Faust's classes: one install mechanism, and the list of what is patched and why.

Faust (faust-streaming 0.15.3) offers no hooks for what the worker needs, so three modules wrap methods
of its consumer classes for the whole process (STACK_NOTES.md explains the broker quirks):

- ``AIOKafkaConsumerThread._highwaters`` (``streams.tansu_compat``): table recovery reads the end of a
  changelog from a fetch's high watermark, since Tansu answers ListOffsets with too low an end.
- ``AIOKafkaConsumerThread._create_worker_consumer`` (``streams.tansu_compat``): the worker's consumer
  fetches with a short wait instead of Faust's fixed 1,500 ms (Tansu answers an empty fetch only then).
- ``Consumer.seek`` and ``Consumer.perform_seek`` (``streams.offset_guard``): every seek resets the
  offsets due per event-topic partition, so a record fetched or processed past them is caught.
- ``Consumer._wait_next_records`` (``streams.record_feed``): event-topic records go from each fetch
  to the batch loop, past Faust's per-message path, checked by the offset guard on the way.
- ``Consumer.wait_empty`` (``streams.record_feed``): a rebalance or stop waits for the batch in
  progress and commits what it handled.

Each module declares its wrappers as :class:`Patch` values (``PATCHES``) and hands them to :func:`install`.
Installing is idempotent: a method is wrapped once per process, whatever the number of apps created, and its
original is kept (:func:`original`). A wrapper receives the original and returns the replacement, so it can
call through. Wrapping a method a second time with a different wrapper is refused: two modules patching
the same method would depend on their install order.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Patch:
    """``target.name`` becomes ``wrap(original)``; ``why`` says what Faust gets wrong without it."""

    target: type
    name: str
    wrap: Callable[[Any], Any]
    why: str

    @property
    def label(self) -> str:
        return f"{self.target.__name__}.{self.name}"


@dataclass(frozen=True)
class _Applied:
    patch: Patch
    original: Any


_applied: dict[tuple[type, str], _Applied] = {}


def install(*patches: Patch) -> None:
    """Wrap each patch's method unless this process already did (idempotent; the originals are kept)."""
    for patch in patches:
        key = (patch.target, patch.name)
        done = _applied.get(key)
        if done is not None:
            if done.patch.wrap is not patch.wrap:
                raise RuntimeError(f"{patch.label} is already wrapped by {done.patch.wrap.__module__}")
            continue
        original = getattr(patch.target, patch.name)
        setattr(patch.target, patch.name, patch.wrap(original))
        _applied[key] = _Applied(patch=patch, original=original)
        log.debug("Faust patched: %s (%s): %s", patch.label, patch.wrap.__module__, patch.why)


def original(target: type, name: str) -> Any:
    """The method as it was before :func:`install` wrapped it."""
    return _applied[(target, name)].original


def installed() -> list[Patch]:
    """The patches installed in this process, in install order."""
    return [applied.patch for applied in _applied.values()]


__all__ = ["Patch", "install", "installed", "original"]
