"""The HTML report carries its own Content-Security-Policy: its inline style block by hash, nothing else."""

from __future__ import annotations

import base64
import hashlib
from html.parser import HTMLParser

from report_api import ReportApi
from report_day import fresh_day, simulate_day


class Styles(HTMLParser):
    """The text of every ``<style>`` element, and whether anything else could need a policy."""

    def __init__(self) -> None:
        super().__init__()
        self.blocks: list[str] = []
        self.others: list[str] = []  # scripts, style attributes, external resources
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_style = tag == "style"
        if self._in_style:
            self.blocks.append("")
        if tag in ("script", "link", "img", "iframe", "object"):
            self.others.append(tag)
        self.others += [
            f"{tag}[{name}]" for name, _ in attrs if name in ("style", "src", "href") or name.startswith("on")
        ]

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.blocks[-1] += data


async def test_the_html_report_allows_exactly_its_own_style_block(api: ReportApi) -> None:
    sim = simulate_day(
        fresh_day(),
        admin_of=api.org.admin_of,
        eds=api.org.eds,
        receiving_ed=api.org.unit("B1RX"),
        region_id=api.org.region,
    )
    await api.store(sim.events)
    response = await api.get("/api/v1/reports/daily", date=sim.day.isoformat(), format="html")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")

    styles = Styles()
    styles.feed(response.text)
    styles.close()
    assert len(styles.blocks) == 1 and "@page" in styles.blocks[0]
    assert styles.others == []  # the charts are inline SVG: no script, image, link or style attribute to allow
    digest = base64.b64encode(hashlib.sha256(styles.blocks[0].encode("utf-8")).digest()).decode("ascii")
    assert response.headers.get_list("content-security-policy") == [
        f"default-src 'none'; img-src data:; style-src 'sha256-{digest}'; frame-ancestors 'none'"
    ]
    assert response.headers["x-content-type-options"] == "nosniff"  # the other security headers stay

    # The other formats keep the app's policy.
    json_response = await api.get("/api/v1/reports/daily", date=sim.day.isoformat())
    assert json_response.headers["content-security-policy"].startswith("default-src 'self'")
