"""One record of a source in, contract-v1 events (or the reason why not) out: pure, never raises on any JSON.

The record is pseudonymised and stripped first (:mod:`hypercare.sources.pseudonym`), and only that copy is used
afterwards, in the events, in the reasons and by the caller (its quarantine row). Each rule of the mapping
gives at most one event; a record any rule cannot translate gives no events and every rule's reason, so a
record is translated whole or kept whole for someone to look at. The events are plain JSON dicts: the ingest
path validates them against the contract like any event.

``event_id`` is deterministic (``uuid5`` of the source, the rule, the record key and, for ``id: version``
rules, the record's version values): a record delivered twice gives the same ids, which the pipeline counts
once.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from jmespath.exceptions import JMESPathError
from jmespath.parser import ParsedResult

from hypercare.sources.mapping import EventRule, FieldSpec, Mapping, MappingError, TypeSpec
from hypercare.sources.pseudonym import drop, pseudonymise
from hypercare.sources.units import UnitTable

# uuid5 namespace of every source event id (fixed: changing it would count every record again).
NAMESPACE = uuid.UUID("6b1f4a52-58c4-5d2e-9f0c-3a1d2f6e8b70")
_SHOWN = 40


@dataclass(frozen=True)
class Translation:
    """The events of one record, or why it has none that can be sent; ``record`` is the pseudonymised copy."""

    record: Any
    events: list[dict[str, Any]] = field(default_factory=list)
    reason: str | None = None
    key: str | None = None


class Untranslatable(Exception):
    """Internal: one rule's reason."""


def event_id(source: str, rule: str, key: str, versions: list[str] | None) -> str:
    parts = [source, rule, key, *(versions or [])]
    return str(uuid.uuid5(NAMESPACE, "\x1f".join(parts)))


