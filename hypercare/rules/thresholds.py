"""The ``thresholds:`` section of the rules file: minimum volumes and rate limits, written once.

Health, alerts and stop criteria used to carry their own copies of the same line (health turned red from
10 logins, the login alert needed 40, the stop criterion 50), so the console could show a red region and no
alert. A threshold names a figure, the volume it needs before it can be judged and its yellow and red
limits; a health rule, an alert rule and a stop criterion refer to it by id (``threshold: login_failure_rate``)
and read the same numbers:

- below the minimum volume the figure is *not assessed* ("ej bedömt"; never green), everywhere;
- health: yellow from ``yellow``, red from ``red`` (the limit itself counts);
- alerts: raised from ``red``, so a red figure is an alert;
- stop criteria: exceeded ("Överskriden – stopp") from ``red``.

A threshold may carry ``phases``: other limits while the node is young, e.g. ``first_72h`` (hours since
go-live below 72) with its own yellow, red or volume; what a phase leaves out is the threshold's own (the
"normal") value. :func:`limits_at` picks the limits for a node's hours since go-live, and health, alerts and
stop criteria all ask it, so they change phase at the same hour. A node before its go-live (or without one)
has the normal limits. A roll-up's hours count from the earliest go-live among the live units below it, so
it is in a phase only while every live unit below it is.

A custom rules file without the section gets the shipped thresholds (older files keep loading; their own
inline numbers still work where no ``threshold:`` is named).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache, cached_property
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from hypercare.rules.loader import Naming, RulesError, Source, as_source, read_rules_yaml, rules_section, validate
from hypercare.rules.validators import Number, RuleId, unique_ids

# A dotted metric path; health checks it against its catalogue when it resolves a reference.
MetricPath = Annotated[str, Field(pattern=r"^[a-z0-9_]+(\.[a-z0-9_]+)+$")]


class Volume(BaseModel):
    """The figure that says how much a value stands on (``access.logins_15m`` behind a failure rate)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    metric: MetricPath
    at_least: Number = Field(gt=0)


class Phase(BaseModel):
    """Limits that hold while the node's hours since go-live are below ``hours_below`` (``first_72h``: 72)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: RuleId
    hours_below: Number = Field(gt=0)
    title: str | None = Field(default=None, min_length=1, max_length=80)
    volume: Volume | None = None
    yellow: Number | None = None
    red: Number | None = None

    @model_validator(mode="after")
    def _changes_something(self) -> Phase:
        if self.volume is None and self.yellow is None and self.red is None:
            raise ValueError("a phase needs its own yellow, red and/or volume")
        return self

    @property
    def label(self) -> str:
        """How reasons name the phase (Swedish): its title, else its id."""
        return self.title or self.id


@dataclass(frozen=True)
class Limits:
    """The limits that apply at one node: the phase's (``phase`` its id) or the normal ones (``phase`` None)."""

    phase: Phase | None
    yellow: float | None
    red: float | None
    min_volume: float | None


def phase_at(phases: Sequence[Phase], hours: float | None) -> Phase | None:
    """The phase in force ``hours`` after go-live: the one with the smallest bound above them; None when none."""
    if hours is None or hours < 0:
        return None
    holding = [phase for phase in phases if hours < phase.hours_below]
    return min(holding, key=lambda phase: phase.hours_below, default=None)


def limits_at(
    phases: Sequence[Phase],
    hours: float | None,
    *,
    yellow: float | None,
    red: float | None,
    min_volume: float | None,
) -> Limits:
    """The limits ``hours`` after go-live: the phase's where it gives them, else the normal ones.

    The one place a phase is chosen: health rules, alert rules and stop criteria that name a threshold carry
    its phases and ask this with the node's hours since go-live.
    """
    phase = phase_at(phases, hours)
    if phase is None:
        return Limits(None, yellow, red, min_volume)
    return Limits(
        phase,
        phase.yellow if phase.yellow is not None else yellow,
        phase.red if phase.red is not None else red,
        phase.volume.at_least if phase.volume is not None else min_volume,
    )


def phase_bounds(phases: Sequence[Phase]) -> tuple[float, ...]:
    """The hours since go-live at which the limits change, ascending."""
    return tuple(sorted({float(phase.hours_below) for phase in phases}))


