"""Take the README's screenshots of a running console (Playwright driving Debian's Chromium).

    hypercare up --simulate                   # in another terminal; note the admin token it prints
    HYPERCARE_TOKEN=hc_... .venv/bin/python docs/screenshots.py [--url http://127.0.0.1:8000] [--lang sv]

HYPERCARE_TABLET_TOKEN (optional): a floor walker's token for the tablet (`hypercare token issue --role floorwalker
--name NAME`), so it shows the walker's header rather than the admin's.

Writes PNGs at device scale 1 to docs/screenshots/: the chief's overview at 1920×1080 and 1366×768, wall mode,
the worst unit's page, the floor walker's tablet at 390×844, coordination, readiness, the situation report, and
the waves (the overview filtered to the wave going live: the filter, the wave timeline, the wave comparison).
The token is put in the tab's sessionStorage (as the sign-in form does) and never in a URL.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import urllib.request
from pathlib import Path
from typing import Any

from playwright import async_api

OUT = Path(__file__).resolve().parent / "screenshots"
CHROMIUM = os.environ.get("HYPERCARE_TEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
RANK = {"red": 0, "yellow": 1, "not_assessed": 2, "green": 3}


def live_wave(url: str, token: str) -> str | None:
    """The wave going live (the filter shown in the waves screenshot), if any."""
    request = urllib.request.Request(f"{url}/api/v1/waves", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        waves = json.load(response)["waves"]
    live = [wave["wave_id"] for wave in waves if wave["status"] == "live"]
    return str(live[0]) if live else None


def worst_unit(url: str, token: str) -> str:
    """The unit to show: red first, then the most open tickets."""
    request = urllib.request.Request(f"{url}/api/v1/situation", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        situation = json.load(response)
    units = [
        unit
        for admin in situation["administrations"]
        for site in admin["sites"]
        for unit in site["units"]
        if unit.get("kind") != "ed"
    ]
    units.sort(key=lambda u: (RANK.get(u["health"]["status"], 2), -(u["tickets"]["open"] or 0)))
    return str(units[0]["unit_id"])


async def shoot(
    browser: Any,
    url: str,
    token: str,
    lang: str,
    name: str,
    route: str,
    size: tuple[int, int],
    *,
    wait: str,
    out: Path,
    element: str | None = None,
) -> Path:
    """One screenshot of ``route`` in a fresh context signed in with ``token`` (of ``element`` alone when given)."""
    context = await browser.new_context(
        viewport={"width": size[0], "height": size[1]}, device_scale_factor=1, locale="sv-SE", base_url=url
    )
    await context.add_init_script(
        f"sessionStorage.setItem('hc.token', {json.dumps(token)}); localStorage.setItem('hc.lang', {json.dumps(lang)});"
    )
    try:
        page = await context.new_page()
        await page.goto(f"/console/{route}")
        await page.locator(wait).first.wait_for(timeout=20000)
        await page.wait_for_timeout(2500)  # trends and the header strip arrive after the picture
        path = out / f"{name}.png"
        if element is not None:
            await page.locator(element).first.screenshot(path=str(path))
        else:
            await page.screenshot(path=str(path))
        return path
    finally:
        await context.close()


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--lang", choices=("sv", "en"), default="sv")
    parser.add_argument("--out", type=Path, default=OUT, help="where the PNGs go (default docs/screenshots)")
    args = parser.parse_args()
    token = os.environ.get("HYPERCARE_TOKEN", "")
    if not token:
        print("Set HYPERCARE_TOKEN to an admin's token (hypercare up prints one on first start).", file=sys.stderr)
        return 2
    url = args.url.rstrip("/")
    args.out.mkdir(parents=True, exist_ok=True)
    unit = worst_unit(url, token)
    tablet_token = os.environ.get("HYPERCARE_TABLET_TOKEN") or token
    wave = live_wave(url, token)
    filtered = f"?wave={wave}#/console" if wave else "#/console"
    shots: list[tuple[str, str, tuple[int, int], str, str | None]] = [
        ("console", "#/console", (1920, 1080), ".chart svg", None),
        ("console-1366", "#/console", (1366, 768), ".chart svg", None),
        ("wall", "?wall=1&cycle=600#/console", (1920, 1080), ".chart svg", None),
        ("unit", f"#/console/unit/{unit}", (1920, 1080), ".chart svg", None),
        ("tablet", f"#/tablet/{unit}", (390, 844), ".tablet", None),
        ("coordination", "#/coordination", (1920, 1080), ".stop-criteria table", None),
        ("readiness", "#/readiness", (1920, 1080), ".readiness", None),
        ("report", "#/report", (1920, 1080), ".report-body", None),
        # The overview filtered to the wave going live: its filter, the wave timeline and the comparison chart.
        ("waves", filtered, (1920, 1080), ".wave-compare svg", "section.waves"),
    ]
    async with async_api.async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            for name, route, size, wait, element in shots:
                who = tablet_token if name == "tablet" else token
                path = await shoot(
                    browser, url, who, args.lang, name, route, size, wait=wait, out=args.out, element=element
                )
                print(f"{path}  {path.stat().st_size // 1024} KiB")
        finally:
            await browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
