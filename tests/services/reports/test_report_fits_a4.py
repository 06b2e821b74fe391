"""The PDF of a wide day fits A4: every table's column headers are printed and no word runs off its page.

The day has nine administrations with long names, an emergency department each and a receiving one
(``report_api.WideOrg``): before the tables were made to fit, the ED tables and the ten-column floor-walker
table ran off the right edge of a portrait page and lost their last columns.
"""

from __future__ import annotations

import re
import subprocess
from html.parser import HTMLParser
from xml.etree import ElementTree

from report_api import ReportApi
from report_day import fresh_day, simulate_day

_NOT_LETTERS = re.compile(r"[\s\-\u00ad\u2010]+")  # spaces, line breaks and (hyphenation) hyphens


def squeeze(text: str) -> str:
    """Text without spaces and hyphens: a header wrapped or hyphenated over lines still reads the same."""
    return _NOT_LETTERS.sub("", text)


class TableHeaders(HTMLParser):
    """The column headers of every ``<table>``: each ``<th>``'s text without its footnote marker."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[str]] = []
        self._cell: list[str] | None = None
        self._ref_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append([])
        elif tag == "th":
            self._cell = []
        elif tag == "span" and (self._ref_depth or (self._cell is not None and ("class", "ref") in attrs)):
            self._ref_depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "th" and self._cell is not None:
            self.tables[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "span" and self._ref_depth:
            self._ref_depth -= 1

    def handle_data(self, data: str) -> None:
        if self._cell is not None and not self._ref_depth:
            self._cell.append(data)


def table_headers(html: str) -> list[list[str]]:
    parser = TableHeaders()
    parser.feed(html)
    parser.close()
    return parser.tables


def pdf_pages(pdf: bytes) -> list[tuple[float, list[tuple[float, str]]]]:
    """Each page's width and its words (right edge, text) in reading order, from ``pdftotext -bbox-layout``."""
    done = subprocess.run(["pdftotext", "-bbox-layout", "-", "-"], input=pdf, capture_output=True, check=True)
    tree = ElementTree.fromstring(done.stdout)
    pages = []
    for page in tree.iter("{http://www.w3.org/1999/xhtml}page"):
        words = [
            (float(word.attrib["xMax"]), word.text or "") for word in page.iter("{http://www.w3.org/1999/xhtml}word")
        ]
        pages.append((float(page.attrib["width"]), words))
    return pages


async def test_every_table_of_a_wide_day_fits_its_a4_pages(wide_api: ReportApi) -> None:
    api = wide_api
    sim = simulate_day(
        fresh_day(),
        admin_of=api.org.admin_of,
        eds=api.org.eds,
        receiving_ed=api.org.unit("B1RX"),
        region_id=api.org.region,
    )
    await api.store(sim.events)
    created = await api.post("/api/v1/reports", role="chief", json={"date": sim.day.isoformat()})
    assert created.status_code == 201, created.text
    report_id = created.json()["report"]["id"]  # one snapshot, rendered as HTML and as PDF
    html = await api.get(f"/api/v1/reports/{report_id}", format="html")
    pdf = await api.get(f"/api/v1/reports/{report_id}", format="pdf")
    assert html.status_code == 200 and pdf.status_code == 200

    tables = table_headers(html.text)
    assert len(tables) >= 10 and max(len(headers) for headers in tables) >= 10  # wide tables indeed
    assert any("Aktiv hänvisning" in headers for headers in tables)  # the ED table's last column

    pages = pdf_pages(pdf.content)
    off_page = [
        (number, text, right)
        for number, (width, words) in enumerate(pages, 1)
        for right, text in words
        if right > width + 0.01
    ]
    assert not off_page, f"words beyond the page's right edge (page, word, xMax): {off_page[:20]}"
    page_texts = [squeeze("".join(text for _, text in words)) for _, words in pages]
    missing = [
        (index, header)
        for index, headers in enumerate(tables)
        for header in headers
        if header and not any(squeeze(header) in text for text in page_texts)
    ]
    assert not missing, f"column headers not printed in the PDF (table, header): {missing}"
