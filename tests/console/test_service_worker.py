"""The service worker's precache list (console/sw.js) names exactly the console's files: a module missing
from it would be absent on a tablet that starts offline, a name that no longer exists fails its install."""

from __future__ import annotations

import re
from pathlib import Path

CONSOLE = Path(__file__).resolve().parents[2] / "console"


def shell() -> list[str]:
    source = (CONSOLE / "sw.js").read_text(encoding="utf-8")
    listing = re.search(r"const SHELL = \[(.*?)\];", source, re.DOTALL)
    assert listing, "no SHELL list in sw.js"
    return re.findall(r'"([^"]+)"', listing.group(1))


def test_the_service_worker_precaches_every_file_of_the_console_and_nothing_else() -> None:
    listed = shell()
    assert len(listed) == len(set(listed)), "a file is listed twice"
    files = {
        path.relative_to(CONSOLE).as_posix()
        for path in CONSOLE.rglob("*")
        if path.is_file() and path.name != "sw.js" and not path.name.startswith(".")
    }
    assert set(listed) - {"./"} == files
