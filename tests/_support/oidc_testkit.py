"""A real OpenID provider for the sign-in tests (``tests/_support/oidc/provider.mjs``, panva/oidc-provider on
Node.js), and a Hypercare API configured to sign in with it.

``npm ci`` in ``tests/_support/oidc`` runs before pytest (``make test``); a missing ``node_modules`` fails the
tests loudly instead of installing anything at test time.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from html import unescape
from pathlib import Path
from urllib.parse import urljoin

import httpx
import pytest
from hc_testkit import Pipeline

from hypercare.contract.events import new_id
from hypercare.settings import Settings
from hypercare.storage.db import Database
from services.auth.tokens import issue_token

PROVIDER_DIR = Path(__file__).resolve().parent / "oidc"
CLIENT_ID = "hypercare"
CLIENT_SECRET = "hypercare-test-secret-0123456789abcdef"
READY_SECONDS = 30.0


@contextmanager
def oidc_provider(redirect_uri: str, log_path: Path) -> Iterator[str]:
    """Runs the provider for ``redirect_uri`` until the block ends; yields its issuer URL."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("no Node.js (node) on PATH: the sign-in tests need it for the OpenID provider")
    if not (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
        pytest.fail(f"run `npm ci` in {PROVIDER_DIR} first (`make test` does)")
    env = {**os.environ, "CLIENT_ID": CLIENT_ID, "CLIENT_SECRET": CLIENT_SECRET}
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [node, "provider.mjs", redirect_uri],
            cwd=PROVIDER_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=log,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            text=True,
        )
    issuer: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith("READY "):
                issuer.append(line.split()[1])
                ready.set()
        ready.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        if not ready.wait(READY_SECONDS) or not issuer:
            pytest.fail(f"the OpenID provider did not start:\n{log_path.read_text(errors='replace')[-3000:]}")
        yield issuer[0]
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def configure_oidc(pipeline: Pipeline, issuer: str) -> None:
    """Points the pipeline's API at the provider (before it starts)."""
    pipeline.env.update(
        {
            "HYPERCARE_OIDC_ISSUER": issuer,
            "HYPERCARE_OIDC_CLIENT_ID": CLIENT_ID,
            "HYPERCARE_OIDC_CLIENT_SECRET": CLIENT_SECRET,
            "HYPERCARE_PUBLIC_URL": pipeline.base_url,
        }
    )


_FORM = re.compile(r"<form\b[^>]*\baction=\"([^\"]+)\"[^>]*>(.*?)</form>", re.S | re.I)
_INPUT = re.compile(r"<input\b([^>]*)>", re.I)
_ATTR = re.compile(r"(\w+)=\"([^\"]*)\"")


async def sign_in(client: httpx.AsyncClient, base_url: str, login: str) -> httpx.Response:
    """``GET /auth/login``, then the provider's login form as a browser would fill it in; the last answer."""
    response = await client.get(f"{base_url}/auth/login", follow_redirects=True)
    for _ in range(3):  # the login form; a consent form would come next (the test provider grants without one)
        match = _FORM.search(response.text) if response.status_code == 200 else None
        if match is None or "/interaction/" not in match.group(1):
            return response
        fields: dict[str, str] = {}
        for attributes in _INPUT.findall(match.group(2)):
            attrs = dict(_ATTR.findall(attributes))
            if "name" in attrs:
                fields[attrs["name"]] = unescape(attrs.get("value", ""))
        fields.update({"login": login, "password": "any"} if "login" in fields else {})
        action = urljoin(str(response.url), unescape(match.group(1)))
        response = await client.post(action, data=fields, follow_redirects=True)
    return response


@asynccontextmanager
async def oidc_api(bootstrap: str, pg_url: str, log_dir: Path) -> AsyncIterator[Pipeline]:
    """The API alone (no worker: sign-in needs no events folded), signing in with a running test provider; an
    admin token in ``tokens["admin"]``."""
    suffix = new_id("oidc")[-10:]
    settings = Settings(
        kafka_bootstrap=bootstrap,
        database_url=pg_url,
        data_dir=log_dir,
        topic_prefix=f"oidc_{suffix}",
        worker_id=f"worker_{suffix}",
        worker_web_port=0,
    )
    running = Pipeline(settings, log_dir)
    with oidc_provider(f"{running.base_url}/auth/callback", log_dir / "provider.log") as issuer:
        configure_oidc(running, issuer)
        db = Database.from_url(pg_url)
        try:
            running.tokens["admin"] = await issue_token(db, role="admin", name=f"oidc-admin-{suffix}")
        finally:
            await db.close()
        running.api = running._spawn("api")
        try:
            await running.wait_api()
            yield running
        finally:
            running.stop()
