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


def cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYPERCARE_")}
    env["HYPERCARE_DATABASE_URL"] = url
    return subprocess.run(
        [sys.executable, "-m", "hypercare.entrypoints.cli", "token", *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_token_lifecycle_issue_list_revoke(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'life.db'}"
    done = cli(
        url, "issue", "--role", "chief", "--name", "sas-chief", "--expires", "90d", "--scope", "SE2321000131-FSAS"
    )
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip()
    taken = cli(url, "issue", "--role", "viewer", "--name", "sas-chief")
    assert taken.returncode == 2 and "a token named 'sas-chief' exists already" in taken.stderr
    assert "not a duration" in cli(url, "issue", "--role", "viewer", "--name", "x", "--expires", "3w").stderr
    assert (
        "not the region, an administration"
        in cli(url, "issue", "--role", "viewer", "--name", "y", "--scope", "z").stderr
    )
    listed = cli(url, "list")
    assert listed.returncode == 0, listed.stderr
    header, row = listed.stdout.splitlines()
    assert header.split()[:6] == ["id", "name", "role", "scope", "families", "sources"] and "last used" in header
    assert (
        row.split()[1:6] == ["sas-chief", "chief", "SE2321000131-FSAS", "-", "-"]
        and token not in listed.stdout
        and "hc_" not in listed.stdout
    )

    async def holder() -> Principal | None:
        db = Database.from_url(url)
        try:
            return await verify_token(db, token=token)
        finally:
            await db.close()

    principal = asyncio.run(holder())
    assert principal is not None and principal.scope == "SE2321000131-FSAS" and principal.expires_at is not None
    revoked = cli(url, "revoke", row.split()[0])  # by id
    assert revoked.returncode == 0, revoked.stderr
    assert asyncio.run(holder()) is None
    assert cli(url, "revoke", "sas-chief").returncode == 1  # nothing active left of that name


def test_token_list_shows_a_source_tokens_families_and_sources_as_the_api_lists_them(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'sources.db'}"
    issued = cli(
        url, "issue", "--role", "source", "--name", "snow", "--sources", "servicenow,entra", "--families", "tickets"
    )
    assert issued.returncode == 0, issued.stderr
    assert cli(url, "issue", "--role", "source", "--name", "portal", "--families", "access").returncode == 0
    listed = cli(url, "list")
    assert listed.returncode == 0, listed.stderr
    header, *rows = listed.stdout.splitlines()
    columns = header.split()
    by_name = {row.split()[1]: dict(zip(columns, row.split(), strict=False)) for row in rows}
    assert by_name["snow"]["sources"] == "entra,servicenow"  # sorted, as stored and as GET /api/v1/tokens has them
    assert by_name["snow"]["families"] == "tickets"
    assert by_name["portal"]["sources"] == "-" and by_name["portal"]["families"] == "access"
    assert issued.stdout.strip() not in listed.stdout
