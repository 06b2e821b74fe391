"""A source's mapping file: how one JSON record of that source becomes contract-v1 events.

Read and checked once, at start (a mistake stops it with ``file:line: reason``)::

    version: 1
    source: servicenow                 # the name in /api/v1/sources/{source}/records and the events' ``source``
    record_key: sys_id                 # JMESPath: the record's identity
    record_version: [sys_updated_on, sys_mod_count]   # what tells one version of the record from another
    timezone: Europe/Stockholm         # what a timestamp without an offset means (DST-correct)
    pseudonymise: [caller_id, opened_by]   # record paths hidden first, before anything else sees the record
    drop: []                           # record paths removed first (kept nowhere)
    units: {table: example_units.csv}  # the unit lookup table (a path beside this file, or a shipped name)
    events:                            # each rule gives at most one event per record
      - name: opened
        type: ticket.opened            # or {from: state, map: {"1": ticket.opened, "6": ticket.resolved, ...}}
        id: record                     # event_id from the record key alone (once per record); default: version
        when: "state != '8'"           # JMESPath: only when true
        fields:
          occurred_at: {from: opened_at, as: timestamp}
          unit_id: {lookup: [{kind: location, from: location}, {kind: ci, from: cmdb_ci}]}
          priority: {from: priority, map: {"1": 1, "2": 2, "3": 3, "4": 4, "5": 4}}

A field is ``{from: JMESPath}`` or ``{value: constant}`` or ``{lookup: [...]}`` (unit ids), optionally with
``map`` (value → value; keys compared as JSON text, so ``0`` and ``"0"`` are alike; a value mapped to null leaves
the field out), ``default`` (when nothing is there or the value is not in the map), ``optional: true`` (left out
when nothing is there), ``as`` (``string``, ``integer``, ``boolean``, ``timestamp``), ``max_length`` (text cut to
it), ``when`` (JMESPath: the field only when true) and ``types`` (the field only for these event types). The
engine sets ``event_id`` (a uuid5 of source, rule, record key and, for ``id: version``, the version values),
``type`` and ``source``; every other field of the event type must come from the mapping (checked at load).
"""

from __future__ import annotations

import json
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jmespath
from jmespath.exceptions import JMESPathError
from jmespath.parser import ParsedResult
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from hypercare.contract.events import EVENT_TYPES, SERVER_FIELDS, Event
from hypercare.rules.loader import ConfigFileError, Naming, Source, read_yaml, validate
from hypercare.sources.pseudonym import valid_path

PACKAGE = "hypercare.sources.mappings"
SHIPPED = ("servicenow_incident", "entra_signin")
# Set by the engine, never by a mapping.
ENGINE_FIELDS = ("event_id", "type", "source")
TYPE_MODELS: dict[str, type[Any]] = {
    model.model_fields["type"].annotation.__args__[0]: model for model in get_args(get_args(Event)[0])
}


class MappingError(ConfigFileError):
    """A mapping file that cannot be used; the message names the file, the line and the reason."""


def _jmespath(expression: str) -> str:
    try:
        jmespath.compile(expression)
    except JMESPathError as error:
        raise ValueError(f"not a JMESPath expression: {str(error).splitlines()[0]}") from None
    return expression


def _path(path: str) -> str:
    problem = valid_path(path)
    if problem is not None:
        raise ValueError(problem)
    return path


Expression = Annotated[str, Field(min_length=1, max_length=1000), AfterValidator(_jmespath)]
RecordPath = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_path)]
Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]


