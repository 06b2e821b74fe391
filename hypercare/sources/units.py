"""The unit lookup table of the source mappings: a CSV that turns what a source knows about a place (a
ServiceNow location or configuration item, a workstation, an application, an IPv4 address) into a unit id of
the org registry.

Columns ``kind``, ``key``, ``unit_id`` (a header line, in any order; ``,`` or ``;`` separated, a UTF-8 byte order
mark skipped, ``#`` lines and empty lines skipped). ``kind`` is what the mapping's ``lookup`` steps ask for
(``location``, ``ci``, ``workstation``, ``app``, ...); keys are matched trimmed and case-folded. The kind ``cidr``
holds IPv4 networks (``10.12.0.0/16``): an address finds the unit of the most specific network holding it.
"""

from __future__ import annotations

import csv
import io
import ipaddress
from collections.abc import Collection
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from hypercare.rules.loader import ConfigFileError

CIDR = "cidr"
PACKAGE = "hypercare.sources.mappings"
_COLUMNS = ("kind", "key", "unit_id")


class UnitTableError(ConfigFileError):
    """A unit lookup table that cannot be used; the message names the file and the line."""


@dataclass(frozen=True)
class UnitTable:
    name: str
    exact: dict[tuple[str, str], str] = field(default_factory=dict)
    # Most specific first: (network, unit id).
    networks: tuple[tuple[ipaddress.IPv4Network, str], ...] = ()

    @property
    def kinds(self) -> frozenset[str]:
        return frozenset(kind for kind, _ in self.exact) | ({CIDR} if self.networks else set())

    def find(self, kind: str, value: str) -> str | None:
        if kind == CIDR:
            try:
                address = ipaddress.IPv4Address(value.strip())
            except ValueError:
                return None
            for network, unit_id in self.networks:
                if address in network:
                    return unit_id
            return None
        return self.exact.get((kind, value.strip().casefold()))

    @property
    def unit_ids(self) -> frozenset[str]:
        return frozenset(self.exact.values()) | {unit_id for _, unit_id in self.networks}


def parse_unit_table(text: str, *, name: str, known_units: Collection[str] | None = None) -> UnitTable:
    """The table in ``text`` (named ``name`` in messages); ``known_units``: the org registry's unit ids."""
    text = text.removeprefix("\ufeff")
    lines = text.splitlines()
    header_index = next(
        (index for index, line in enumerate(lines) if line.strip() and not line.lstrip().startswith("#")), None
    )
    if header_index is None:
        raise UnitTableError(f"{name}: empty; give a header line kind,key,unit_id and one line per key")
    header_line = lines[header_index]
    delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
    header = [cell.strip().lower() for cell in next(csv.reader([header_line], delimiter=delimiter))]
    missing = [column for column in _COLUMNS if column not in header]
    if missing:
        raise UnitTableError(
            f"{name}:{header_index + 1}: the header lacks {', '.join(missing)} (columns: kind, key, unit_id)"
        )
    where = {column: header.index(column) for column in _COLUMNS}
    exact: dict[tuple[str, str], str] = {}
    networks: list[tuple[ipaddress.IPv4Network, str]] = []
    problems: list[str] = []
    reader = csv.reader(io.StringIO("\n".join(lines[header_index + 1 :])), delimiter=delimiter)
    for offset, row in enumerate(reader):
        number = header_index + 2 + offset
        if not any(cell.strip() for cell in row) or row[0].lstrip().startswith("#"):
            continue
        if len(row) < len(header):
            problems.append(f"{name}:{number}: {len(row)} cells, the header has {len(header)}")
            continue
        kind, key, unit_id = (row[where[column]].strip() for column in _COLUMNS)
        if not kind or not key or not unit_id:
            problems.append(f"{name}:{number}: kind, key and unit_id must all be given")
            continue
        kind = kind.lower()
        if known_units is not None and unit_id not in known_units:
            problems.append(f"{name}:{number}: unit {unit_id!r} is not a unit of the org registry")
            continue
        if kind == CIDR:
            try:
                network = ipaddress.IPv4Network(key, strict=True)
            except ValueError as error:
                problems.append(f"{name}:{number}: {key!r} is not an IPv4 network such as 10.12.0.0/16 ({error})")
                continue
            if any(network == other for other, _ in networks):
                problems.append(f"{name}:{number}: the network {key} is given twice")
                continue
            networks.append((network, unit_id))
            continue
        folded = key.casefold()
        if (kind, folded) in exact:
            problems.append(f"{name}:{number}: {kind} {key!r} is given twice")
            continue
        exact[(kind, folded)] = unit_id
    if problems:
        raise UnitTableError("\n".join(problems))
    networks.sort(key=lambda item: item[0].prefixlen, reverse=True)
    return UnitTable(name=name, exact=exact, networks=tuple(networks))


def load_unit_table(path: Path | str, *, known_units: Collection[str] | None = None) -> UnitTable:
    """A table from a file, or a shipped one by its file name (``example_units.csv``)."""
    candidate = Path(path)
    if candidate.exists() or candidate.is_absolute() or candidate.parent != Path("."):
        try:
            text = candidate.read_text(encoding="utf-8")
        except OSError as error:
            raise UnitTableError(f"{candidate}: cannot read the unit table: {error.strerror or error}") from None
        return parse_unit_table(text, name=str(candidate), known_units=known_units)
    shipped = resources.files(PACKAGE).joinpath(str(path))
    if not shipped.is_file():
        raise UnitTableError(f"{path}: no such unit table (a file path, or a shipped table's name)")
    return parse_unit_table(shipped.read_text(encoding="utf-8"), name=f"{path} (shipped)", known_units=known_units)
