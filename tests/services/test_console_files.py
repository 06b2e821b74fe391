"""The console's files through the real app (httpx): gzipped when asked, ``Cache-Control: no-cache`` with a weak
ETag and Last-Modified, ``304`` on revalidation, the security headers on both; a changed file is sent again."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.routing import Mount

from hypercare.settings import Settings
from services.app import create_app
from services.console_files import ConsoleStaticFiles

CONSOLE = Path(__file__).resolve().parents[2] / "console"
SECURITY = {"x-content-type-options": "nosniff", "referrer-policy": "no-referrer"}


def _client(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


async def _raw(client: httpx.AsyncClient, path: str, headers: dict[str, str]) -> tuple[httpx.Headers, int, bytes]:
    """Status, headers and the body as sent (still encoded: httpx would decode it)."""
    async with client.stream("GET", path, headers=headers) as response:
        return response.headers, response.status_code, b"".join([chunk async for chunk in response.aiter_raw()])


async def test_a_module_is_gzipped_revalidated_with_304_and_carries_the_security_headers(tmp_path: Path) -> None:
    script = (CONSOLE / "js" / "app.js").read_bytes()
    async with _client(create_app(Settings(data_dir=tmp_path))) as client:
        sent, status, body = await _raw(client, "/console/js/app.js", {"Accept-Encoding": "gzip"})
        assert status == 200
        assert sent["content-encoding"] == "gzip" and gzip.decompress(body) == script
        assert sent["vary"] == "Accept-Encoding"
        assert sent["cache-control"] == "no-cache"
        assert sent["etag"].startswith('W/"') and sent["last-modified"]
        by_tag, by_tag_status, by_tag_body = await _raw(
            client, "/console/js/app.js", {"Accept-Encoding": "gzip", "If-None-Match": sent["etag"]}
        )
        by_date, by_date_status, _ = await _raw(
            client, "/console/js/app.js", {"If-Modified-Since": sent["last-modified"]}
        )
        plain, plain_status, plain_body = await _raw(client, "/console/js/app.js", {"Accept-Encoding": "identity"})
    assert by_tag_status == by_date_status == 304 and by_tag_body == b""
    assert by_tag["etag"] == sent["etag"] and by_tag["cache-control"] == "no-cache"
    assert plain_status == 200 and plain_body == script and "content-encoding" not in plain
    assert plain["etag"] == sent["etag"]  # one weak tag for both encodings
    for headers in (sent, by_tag, by_date, plain):
        assert headers.items() >= SECURITY.items()
        assert headers["content-security-policy"].startswith("default-src 'self'")


async def test_the_page_and_the_service_worker_are_revalidated_too(tmp_path: Path) -> None:
    async with _client(create_app(Settings(data_dir=tmp_path))) as client:
        page = await client.get("/console/")
        worker = await client.get("/console/sw.js")
        styles = await client.get("/console/css/app.css")
    assert [page.status_code, worker.status_code, styles.status_code] == [200, 200, 200]
    assert page.content == (CONSOLE / "index.html").read_bytes()
    assert worker.content == (CONSOLE / "sw.js").read_bytes()
    for answer in (page, worker, styles):
        assert answer.headers["cache-control"] == "no-cache"
        assert answer.headers["etag"].startswith('W/"')
        assert answer.headers.items() >= SECURITY.items()


async def test_a_file_changed_by_a_deploy_is_sent_again_to_a_browser_holding_the_old_tag(tmp_path: Path) -> None:
    module = tmp_path / "view.js"
    module.write_text("export const release = 1;\n", encoding="utf-8")
    os.utime(module, (1_700_000_000, 1_700_000_000))
    app = Starlette(routes=[Mount("/console", ConsoleStaticFiles(directory=tmp_path), name="console")])
    async with _client(app) as client:
        first = await client.get("/console/view.js")
        same = await client.get("/console/view.js", headers={"If-None-Match": first.headers["etag"]})
        module.write_text("export const release = 2;\n", encoding="utf-8")
        os.utime(module, (1_700_000_600, 1_700_000_600))
        changed = await client.get("/console/view.js", headers={"If-None-Match": first.headers["etag"]})
        unknown = await client.get("/console/view.js", headers={"If-None-Match": 'W/"other", "another"'})
    assert [first.status_code, same.status_code, changed.status_code, unknown.status_code] == [200, 304, 200, 200]
    assert changed.text == "export const release = 2;\n"
    assert changed.headers["etag"] != first.headers["etag"]
    assert changed.headers["cache-control"] == "no-cache"
