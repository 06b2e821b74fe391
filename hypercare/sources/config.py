"""The source mappings in force, from the settings: read, checked and made ready once, at start.

A mistake stops the start with the file and line (a mapping, its unit table), as does a mapping that
pseudonymises fields while ``HYPERCARE_PSEUDONYM_KEY`` is unset: records would otherwise go on in clear.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from hypercare.settings import Settings
from hypercare.sources.engine import Translator
from hypercare.sources.mapping import MappingError, read_mapping
from hypercare.sources.units import UnitTable, load_unit_table

MIN_KEY_LENGTH = 16


def mapping_entries(settings: Settings) -> list[str]:
    """The configured mappings: ``HYPERCARE_SOURCE_MAPPINGS`` (names or paths), then ``HYPERCARE_SOURCES_DIR``."""
    entries = [entry.strip() for entry in settings.source_mappings.split(",") if entry.strip()]
    if settings.sources_dir is not None:
        if not settings.sources_dir.is_dir():
            raise MappingError(f"HYPERCARE_SOURCES_DIR: {settings.sources_dir} is not a directory")
        entries.extend(str(path) for path in sorted(settings.sources_dir.glob("*.yaml")))
    return entries


def pseudonym_key(settings: Settings) -> bytes | None:
    if not settings.pseudonym_key:
        return None
    key = settings.pseudonym_key.encode("utf-8")
    if len(key) < MIN_KEY_LENGTH:
        raise MappingError(
            f"HYPERCARE_PSEUDONYM_KEY is {len(key)} bytes; use at least {MIN_KEY_LENGTH} (a long random secret)"
        )
    return key


def load_translators(settings: Settings, *, known_units: Collection[str] | None) -> dict[str, Translator]:
    """Source name → its translator. ``known_units``: the org registry's units the unit tables must name."""
    key = pseudonym_key(settings)
    tables: dict[str, UnitTable] = {}
    translators: dict[str, Translator] = {}
    for entry in mapping_entries(settings):
        mapping, directory = read_mapping(entry)
        units = None
        if mapping.units is not None:
            table = _table_path(settings, mapping.units.table, directory)
            if table not in tables:
                tables[table] = load_unit_table(table, known_units=known_units)
            units = tables[table]
        if mapping.source in translators:
            raise MappingError(f"{entry}: source {mapping.source!r} is configured twice (source names are unique)")
        translators[mapping.source] = Translator(mapping, units=units, key=key)
    return translators


def _table_path(settings: Settings, table: str, directory: Path | None) -> str:
    if settings.source_units_file is not None:
        return str(settings.source_units_file)
    if directory is None or Path(table).is_absolute():
        return table  # a shipped mapping's table is shipped beside it
    beside = directory / table
    return str(beside) if beside.exists() else table
