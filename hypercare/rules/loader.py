"""YAML configuration files with errors that name the file, the line and the reason.

Every file a region edits by hand goes through here: the rules file (``default_rules.yaml`` or
``HYPERCARE_RULES_FILE``; :func:`hypercare.rules.file.load_rules_file` reads it once and parses all sections),
the reporting duties (``reporting_duties.yaml``) and the org registry. :func:`read_yaml` parses a file
and keeps its node tree, so :func:`validate` can turn each pydantic error into a line such as::

    my_rules.yaml:42: health rule 'login_failures'.yellow: must be a number

The error's ``loc`` path is followed through the YAML nodes as far as it goes: a wrong value points
at its key's line, a missing field at the line of the mapping that lacks it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)
Loc = Sequence[str | int]

RULES_PACKAGE = "hypercare.rules"
RULES_FILE = "default_rules.yaml"


class ConfigFileError(ValueError):
    """A configuration file that cannot be used; the message names the file, the line and the reason."""


class RulesError(ConfigFileError):
    """A rules or reporting-duties file that cannot be used."""


@dataclass(frozen=True)
class Source:
    """Where parsed data came from: a name for messages and, when read from YAML, the nodes for line numbers.

    ``at`` is the path of the data within the document (``("alerts",)`` for the alerts section), so a
    validation error's ``loc``, which is relative to the data validated, can be found in the file.
    """

    name: str
    note: str = ""  # after the line: " (shipped)"
    shipped: bool = False
    root: yaml.Node | None = field(default=None, repr=False, compare=False)
    at: tuple[str | int, ...] = ()

    def within(self, *path: str | int, note: str | None = None) -> Source:
        return Source(self.name, self.note if note is None else note, self.shipped, self.root, (*self.at, *path))

    def line(self, loc: Loc = ()) -> int | None:
        """The 1-based line of the deepest node of ``at`` + ``loc`` present in the file (None without nodes)."""
        node = self.root
        if node is None:
            return None
        line = node.start_mark.line
        for part in (*self.at, *loc):
            if isinstance(node, yaml.MappingNode):
                for key, value in reversed(node.value):  # a key written twice: the last one holds the value
                    if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                        line, node = key.start_mark.line, value
                        break
                # else: not in the file (a missing field, a union's tag): stay with the parent
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
                node = node.value[part]
                line = node.start_mark.line
        return line + 1

    def where(self, loc: Loc | None = None) -> str:
        """``name:line`` and the note, the prefix of a message; without a line when the nodes are unknown."""
        line = None if loc is None else self.line(loc)
        return f"{self.name}{'' if line is None else f':{line}'}{self.note}"


def as_source(origin: str | Source) -> Source:
    return origin if isinstance(origin, Source) else Source(origin)


# libyaml's parser when PyYAML has it (the nodes keep their marks, so lines are the same): the whole region's
# org registry parses in a third of the time.
_Loader: type[yaml.SafeLoader] | type[yaml.CSafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(
    path: Path | None, *, package: str, filename: str, what: str, error: type[ConfigFileError] = ConfigFileError
) -> tuple[Any, Source]:
    """The parsed YAML of ``path`` (the shipped ``package/filename`` when None) and its :class:`Source`."""
    if path is None:
        source = Source(filename, " (shipped)", shipped=True)
        text = resources.files(package).joinpath(filename).read_text(encoding="utf-8")
    else:
        source = Source(str(path))
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as failure:
            raise error(f"{source.where()}: cannot read the {what}: {failure.strerror or failure}") from None
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.YAMLError as failure:
        mark = getattr(failure, "problem_mark", None)
        at = f"{source.name}:{mark.line + 1}{source.note}" if mark is not None else source.where()
        reason = ", ".join(
            str(part) for part in (getattr(failure, "context", None), getattr(failure, "problem", None)) if part
        )
        raise error(f"{at}: not valid YAML: {reason or failure}") from None
    finally:
        loader.dispose()
    return data, Source(source.name, source.note, source.shipped, root)


@dataclass(frozen=True)
class Naming:
    """How an error's location reads: entries of a list named by their ``id``, the rest as a dotted path.

    ``section`` prefixes paths outside named entries (``alerts.escalation``); ``items`` is the path of the
    list whose entries are named (``("rules",)``), ``noun`` what an entry is called (``alert rule``);
    ``wrapper`` is a key the parser put around the data (dropped from paths); ``tags`` are the
    discriminator values pydantic adds to the paths of a tagged union.
    """

    section: str = ""
    items: tuple[str, ...] = ()
    noun: str = ""
    wrapper: str | None = None
    tags: Collection[str] = ()


def validate(model: type[M], data: Any, source: Source, naming: Naming, *, error: type[ConfigFileError]) -> M:
    """``model`` validated from ``data``, or ``error`` with one line per problem (file:line: where: reason)."""
    try:
        return model.model_validate({naming.wrapper: data} if naming.wrapper else data)
    except ValidationError as failure:
        raise error(describe(failure, data, source, naming)) from None


def describe(failure: ValidationError, data: Any, source: Source, naming: Naming) -> str:
    lines: list[str] = []
    for item in failure.errors(include_input=False, include_url=False):
        loc = [part for part in item["loc"] if part not in naming.tags]
        if naming.wrapper and loc[:1] == [naming.wrapper]:
            loc = loc[1:]
        message = item["msg"].removeprefix("Value error, ")
        where = _where(loc, data, naming)
        line = f"{source.where(loc)}: {where}: {message}" if where else f"{source.where(loc)}: {message}"
        if line not in lines:
            lines.append(line)
    return "\n".join(lines)


def _where(loc: list[str | int], data: Any, naming: Naming) -> str:
    count = len(naming.items)
    index = loc[count] if len(loc) > count else None
    if naming.noun and isinstance(index, int) and tuple(loc[:count]) == naming.items:
        entries: Any = data
        for key in naming.items:
            entries = entries.get(key) if isinstance(entries, Mapping) else None
        entry = entries[index] if isinstance(entries, list) and 0 <= index < len(entries) else None
        entry_id = entry.get("id") if isinstance(entry, Mapping) else None
        if entry_id is not None:
            return f"{naming.noun} {entry_id!r}" + "".join(f".{part}" for part in loc[count + 1 :])
    return ".".join(str(part) for part in ([naming.section] if naming.section else []) + loc)


# --- the rules file: read once; sections fall back to the shipped file -----------------------------------


def read_rules_yaml(path: Path | None = None) -> tuple[Any, Source]:
    """The rules file's YAML and its :class:`Source`; the shipped file when ``path`` is None."""
    if path is None:
        return _shipped_rules()
    return read_yaml(path, package=RULES_PACKAGE, filename=RULES_FILE, what="rules file", error=RulesError)


@cache
def _shipped_rules() -> tuple[Any, Source]:
    return read_yaml(None, package=RULES_PACKAGE, filename=RULES_FILE, what="rules file", error=RulesError)


def rules_section(data: Any, source: Source, name: str) -> tuple[Any, Source]:
    """The ``name`` section of a rules document read with :func:`read_rules_yaml`; the shipped one if it has none.

    Replacing the health rules must not switch off alerting or the stop criteria by accident.
    """
    section = data.get(name) if isinstance(data, Mapping) else None
    if section is None and not source.shipped:
        shipped, shipped_source = _shipped_rules()
        return shipped.get(name), shipped_source.within(
            name, note=f" (shipped, because {source.name} has no {name} section)"
        )
    return section, source.within(name)


def read_rules_document(path: Path | None = None) -> tuple[Any, str]:
    """The parsed YAML of the rules file and a name for it in messages (kept for older callers)."""
    data, source = read_rules_yaml(path)
    return data, source.where()


def read_rules_section(path: Path | None, name: str) -> tuple[Any, str]:
    """The ``name`` section of the rules file and where it came from (kept for older callers)."""
    data, source = read_rules_yaml(path)
    section, section_source = rules_section(data, source, name)
    return section, section_source.where()
