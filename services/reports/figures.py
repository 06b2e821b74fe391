"""The building blocks of report content: sources, key figures, cells and tables, all plain JSON.

Every number in a report sits in a figure, a table column or a cell that cites a source; a source
says which events (type, filter, interval) or which register the number was computed from, and at
which snapshot time. The renderers number the sources as footnotes in reading order, so each printed
number points to its query. Content is data only (no markup): the templates escape every text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

# How a value is printed (services.reports.render.format_value).
Format = Literal["int", "percent", "decimal", "hours", "datetime", "text"]


@dataclass
class Sources:
    """The sources of one report: defined once with their text, then cited by key."""

    snapshot_text: str
    items: dict[str, str] = field(default_factory=dict)

    def define(self, key: str, text: str) -> None:
        self.items[key] = f"{text} Ögonblicksbild {self.snapshot_text}."

    def cite(self, key: str) -> str:
        if key not in self.items:
            raise KeyError(f"source {key!r} is cited but not defined")
        return key

    def as_json(self) -> list[dict[str, str]]:
        return [{"id": key, "text": text} for key, text in self.items.items()]


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    fmt: Format = "int"
    src: str | None = None  # None: the table's source (text columns need none)

    def as_json(self) -> dict[str, Any]:
        return {"key": self.key, "label": self.label, "fmt": self.fmt, "src": self.src}


def figure(key: str, label: str, value: Any, *, fmt: Format = "int", src: str) -> dict[str, Any]:
    """One key figure."""
    return {"key": key, "label": label, "value": value, "fmt": fmt, "src": src}


def cell(value: Any, *, fmt: Format, src: str) -> dict[str, Any]:
    """A table cell with its own format and source (rows that measure different things)."""
    return {"value": value, "fmt": fmt, "src": src}


def table(
    key: str,
    title: str,
    columns: list[Column],
    rows: list[dict[str, Any]],
    *,
    src: str | None = None,
    total: dict[str, Any] | None = None,
    empty: str = "Inget att redovisa för perioden.",
) -> dict[str, Any]:
    """A table; ``rows`` (and ``total``) map column keys to values or :func:`cell` objects."""
    for column in columns:
        if column.fmt != "text" and column.src is None and src is None:
            raise ValueError(f"table {key}: number column {column.key!r} needs a source")
    return {
        "key": key,
        "title": title,
        "src": src,
        "columns": [column.as_json() for column in columns],
        "rows": rows,
        "total": total,
        "empty": empty,
    }


def share(part: int, whole: int) -> float | None:
    """``part / whole`` (None when there is nothing to divide by), rounded for stable JSON."""
    return round(part / whole, 6) if whole else None