class Threshold(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: RuleId
    metric: MetricPath
    volume: Volume | None = None
    yellow: Number | None = None
    red: Number
    phases: list[Phase] = Field(default_factory=list)

    @model_validator(mode="after")
    def _ordered(self) -> Threshold:
        if self.yellow is not None and self.red < self.yellow:
            raise ValueError("red must be at or above yellow")
        unique_ids((phase.id for phase in self.phases), "phase")
        if self.volume is None and any(phase.volume is not None for phase in self.phases):
            raise ValueError("a phase may change the volume only of a threshold that has one")
        for phase in self.phases:
            limits = limits_at([phase], 0, yellow=self.yellow, red=self.red, min_volume=None)
            if limits.yellow is not None and limits.red is not None and limits.red < limits.yellow:
                raise ValueError(f"phase {phase.id!r}: red must be at or above yellow")
        if len({phase.hours_below for phase in self.phases}) != len(self.phases):
            raise ValueError("two phases end at the same hour; give each its own hours_below")
        return self

    @property
    def min_volume(self) -> int:
        """The minimum volume as a count (0 without a volume)."""
        return 0 if self.volume is None else int(self.volume.at_least)


class Thresholds(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    thresholds: list[Threshold] = Field(default_factory=list)

    @field_validator("thresholds")
    @classmethod
    def _unique_ids(cls, thresholds: list[Threshold]) -> list[Threshold]:
        unique_ids((threshold.id for threshold in thresholds), "threshold")
        ends: dict[str, float] = {}
        for phase in (phase for threshold in thresholds for phase in threshold.phases):
            if ends.setdefault(phase.id, phase.hours_below) != phase.hours_below:
                raise ValueError(
                    f"phase {phase.id!r} ends at {ends[phase.id]:g} h in one threshold and at "
                    f"{phase.hours_below:g} h in another; one phase id is one period"
                )
        return thresholds

    @cached_property
    def by_id(self) -> dict[str, Threshold]:
        return {threshold.id: threshold for threshold in self.thresholds}


NAMING = Naming(section="thresholds", items=(), noun="threshold", wrapper="thresholds")
EMPTY = Thresholds()


def parse_thresholds(section: Any, origin: str | Source = "<rules>") -> Thresholds:
    """The ``thresholds:`` list; ``origin`` is a name for messages or, from a file, the section's :class:`Source`."""
    source = as_source(origin)
    if section is None:
        return EMPTY
    if not isinstance(section, list):
        raise RulesError(f"{source.where(())}: thresholds must be a list of thresholds")
    return validate(Thresholds, section, source, NAMING, error=RulesError)


def resolve(thresholds: Mapping[str, Threshold], threshold_id: str) -> Threshold:
    """The threshold a rule names; a ValueError (shown with the rule's line) for an unknown id."""
    found = thresholds.get(threshold_id)
    if found is None:
        known = ", ".join(sorted(thresholds)) or "none"
        raise ValueError(f"unknown threshold {threshold_id!r} (the thresholds section has: {known})")
    return found


LOGIN_RATE = "access.login_failure_rate_15m"
LOGINS = "access.logins_15m"


def login_rate(threshold: Threshold) -> Threshold:
    """``threshold`` if it is a login failure rate judged on logins (what alerts and stop criteria count)."""
    if threshold.metric != LOGIN_RATE or (threshold.volume is not None and threshold.volume.metric != LOGINS):
        raise ValueError(
            f"threshold {threshold.id!r} measures {threshold.metric}"
            f"{f' on {threshold.volume.metric}' if threshold.volume else ''}; "
            f"a login failure rate needs metric {LOGIN_RATE} (volume {LOGINS})"
        )
    return threshold


def from_context(context: Any) -> Mapping[str, Threshold]:
    """The thresholds handed to a section's validation (``model_validate(..., context=...)``)."""
    if isinstance(context, Mapping):
        found = context.get("thresholds")
        if isinstance(found, Thresholds):
            return found.by_id
    return {}


def document_thresholds(data: Any, source: Source) -> Thresholds:
    """The thresholds of a whole rules document (the shipped ones when it has no ``thresholds:``)."""
    return parse_thresholds(*rules_section(data, source, "thresholds"))


def context(thresholds: Thresholds) -> dict[str, Any]:
    """The validation context that lets a section's rules refer to ``thresholds``."""
    return {"thresholds": thresholds}


@cache
def shipped_thresholds() -> Thresholds:
    """The shipped file's thresholds: what a section parsed on its own refers to."""
    return document_thresholds(*read_rules_yaml(None))
