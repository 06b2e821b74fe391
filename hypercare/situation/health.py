"""Health rules: green/yellow/red with reasons, from a readable YAML file.

The file (``hypercare/rules/default_rules.yaml`` unless ``HYPERCARE_RULES_FILE`` names another)
is parsed into pydantic models that forbid unknown keys, and every metric name is checked at load
time, so a typo fails at start-up with a message naming the rule, never silently at read time.
The top-level model holds one field per section; later sections (stop criteria) are added as
fields of :class:`HealthRules`. The ``alerts`` and ``stop_criteria`` sections are only checked for their
shape here; ``hypercare.rules.alerts`` and ``hypercare.rules.stop_criteria`` parse them, and
:func:`hypercare.rules.file.load_rules_file` reads the file once for all three. Errors name the file and
the line (``hypercare.rules.loader``).

A rule triggers when its metric is at or beyond a threshold (``value >= yellow`` with the
default direction ``above``); the status is the worst triggered level. A metric that has no value
(for example ``ed.occupancy`` of a unit without an ED report) never triggers.

A rule with a ``volume`` (its own, or its ``threshold:``'s from the ``thresholds:`` section,
:mod:`hypercare.rules.thresholds`) judges its figure only from that volume on; below it the figure is
*not assessed* and listed in ``health.not_assessed`` with its n. An object where nothing triggered and
every volume-gated figure is below its volume is ``not_assessed`` (grey), never green: 50 % of 2 logins
says nothing yet.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from hypercare.contract.events import TICKET_CATEGORIES
from hypercare.rules import thresholds as shared
from hypercare.rules.loader import Naming, RulesError, Source, as_source, read_rules_yaml, validate
from hypercare.rules.validators import NODE_LEVELS, NodeLevel, Number, RuleId, unique_ids

Level = NodeLevel
LEVELS: tuple[str, ...] = NODE_LEVELS
Status = Literal["green", "yellow", "red", "not_assessed"]
STATUSES: tuple[str, ...] = ("green", "yellow", "red", "not_assessed")
COLOURS: tuple[str, ...] = ("green", "yellow", "red")  # the triggered levels, by severity
NOT_ASSESSED = "not_assessed"
_SEVERITY = {"green": 0, "yellow": 1, "red": 2}
Value = int | float

# --- the metric catalogue (documented for users in default_rules.yaml) ---------------------------

_BLOCK_METRICS = frozenset(
    {
        "tickets.open",
        "tickets.opened_1h",
        "tickets.resolved_1h",
        "tickets.oldest_open_minutes",
        "tickets.patient_safety_open",
        "tickets.median_minutes_to_resolve_24h",
        "tickets.resolutions_24h",
        "access.logins_15m",
        "access.login_failures_15m",
        "access.login_failure_rate_15m",
        "access.distinct_users_failing_15m",
        "access.locked_accounts_1h",
        "access.permission_denied_1h",
        "floorwalkers.on_unit",
        "floorwalkers.minutes_since_last_visit",
        "floorwalkers.open_escalations",
        "floorwalkers.assists_1h",
        "floorwalkers.units_never_visited",
        "floorwalkers.units_total",
        "floorwalkers.minutes_without_visit",
        "floorwalkers.longest_minutes_without_visit",
        "ed.status.patients_waiting",
        "ed.status.patients_in_department",
        "ed.status.capacity",
        "ed.status.longest_wait_minutes",
        "ed.status.minutes_since_report",
        "ed.status.reporting_units",
    }
)
# Dict-valued fields: a key that is absent means zero.
_MAP_METRICS: dict[str, Callable[[str], bool]] = {
    "tickets.open_by_priority": lambda key: key in ("1", "2", "3", "4"),
    "tickets.open_by_category": lambda key: key in TICKET_CATEGORIES,
    "access.permission_denied_1h_by_role": lambda key: re.fullmatch(r"[a-z_]{1,40}", key) is not None,
    "floorwalkers.assists_by_category_1h": lambda key: key in TICKET_CATEGORIES,
}
_ROLLUP_ONLY_PREFIXES = ("children.", "units.")
_ROLLUP_ONLY = frozenset(
    {
        "floorwalkers.units_never_visited",
        "floorwalkers.units_total",
        "floorwalkers.longest_minutes_without_visit",
        "ed.status.reporting_units",
    }
)


# ``dict`` first: blocks are dicts, and an exact-type check spares the abstract class's slower one.
_MAPPING = (dict, Mapping)


class MetricContext:
    """What a metric can be computed from: the object's blocks and, for roll-ups, the children's health."""

    __slots__ = ("children", "obj", "units")

    def __init__(
        self, obj: Mapping[str, Any], children: Sequence[str] | None = None, units: Sequence[str] | None = None
    ) -> None:
        self.obj = obj
        self.children = children
        self.units = units


def _ed_status(ctx: MetricContext) -> Mapping[str, Any] | None:
    ed = ctx.obj.get("ed")
    status = ed.get("status") if isinstance(ed, _MAPPING) else None
    return status if isinstance(status, _MAPPING) and status.get("capacity") else None


def _ratio(numerator: Callable[[Mapping[str, Any]], int]) -> Callable[[MetricContext], Value | None]:
    def metric(ctx: MetricContext) -> Value | None:
        status = _ed_status(ctx)
        return None if status is None else round(numerator(status) / status["capacity"], 4)

    return metric


def _diversions(ctx: MetricContext) -> int:
    ed = ctx.obj.get("ed")
    if not isinstance(ed, _MAPPING):
        return 0
    active = ed.get("active_diversions")
    if isinstance(active, list):
        return len(active)
    return 1 if ed.get("diversion") else 0


def _never_visited(ctx: MetricContext) -> Value | None:
    block = ctx.obj.get("floorwalkers")
    if not isinstance(block, _MAPPING):
        return None
    return 1 if block.get("minutes_since_last_visit") is None else 0


def _health_counts(
    pick: Callable[[MetricContext], Sequence[str] | None], what: str
) -> Callable[[MetricContext], Value | None]:
    def metric(ctx: MetricContext) -> Value | None:
        statuses = pick(ctx)
        if statuses is None:
            return None
        total = len(statuses)
        if what == "total":
            return total
        # list.count, not a generator: the region's statuses are every unit's, judged whenever one changes.
        if what in STATUSES:
            return statuses.count(what)
        if not total:
            return 0.0
        if what == "red_share":
            return round(statuses.count("red") / total, 4)
        return round((statuses.count("yellow") + statuses.count("red")) / total, 4)  # not_green_share

    return metric


_DERIVED: dict[str, Callable[[MetricContext], Value | None]] = {
    "ed.diversion_active": lambda ctx: 1 if _diversions(ctx) else 0,
    "ed.active_diversion_count": _diversions,
    "ed.occupancy": _ratio(lambda s: s["patients_in_department"]),
    "ed.load": _ratio(lambda s: s["patients_in_department"] + s["patients_waiting"]),
    "ed.waiting_over_capacity": _ratio(lambda s: s["patients_waiting"]),
    "floorwalkers.never_visited": _never_visited,
}
for _scope, _pick in (("children", lambda ctx: ctx.children), ("units", lambda ctx: ctx.units)):
    for _what in ("red", "yellow", "green", "not_assessed", "total", "red_share", "not_green_share"):
        _DERIVED[f"{_scope}.{_what}"] = _health_counts(_pick, _what)


def known_metric(path: str) -> bool:
    if path in _BLOCK_METRICS or path in _DERIVED:
        return True
    parent, _, key = path.rpartition(".")
    check = _MAP_METRICS.get(parent)
    return check is not None and check(key)


_PARTS: dict[str, tuple[str, ...]] = {}  # metric path -> its parts, split once (paths come from the rules file)


def metric_value(path: str, ctx: MetricContext) -> Value | None:
    """The value of a metric for one object; ``None`` when it has none (the rule is then skipped)."""
    derived = _DERIVED.get(path)
    if derived is not None:
        return derived(ctx)
    node: Any = ctx.obj
    parts = _PARTS.get(path)
    if parts is None:
        parts = _PARTS[path] = tuple(path.split("."))
    for index, part in enumerate(parts):
        if not isinstance(node, _MAPPING):
            return None
        if part not in node:
            return 0 if ".".join(parts[:index]) in _MAP_METRICS else None
        node = node[part]
    if isinstance(node, bool):
        return int(node)
    return node if isinstance(node, (int, float)) else None


# --- the file format ----------------------------------------------------------------------------

_PLACEHOLDERS = frozenset({"value", "threshold", "level"})


def _check_metric(path: str) -> str:
    if not known_metric(path):
        raise ValueError(
            f"unknown metric {path!r}; use a dotted path into a block (e.g. access.logins_15m, "
            "tickets.open_by_priority.1) or a derived metric listed in default_rules.yaml"
        )
    return path


Metric = Annotated[str, AfterValidator(_check_metric)]


class Condition(BaseModel):
    """``only_when``: the rule is evaluated only while another metric is within these bounds."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    metric: Metric
    at_least: Number | None = None
    at_most: Number | None = None

    @model_validator(mode="after")
    def _has_bound(self) -> Condition:
        if self.at_least is None and self.at_most is None:
            raise ValueError("only_when needs at_least and/or at_most")
        return self

    def holds(self, ctx: MetricContext) -> bool:
        value = metric_value(self.metric, ctx)
        if value is None:
            return False
        if self.at_least is not None and value < self.at_least:
            return False
        return self.at_most is None or value <= self.at_most


class HealthRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: RuleId
    levels: list[Level] = Field(min_length=1)
    # ``threshold: ID`` takes metric, volume, yellow and red from the thresholds section (one source for
    # health, alerts and stop criteria); a rule names either a threshold or its own numbers.
    threshold: RuleId | None = None
    metric: Metric
    direction: Literal["above", "below"] = "above"
    yellow: Number | None = None
    red: Number | None = None
    only_when: list[Condition] = Field(default_factory=list)
    # Below this volume the figure is not assessed (grey, with its n), never green.
    volume: Condition | None = None
    reason: str = Field(min_length=1, max_length=300)
    # Filled from the threshold's phases (other limits in the first hours after go-live); not written here.
    phases: tuple[shared.Phase, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _from_threshold(cls, data: Any, info: ValidationInfo) -> Any:
        if not isinstance(data, Mapping):
            return data
        if data.get("threshold") is None:
            if "phases" in data:
                raise ValueError("phases belong to an entry of thresholds:; name it with 'threshold'")
            return data
        threshold = shared.resolve(shared.from_context(info.context), str(data["threshold"]))
        written = [key for key in ("metric", "yellow", "red", "volume", "direction", "phases") if key in data]
        if written:
            raise ValueError(
                f"{', '.join(written)} come{'s' if len(written) == 1 else ''} from threshold {threshold.id!r}; "
                "remove it here or drop 'threshold'"
            )
        filled: dict[str, Any] = {
            **data,
            "metric": threshold.metric,
            "red": threshold.red,
            "phases": tuple(threshold.phases),
        }
        if threshold.yellow is not None:
            filled["yellow"] = threshold.yellow
        if threshold.volume is not None:
            filled["volume"] = {"metric": threshold.volume.metric, "at_least": threshold.volume.at_least}
        return filled

    @field_validator("volume")
    @classmethod
    def _volume_is_a_minimum(cls, value: Condition | None) -> Condition | None:
        if value is not None and (value.at_least is None or value.at_most is not None):
            raise ValueError("volume takes {metric: ..., at_least: n} (the minimum volume)")
        return value

    @field_validator("only_when", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, Mapping) else value

    @field_validator("reason")
    @classmethod
    def _reason_formats(cls, value: str) -> str:
        try:
            names = {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}
        except ValueError as error:
            raise ValueError(f"reason is not a valid format string: {error}") from None
        unknown = {name.split(".")[0].split("[")[0] for name in names} - _PLACEHOLDERS
        if unknown or "" in names:
            raise ValueError(
                f"reason may only use the placeholders {{value}}, {{threshold}}, {{level}} (got {sorted(names)})"
            )
        for sample in (1, 0.5):
            try:
                value.format(value=sample, threshold=sample, level="yellow")
            except (ValueError, TypeError, KeyError, IndexError) as error:
                raise ValueError(
                    f"reason cannot be formatted with value={sample!r}: {error} "
                    "(values may be whole or decimal numbers: use {value}, {value:.0f}, {value:.0%})"
                ) from None
        return value

    @model_validator(mode="after")
    def _consistent(self) -> HealthRule:
        if self.yellow is None and self.red is None:
            raise ValueError("needs a yellow and/or a red threshold")
        if (
            self.yellow is not None
            and self.red is not None
            and (
                (self.direction == "above" and self.red < self.yellow)
                or (self.direction == "below" and self.red > self.yellow)
            )
        ):
            raise ValueError(f"red must be {'at or above' if self.direction == 'above' else 'at or below'} yellow")
        metrics = [self.metric, *(c.metric for c in self.only_when), *([self.volume.metric] if self.volume else [])]
        unit_only = [m for m in metrics if m.startswith(_ROLLUP_ONLY_PREFIXES) or m in _ROLLUP_ONLY]
        if unit_only and "unit" in self.levels:
            raise ValueError(f"{unit_only[0]} exists only for roll-ups; remove 'unit' from levels")
        return self

    def limits(self, hours: float | None) -> shared.Limits:
        """The limits ``hours`` after go-live (the threshold's phase, else the rule's own numbers)."""
        minimum = self.volume.at_least if self.volume is not None else None
        return shared.limits_at(self.phases, hours, yellow=self.yellow, red=self.red, min_volume=minimum)

    def judge(self, value: Value, limits: shared.Limits | None = None) -> tuple[str, Value] | None:
        """The triggered level and its threshold, or None (``limits``: a phase's; the rule's own when None)."""
        yellow, red = (self.yellow, self.red) if limits is None else (limits.yellow, limits.red)
        above = self.direction == "above"  # compared inline: every rule of every object computed is judged
        if red is not None and (value >= red if above else value <= red):
            return "red", red
        if yellow is not None and (value >= yellow if above else value <= yellow):
            return "yellow", yellow
        return None

    def describe(self, value: Value, threshold: Value, level: str, phase: shared.Phase | None = None) -> str:
        try:
            text = self.reason.format(value=value, threshold=threshold, level=level)
        except (ValueError, TypeError, KeyError, IndexError):
            text = f"{self.id}: {value}"
        return text if phase is None else f"{text} (gräns för fas {phase.label})"


class HealthRules(BaseModel):
    """The parsed rules file. One field per section; ``version`` guards the format."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    version: Literal[1]
    # Parsed by hypercare.rules.thresholds (health rules refer to it); only its shape is checked here.
    thresholds: list[Any] | None = None
    health: list[HealthRule] = Field(default_factory=list)
    # Parsed by hypercare.rules.alerts; only its shape is checked here.
    alerts: dict[str, Any] | None = None
    # Parsed by hypercare.rules.stop_criteria, likewise.
    stop_criteria: list[Any] | None = None
    # Parsed by hypercare.rules.readiness, likewise.
    readiness: list[Any] | None = None
    # Parsed by hypercare.rules.exit_criteria, likewise.
    exit_criteria: list[Any] | None = None

    @field_validator("health")
    @classmethod
    def _unique_ids(cls, rules: list[HealthRule]) -> list[HealthRule]:
        unique_ids((rule.id for rule in rules), "health rule")
        return rules

    @cached_property
    def by_level(self) -> dict[str, tuple[HealthRule, ...]]:
        return {level: tuple(r for r in self.health if level in r.levels) for level in LEVELS}

    @cached_property
    def phase_sets(self) -> tuple[tuple[shared.Phase, ...], ...]:
        """The distinct phase lists of the rules' thresholds (one per threshold with phases)."""
        return tuple(dict.fromkeys(rule.phases for rule in self.health if rule.phases))

    @cached_property
    def phase_bounds(self) -> tuple[float, ...]:
        """Every hour since go-live at which some rule's limits change, ascending."""
        return tuple(sorted({bound for phases in self.phase_sets for bound in shared.phase_bounds(phases)}))

    def phases_in_force(self, hours: float | None) -> list[str]:
        """The phase ids in force ``hours`` after go-live, over every threshold the rules use (any level)."""
        found = {phase.id for phases in self.phase_sets if (phase := shared.phase_at(phases, hours)) is not None}
        return sorted(found)


NAMING = Naming(items=("health",), noun="health rule")


def parse_rules(
    data: Any, *, origin: str | Source = "<rules>", thresholds: shared.Thresholds | None = None
) -> HealthRules:
    """The whole rules document; ``origin`` is a name for messages or, from a file, its :class:`Source`.

    ``thresholds`` are the document's (read here, the shipped ones when it has none, unless given).
    """
    source = as_source(origin)
    if not isinstance(data, Mapping):
        raise RulesError(f"{source.where(())}: the rules file must be a mapping with 'version' and 'health'")
    if thresholds is None:
        thresholds = shared.document_thresholds(data, source)
    return validate(HealthRules, data, source, NAMING, error=RulesError, context=shared.context(thresholds))


def load_rules(path: Path | None = None) -> HealthRules:
    """Rules from ``path``, or the shipped default when ``path`` is None."""
    data, source = read_rules_yaml(path)
    return parse_rules(data, origin=source)


# --- evaluation ---------------------------------------------------------------------------------


def evaluate(
    rules: HealthRules,
    level: str,
    obj: Mapping[str, Any],
    *,
    children: Sequence[str] | None = None,
    units: Sequence[str] | None = None,
    hours_since_go_live: float | None = None,
) -> dict[str, Any]:
    """``{"status", "reasons", "reason_codes", "not_assessed"}`` of one object; red reasons first, then file order.

    ``not_assessed`` lists the volume-gated figures below their volume (rule, metric, n, the minimum); the
    status is ``not_assessed`` when nothing triggered and no volume-gated figure could be judged.
    ``hours_since_go_live`` picks a threshold's phase (:func:`hypercare.rules.thresholds.limits_at`); a hit
    judged by a phase's limit carries ``phase`` in its code (else null) and says so in its reason, and ``phases``
    lists the phases in force at these hours (over the whole rules file, so an
    object's health changes whenever a phase ends, and the roll-ups above it are judged again).
    """
    ctx = MetricContext(obj, children, units)
    hits: list[tuple[int, int, str, dict[str, Any]]] = []
    pending: list[dict[str, Any]] = []
    judged_by_volume = False
    for order, rule in enumerate(rules.by_level.get(level, ())):
        limits = rule.limits(hours_since_go_live) if rule.phases else None
        value = metric_value(rule.metric, ctx)
        if value is None or (rule.only_when and not all(condition.holds(ctx) for condition in rule.only_when)):
            continue
        if rule.volume is not None:
            volume = metric_value(rule.volume.metric, ctx) or 0
            minimum = rule.volume.at_least if limits is None else limits.min_volume
            if minimum is not None and volume < minimum:
                pending.append(
                    {
                        "rule": rule.id,
                        "metric": rule.metric,
                        "volume_metric": rule.volume.metric,
                        "n": volume,
                        "min": minimum,
                    }
                )
                continue
            judged_by_volume = True
        verdict = rule.judge(value, limits)
        if verdict is None:
            continue
        status, threshold = verdict
        phase = limits.phase if limits is not None else None
        code = {
            "rule": rule.id,
            "level": status,
            "value": value,
            "threshold": threshold,
            "phase": None if phase is None else phase.id,
        }
        hits.append((-_SEVERITY[status], order, rule.describe(value, threshold, status, phase), code))
    hits.sort(key=lambda hit: (hit[0], hit[1]))
    if hits:
        status = COLOURS[-hits[0][0]]
    elif pending and not judged_by_volume:
        status = NOT_ASSESSED
    else:
        status = "green"
    return {
        "status": status,
        "reasons": [hit[2] for hit in hits],
        "reason_codes": [hit[3] for hit in hits],
        "not_assessed": pending,
        "phases": rules.phases_in_force(hours_since_go_live) if rules.phase_sets else [],
    }
