"""``hypercare token issue``: scoped source tokens from the command line, and the scopes it refuses."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from hypercare.storage.db import Database
from services.auth.roles import Role
from services.auth.tokens import Principal, verify_token

REPO = Path(__file__).resolve().parents[3]
WARD, ED = "SE2321000131-ESASBOR240", "SE2321000131-ESASBORAKM"


def issue(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYPERCARE_")}
    env["HYPERCARE_DATABASE_URL"] = url
    return subprocess.run(
        [sys.executable, "-m", "hypercare.entrypoints.cli", "token", "issue", *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_token_issue_with_families_and_units(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    done = issue(url, "--role", "source", "--name", "portal", "--families", "tickets,access", "--units", f"{WARD},{ED}")
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip()

    async def holder() -> Principal | None:
        db = Database.from_url(url)
        try:
            return await verify_token(db, token=token)
        finally:
            await db.close()

    assert asyncio.run(holder()) == Principal(
        "portal", Role.SOURCE, families=frozenset({"tickets", "access"}), units=frozenset({WARD, ED})
    )

    refused = issue(url, "--role", "agent", "--name", "a", "--families", "tickets")
    assert refused.returncode == 2 and "only source tokens are scoped" in refused.stderr and not refused.stdout
    refused = issue(url, "--role", "source", "--name", "b", "--families", "coordination")
    assert refused.returncode == 2 and "not allowed for a source: coordination" in refused.stderr
    refused = issue(url, "--role", "source", "--name", "c", "--units", "NOT-A-UNIT")
    assert refused.returncode == 2 and "not units of the org registry: NOT-A-UNIT" in refused.stderr