class LookupStep(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    kind: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
    from_: Expression = Field(alias="from")

    @cached_property
    def compiled(self) -> ParsedResult:
        return jmespath.compile(self.from_)


def _map_key(value: Any) -> str:
    """How a map's key and a record's value are compared: a string as it is, anything else as JSON text."""
    return value if isinstance(value, str) else json.dumps(value)


class FieldSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    from_: Expression | None = Field(default=None, alias="from")
    value: Any = None
    lookup: list[LookupStep] | None = Field(default=None, min_length=1, max_length=10)
    map: dict[str | int | bool, Any] | None = None
    default: Any = None
    optional: bool = False
    as_: Literal["string", "integer", "boolean", "timestamp"] | None = Field(default=None, alias="as")
    max_length: int | None = Field(default=None, ge=1, le=10_000)
    when: Expression | None = None
    types: list[str] | None = None

    @model_validator(mode="after")
    def _one_source(self) -> FieldSpec:
        given = [name for name in ("from_", "value", "lookup") if name in self.model_fields_set]
        if len(given) != 1:
            raise ValueError("give exactly one of from (a JMESPath expression), value (a constant) or lookup")
        if self.lookup is not None and self.map is not None:
            raise ValueError("a lookup gives unit ids; it takes no map")
        for event_type in self.types or ():
            if event_type not in EVENT_TYPES:
                raise ValueError(f"types: {event_type!r} is not an event type ({', '.join(EVENT_TYPES)})")
        return self

    @property
    def has_default(self) -> bool:
        return "default" in self.model_fields_set

    @cached_property
    def compiled(self) -> ParsedResult | None:
        return jmespath.compile(self.from_) if self.from_ is not None else None

    @cached_property
    def compiled_when(self) -> ParsedResult | None:
        return jmespath.compile(self.when) if self.when is not None else None

    @cached_property
    def table(self) -> dict[str, Any] | None:
        return None if self.map is None else {_map_key(key): value for key, value in self.map.items()}


class TypeSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    from_: Expression = Field(alias="from")
    map: dict[str | int | bool, str | None] = Field(min_length=1)

    @field_validator("map")
    @classmethod
    def _types(cls, value: dict[str | int | bool, str | None]) -> dict[str | int | bool, str | None]:
        for event_type in value.values():
            if event_type is not None and event_type not in EVENT_TYPES:
                raise ValueError(f"{event_type!r} is not an event type ({', '.join(EVENT_TYPES)})")
        return value

    @cached_property
    def compiled(self) -> ParsedResult:
        return jmespath.compile(self.from_)

    @cached_property
    def table(self) -> dict[str, str | None]:
        return {_map_key(key): value for key, value in self.map.items()}


class EventRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: Name
    type: str | TypeSpec
    id: Literal["record", "version"] = "version"
    when: Expression | None = None
    fields: dict[str, FieldSpec]

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str | TypeSpec) -> str | TypeSpec:
        if isinstance(value, str) and value not in EVENT_TYPES:
            raise ValueError(f"{value!r} is not an event type ({', '.join(EVENT_TYPES)})")
        return value

    @property
    def types(self) -> list[str]:
        if isinstance(self.type, str):
            return [self.type]
        return sorted({event_type for event_type in self.type.map.values() if event_type is not None})

    @model_validator(mode="after")
    def _fits_the_contract(self) -> EventRule:
        for name in self.fields:
            if name in ENGINE_FIELDS or name in SERVER_FIELDS:
                raise ValueError(f"fields: {name} is set by {'the engine' if name in ENGINE_FIELDS else 'the server'}")
        for event_type in self.types:
            model = TYPE_MODELS[event_type]
            applies = {name for name, spec in self.fields.items() if spec.types is None or event_type in spec.types}
            unknown = sorted(applies - set(model.model_fields))
            if unknown:
                raise ValueError(f"fields: {', '.join(unknown)} not fields of {event_type}")
            missing = sorted(
                name
                for name, info in model.model_fields.items()
                if info.is_required() and name not in ENGINE_FIELDS and name not in applies
            )
            if missing:
                raise ValueError(f"fields: {event_type} needs {', '.join(missing)}")
        return self

    @cached_property
    def compiled_when(self) -> ParsedResult | None:
        return jmespath.compile(self.when) if self.when is not None else None


class UnitsSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    table: str = Field(min_length=1, max_length=500)


class Mapping(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    version: Literal[1]
    source: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,31}$")]
    description: str = ""
    record_key: Expression
    record_version: list[Expression] = Field(default_factory=list, max_length=5)
    timezone: str = "UTC"
    pseudonymise: list[RecordPath] = Field(default_factory=list, max_length=100)
    drop: list[RecordPath] = Field(default_factory=list, max_length=100)
    units: UnitsSpec | None = None
    events: list[EventRule] = Field(min_length=1, max_length=20)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone such as Europe/Stockholm") from None
        return value

    @field_validator("events")
    @classmethod
    def _unique_rules(cls, rules: list[EventRule]) -> list[EventRule]:
        names = [rule.name for rule in rules]
        if len(set(names)) != len(names):
            raise ValueError("rule names must be unique (each names its events' ids)")
        return rules

    @model_validator(mode="after")
    def _lookups_need_a_table(self) -> Mapping:
        uses_lookup = any(spec.lookup is not None for rule in self.events for spec in rule.fields.values())
        if uses_lookup and self.units is None:
            raise ValueError("a lookup field needs units: {table: FILE.csv}")
        return self

    @property
    def lookup_kinds(self) -> frozenset[str]:
        return frozenset(
            step.kind for rule in self.events for spec in rule.fields.values() for step in spec.lookup or ()
        )

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @cached_property
    def compiled_key(self) -> ParsedResult:
        return jmespath.compile(self.record_key)

    @cached_property
    def compiled_version(self) -> list[ParsedResult]:
        return [jmespath.compile(expression) for expression in self.record_version]


NAMING = Naming()


def parse_mapping(data: Any, source: Source) -> Mapping:
    if not isinstance(data, dict):
        raise MappingError(f"{source.where(())}: a mapping file is a YAML mapping (version, source, events, ...)")
    return validate(Mapping, data, source, NAMING, error=MappingError)


def mapping_location(name_or_path: str) -> tuple[Path | None, str]:
    """``(path, filename)`` of a mapping: a shipped one by name (``servicenow_incident``), else a file path."""
    if name_or_path in SHIPPED:
        return None, f"{name_or_path}.yaml"
    return Path(name_or_path), Path(name_or_path).name


def read_mapping(name_or_path: str) -> tuple[Mapping, Path | None]:
    """The mapping and the directory its unit table is relative to (None: the shipped directory)."""
    path, filename = mapping_location(name_or_path)
    data, source = read_yaml(path, package=PACKAGE, filename=filename, what="mapping file", error=MappingError)
    return parse_mapping(data, source), (None if path is None else path.parent)


def shipped_text(filename: str) -> str:
    return resources.files(PACKAGE).joinpath(filename).read_text(encoding="utf-8")
