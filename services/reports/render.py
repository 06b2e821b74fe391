"""Render a report as Swedish HTML, PDF (WeasyPrint, from the same HTML) or Markdown.

The templates in ``templates/`` receive the stored content unchanged plus the footnote number of
every source in reading order; numbers are formatted here, the Swedish way (decimal comma). HTML is
autoescaped; Markdown cells are escaped by the ``md`` filter, so free text never becomes markup.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from services.reports.charts import bar_chart, bucket_label
from services.reports.labels import KINDS, STATUSES, label

EMPTY = "–"
WIDE_COLUMNS = 9  # a table with this many columns is printed smaller, its section on landscape pages
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")
_STYLE_BLOCK = re.compile(r"<style>(.*?)</style>", re.DOTALL)


def _decimal(value: float, places: int) -> str:
    quantum = Decimal(1).scaleb(-places)
    text = str(Decimal(str(value)).quantize(quantum, rounding=ROUND_HALF_UP))
    return text.replace(".", ",")


def format_value(value: Any, fmt: str, zone: ZoneInfo) -> str:
    """One value as printed: ``12``, ``12,5 %``, ``3,5``, ``2024-11-12 08:15``; None as a dash."""
    if value is None or value == "":
        return EMPTY if fmt != "text" else ""
    if fmt == "int":
        return str(int(value))
    if fmt == "percent":
        return f"{_decimal(float(value) * 100, 1)} %"
    if fmt == "hours":
        return _decimal(float(value), 1)
    if fmt == "decimal":
        number = float(value)
        if number.is_integer():
            return str(int(number))
        return _decimal(number, 2).rstrip("0").rstrip(",")
    if fmt == "datetime":
        return datetime.fromisoformat(str(value)).astimezone(zone).strftime("%Y-%m-%d %H:%M")
    return str(value)


def _cells_sources(table: dict[str, Any]) -> Iterator[str]:
    if table.get("src"):
        yield table["src"]
    for column in table["columns"]:
        if column.get("src"):
            yield column["src"]
    for row in [*table["rows"], *([table["total"]] if table.get("total") else [])]:
        for value in row.values():
            if isinstance(value, dict) and value.get("src"):
                yield value["src"]


def footnotes(content: dict[str, Any]) -> dict[str, int]:
    """Source id → footnote number, numbered in the order a reader meets them."""
    order: dict[str, int] = {}

    def note(src: str | None) -> None:
        if src and src not in order:
            order[src] = len(order) + 1

    for section in content["sections"]:
        for item in section.get("figures", []):
            note(item["src"])
        for table in section.get("tables", []):
            for src in _cells_sources(table):
                note(src)
        for chart in section.get("charts", []):
            note(chart["src"])
    return order


class _View:
    """Helpers the templates call: formatting, footnote markers, cells."""

    def __init__(self, content: dict[str, Any]) -> None:
        self.content = content
        self.zone = ZoneInfo(content["zone"])
        self.notes = footnotes(content)
        texts = {source["id"]: source["text"] for source in content["sources"]}
        self.sources = [(number, texts[src]) for src, number in sorted(self.notes.items(), key=lambda item: item[1])]

    def fmt(self, value: Any, fmt: str) -> str:
        return format_value(value, fmt, self.zone)

    def ref(self, src: str | None) -> str:
        return f"[{self.notes[src]}]" if src else ""

    def cell(self, value: Any, column: dict[str, Any]) -> tuple[str, str]:
        """(text, its own footnote marker when it cites another source than its column)."""
        if isinstance(value, dict) and "value" in value:
            own = value.get("src")
            marker = self.ref(own) if own and own != column.get("src") else ""
            return self.fmt(value["value"], value.get("fmt") or column["fmt"]), marker
        return self.fmt(value, column["fmt"]), ""

    def wide(self, table: dict[str, Any]) -> bool:
        return len(table["columns"]) >= WIDE_COLUMNS

    def wide_section(self, section: dict[str, Any]) -> bool:
        return any(self.wide(table) and table["rows"] for table in section.get("tables", []))

    def local(self, iso: str | None) -> str:
        return format_value(iso, "datetime", self.zone) if iso else EMPTY

    def local_seconds(self, iso: str | None) -> str:
        return datetime.fromisoformat(iso).astimezone(self.zone).strftime("%Y-%m-%d %H:%M:%S") if iso else EMPTY

    def chart(self, chart: dict[str, Any]) -> Markup:
        return bar_chart(chart, self.zone)

    def bucket(self, chart: dict[str, Any], iso: str) -> str:
        """A bucket's start: the hour, with the date when the period spans more than a day."""
        return bucket_label(chart, iso, self.zone)


def _md(value: Any) -> str:
    """Text safe inside a Markdown table cell: special characters escaped, no line breaks."""
    text = " ".join(str(value).split())
    return _MD_SPECIAL.sub(r"\\\1", text)


@lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("services.reports", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False, default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = _md
    return env


def _render(template: str, report: dict[str, Any], content: dict[str, Any]) -> str:
    view = _View(content)
    return (
        _environment()
        .get_template(template)
        .render(
            report=report,
            content=content,
            v=view,
            status_text=label(STATUSES, report["status"]),
            kind_text=label(KINDS, content["kind"]),
        )
    )


def render_html(report: dict[str, Any], content: dict[str, Any]) -> str:
    """``report`` is the metadata (services.reports.service.public), ``content`` the frozen snapshot."""
    return _render("report.html", report, content)


def style_hashes(html: str) -> list[str]:
    """CSP source expressions (``'sha256-…'``) of the text of every ``<style>`` block of ``html``."""
    return [
        f"'sha256-{base64.b64encode(hashlib.sha256(block.encode('utf-8')).digest()).decode('ascii')}'"
        for block in _STYLE_BLOCK.findall(html)
    ]


def html_policy(html: str) -> str:
    """The Content-Security-Policy of an HTML report: its own style block and nothing else (charts are inline SVG)."""
    return f"default-src 'none'; img-src data:; style-src {' '.join(style_hashes(html))}; frame-ancestors 'none'"


def render_markdown(report: dict[str, Any], content: dict[str, Any]) -> str:
    return _render("report.md", report, content)


def render_pdf(report: dict[str, Any], content: dict[str, Any]) -> bytes:
    """A4 PDF of the HTML rendering (blocking: call it in a worker thread from async code)."""
    from weasyprint import HTML  # imported here: loading WeasyPrint and Pango takes a moment

    pdf = HTML(string=render_html(report, content)).write_pdf()
    assert pdf is not None
    return bytes(pdf)