def _show(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return repr(text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…")


def _key_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list) else type(value).__name__


def _truthy(value: Any) -> bool:
    """JMESPath's truth: false, null, "", [] and {} are false (0 is true)."""
    if value is None or value is False:
        return False
    return not (isinstance(value, str | list | dict) and len(value) == 0)


def _search(compiled: ParsedResult, record: Any, what: str) -> Any:
    try:
        return compiled.search(record)
    except (JMESPathError, TypeError, ValueError, RecursionError) as error:
        raise Untranslatable(
            f"{what}: `{compiled.expression}` failed on this record ({type(error).__name__})"
        ) from None


class Translator:
    """A mapping with its unit table and pseudonym key, ready to translate records.

    Raises :class:`MappingError` when the mapping cannot run: pseudonymise fields without a key, a lookup
    without its table.
    """

    def __init__(self, mapping: Mapping, *, units: UnitTable | None = None, key: bytes | None = None) -> None:
        if mapping.pseudonymise and not key:
            raise MappingError(
                f"source {mapping.source!r}: the mapping pseudonymises {', '.join(mapping.pseudonymise)} and "
                "HYPERCARE_PSEUDONYM_KEY is not set; set it (a long random secret, kept like a password) or "
                "the records would go on with those fields in clear"
            )
        if mapping.lookup_kinds and units is None:
            raise MappingError(f"source {mapping.source!r}: the mapping looks units up and has no unit table")
        self.mapping = mapping
        self.units = units
        self._key = key

    @property
    def source(self) -> str:
        return self.mapping.source

    def prepare(self, record: Any) -> Any:
        """The record as everything after sees it: pseudonymised, its dropped paths removed (a copy)."""
        mapping = self.mapping
        if not isinstance(record, dict):
            return record
        cleaned = pseudonymise(record, mapping.pseudonymise, self._key)
        if mapping.drop:
            cleaned = drop(cleaned if cleaned is not record else json.loads(json.dumps(record)), mapping.drop)
        return cleaned

    def translate(self, record: Any, *, zone: ZoneInfo | None = None) -> Translation:
        """The events of ``record``; ``zone``: what a timestamp without an offset means (default: the mapping's)."""
        try:
            prepared = self.prepare(record)
        except (RecursionError, ValueError, TypeError) as error:
            return Translation(record=None, reason=f"the record cannot be read ({type(error).__name__})")
        if not isinstance(prepared, dict):
            return Translation(record=prepared, reason=f"a record must be a JSON object, not {_json_kind(record)}")
        zone = zone or self.mapping.zone
        try:
            key, versions = self._identity(prepared)
        except Untranslatable as error:
            return Translation(record=prepared, reason=str(error))
        events: list[dict[str, Any]] = []
        reasons: list[str] = []
        for rule in self.mapping.events:
            try:
                built = self._rule(rule, prepared, key, versions, zone)
            except Untranslatable as error:
                reasons.append(str(error) if len(self.mapping.events) == 1 else f"rule {rule.name}: {error}")
                continue
            if built is not None:
                events.append(built)
        if reasons:
            return Translation(record=prepared, reason="; ".join(reasons), key=key)
        if not events:
            return Translation(record=prepared, reason="no rule of the mapping applies to this record", key=key)
        return Translation(record=prepared, events=events, key=key)

    def _identity(self, record: dict[str, Any]) -> tuple[str, list[str]]:
        mapping = self.mapping
        key = _search(mapping.compiled_key, record, "record_key")
        if key is None or isinstance(key, dict | list) or key == "":
            raise Untranslatable(f"record_key: nothing usable at `{mapping.record_key}` (the record's identity)")
        versions = [_search(compiled, record, "record_version") for compiled in mapping.compiled_version]
        if mapping.record_version and all(value is None for value in versions):
            raise Untranslatable(
                f"record_version: nothing at {', '.join(f'`{e}`' for e in mapping.record_version)} "
                "(what tells this version of the record from another)"
            )
        return _key_text(key), [_key_text(value) for value in versions]

    def _rule(
        self, rule: EventRule, record: dict[str, Any], key: str, versions: list[str], zone: ZoneInfo
    ) -> dict[str, Any] | None:
        if rule.compiled_when is not None and not _truthy(_search(rule.compiled_when, record, "when")):
            return None
        event_type = self._type(rule.type, record)
        if event_type is None:
            return None
        event: dict[str, Any] = {
            "event_id": event_id(self.source, rule.name, key, versions if rule.id == "version" else None),
            "type": event_type,
            "source": self.source,
        }
        problems: list[str] = []
        for name, spec in rule.fields.items():
            if spec.types is not None and event_type not in spec.types:
                continue
            try:
                if spec.compiled_when is not None and not _truthy(_search(spec.compiled_when, record, f"{name}.when")):
                    continue
                present, value = self._value(name, spec, record, zone)
            except Untranslatable as error:
                problems.append(str(error))
                continue
            if present:
                event[name] = value
        if problems:
            raise Untranslatable("; ".join(problems))
        return event

    def _type(self, spec: str | TypeSpec, record: dict[str, Any]) -> str | None:
        if isinstance(spec, str):
            return spec
        value = _search(spec.compiled, record, "type")
        if value is None:
            raise Untranslatable(f"type: nothing at `{spec.from_}`")
        text = _key_text(value)
        if text not in spec.table:
            known = ", ".join(sorted(spec.table))
            raise Untranslatable(f"type: {_show(value)} at `{spec.from_}` is not in the mapping's map (known: {known})")
        return spec.table[text]

    def _value(self, name: str, spec: FieldSpec, record: dict[str, Any], zone: ZoneInfo) -> tuple[bool, Any]:
        if spec.lookup is not None:
            return True, self._lookup(name, spec, record)
        if spec.compiled is None:
            value = spec.value
            where = "its value"
        else:
            value = _search(spec.compiled, record, name)
            where = f"`{spec.from_}`"
        if value is None or (isinstance(value, str) and not value.strip()):
            if spec.has_default:
                value = spec.default
            elif spec.optional:
                return False, None
            else:
                raise Untranslatable(f"{name}: nothing at {where}")
        elif spec.table is not None:
            text = _key_text(value)
            if text in spec.table:
                value = spec.table[text]
            elif spec.has_default:
                value = spec.default
            else:
                known = ", ".join(sorted(spec.table))
                raise Untranslatable(f"{name}: {_show(value)} at {where} is not in the mapping's map (known: {known})")
        if value is None:
            return False, None  # mapped to null (or a null default): the field is left out
        return True, self._convert(name, spec, value, zone)

    def _lookup(self, name: str, spec: FieldSpec, record: dict[str, Any]) -> str:
        assert self.units is not None and spec.lookup is not None  # checked when built
        tried: list[str] = []
        for step in spec.lookup:
            value = _search(step.compiled, record, name)
            if value is None or value == "" or isinstance(value, dict | list):
                continue
            text = _key_text(value)
            found = self.units.find(step.kind, text)
            if found is not None:
                return found
            tried.append(f"{step.kind} {_show(value)}")
        if not tried:
            steps = ", ".join(f"{step.kind} (`{step.from_}`)" for step in spec.lookup)
            raise Untranslatable(f"{name}: the record names no {steps}")
        raise Untranslatable(f"{name}: no unit for {' or '.join(tried)} in the unit table {self.units.name}")

    def _convert(self, name: str, spec: FieldSpec, value: Any, zone: ZoneInfo) -> Any:
        kind = spec.as_
        if kind == "timestamp":
            return _timestamp(name, value, zone)
        if kind == "integer":
            value = _integer(name, value)
        elif kind == "boolean":
            value = _boolean(name, value)
        elif kind == "string":
            if isinstance(value, dict | list):
                raise Untranslatable(f"{name}: {_show(value)} is not text")
            value = _key_text(value)
        if spec.max_length is not None and isinstance(value, str) and len(value) > spec.max_length:
            value = value[: spec.max_length - 1] + "…"
        return value


def _timestamp(name: str, value: Any, zone: ZoneInfo) -> str:
    if not isinstance(value, str):
        raise Untranslatable(f"{name}: {_show(value)} is not a timestamp")
    text = value.strip()
    if "." in text:  # Graph writes 7 digits of a second; Python reads at most 6
        head, _, tail = text.partition(".")
        digits = len(tail) - len(tail.lstrip("0123456789"))
        text = f"{head}.{tail[: min(digits, 6)]}{tail[digits:]}" if digits else text
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise Untranslatable(
            f"{name}: {_show(value)} is not a timestamp (2026-02-18 07:45:00 or RFC 3339 with an offset)"
        ) from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        # Local wall-clock time; fold=0 takes the first of an hour that repeats when summer time ends.
        parsed = parsed.replace(tzinfo=zone)
    try:
        return parsed.astimezone(UTC).isoformat()
    except OverflowError:
        raise Untranslatable(f"{name}: {_show(value)} is out of range") from None


def _integer(name: str, value: Any) -> int:
    if isinstance(value, bool):
        raise Untranslatable(f"{name}: {_show(value)} is not a whole number")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit() and len(value.strip()) < 19:
        return int(value.strip())
    raise Untranslatable(f"{name}: {_show(value)} is not a whole number")


def _boolean(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = _key_text(value).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    raise Untranslatable(f"{name}: {_show(value)} is not true or false")
