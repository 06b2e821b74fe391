"""The command line of the source systems: a token issued for sources, a mapping that refuses the API's start,
and a connector without what it needs."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from hypercare.storage.db import Database
from services.auth.tokens import verify_token

REPO = Path(__file__).resolve().parents[3]


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HYPERCARE_")}
    return subprocess.run(
        [sys.executable, "-m", "hypercare.entrypoints.cli", *args],
        env={**clean, **env},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_source_token_names_its_sources(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    args = ("--role", "source", "--name", "servicenow", "--sources", "servicenow", "--families", "tickets")
    done = run("token", "issue", *args, HYPERCARE_DATABASE_URL=url)
    assert done.returncode == 0, done.stderr

    async def sources() -> frozenset[str] | None:
        db = Database.from_url(url)
        try:
            principal = await verify_token(db, token=done.stdout.strip())
        finally:
            await db.close()
        assert principal is not None
        return principal.sources

    assert asyncio.run(sources()) == frozenset({"servicenow"})
    refused = run(
        "token", "issue", "--role", "agent", "--name", "a", "--sources", "servicenow", HYPERCARE_DATABASE_URL=url
    )
    assert refused.returncode == 2 and "only source tokens post a source system's records" in refused.stderr


def test_the_api_refuses_to_start_with_pseudonymised_fields_and_no_key(tmp_path: Path) -> None:
    done = run("api", HYPERCARE_DATA_DIR=str(tmp_path), HYPERCARE_SOURCE_MAPPINGS="entra_signin")
    assert done.returncode == 2
    assert "source 'entra': the mapping pseudonymises userPrincipalName, userDisplayName, userId and " in done.stderr
    assert "HYPERCARE_PSEUDONYM_KEY is not set" in done.stderr
    broken = tmp_path / "lab.yaml"
    broken.write_text("version: 1\nsource: lab\nrecord_key: id\nevents: []\n", encoding="utf-8")
    done = run("api", HYPERCARE_DATA_DIR=str(tmp_path), HYPERCARE_SOURCE_MAPPINGS=str(broken))
    assert done.returncode == 2
    assert f"{broken}:4: events: List should have at least 1 item after validation, not 0" in done.stderr


def test_a_connector_without_its_settings_says_which(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("hc_x", encoding="utf-8")
    done = run("connector", "run", "tickets", "--once", "--token-file", str(token))
    assert done.returncode == 2 and "HYPERCARE_SERVICENOW_URL is not set" in done.stderr
    done = run("connector", "run", "signins", "--once", "--token-file", str(token))
    assert done.returncode == 2 and "signins needs --path FILE|DIR" in done.stderr
    done = run("connector", "run", "tickets")
    assert done.returncode == 2 and "no source token" in done.stderr
