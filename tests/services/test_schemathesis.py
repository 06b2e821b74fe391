"""Schemathesis against the real API's /openapi.json with real tokens: no generated request gets a 500.

The app runs under uvicorn in a thread of this process (its own event loop) on the session's broker and
PostgreSQL database, with the rate limits off so that the generated traffic is all answered by the routes.
Bounded and repeatable: a few examples per operation, derandomised, no example database.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from live_api import serving_in_thread
from pg_databases import fresh_pg_database
from schemathesis import GenerationMode

from hypercare.contract.events import new_id
from hypercare.entrypoints.embedded_broker import EmbeddedBroker
from hypercare.settings import Settings
from hypercare.storage.db import Database
from services.app import create_app
from services.auth.tokens import issue_token

ROLES = ("admin", "viewer")


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    """A database of this module's own: generated requests revoke tokens and write rows at random."""
    with fresh_pg_database("hc_st") as url:
        yield url


@pytest.fixture(scope="module")
def live_api(broker: EmbeddedBroker, pg_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tag = new_id("st")[-10:]
    config = Settings(
        kafka_bootstrap=broker.bootstrap,
        database_url=pg_url,
        data_dir=Path(tmp_path_factory.mktemp("schemathesis")),
        topic_prefix=f"st_{tag}",
        rate_limit_ingest="",
        rate_limit_reads="",
        rate_limit_renders="",
    )

    with serving_in_thread(config, name="schemathesis-api") as url:
        yield {"url": url, "pg_url": pg_url}


# The document the app serves at /openapi.json (the test checks that it is the same), read once to name the
# operations at collection time.
DOCUMENT = create_app(Settings(kafka_bootstrap="unused:9092")).openapi()
SCHEMA = schemathesis.openapi.from_dict(DOCUMENT)
OPERATIONS = {f"{op.method.upper()} {op.path}": op for op in (result.ok() for result in SCHEMA.get_all_operations())}


@pytest.fixture
def tokens(live_api: dict[str, Any]) -> dict[str, str]:
    """Fresh tokens for every test: generated requests include DELETE /api/v1/tokens/{id} and may revoke the
    tokens an earlier test used (as an admin may)."""

    async def issue() -> dict[str, str]:
        db = Database.from_url(live_api["pg_url"])
        try:
            tag = new_id("st")[-10:]
            return {role: await issue_token(db, role=role, name=f"schemathesis-{role}-{tag}") for role in ROLES}
        finally:
            await db.close()

    return asyncio.run(issue())


def test_the_served_document_is_the_one_tested(live_api: dict[str, Any]) -> None:
    import httpx

    assert httpx.get(f"{live_api['url']}/openapi.json", timeout=30).json() == DOCUMENT
    assert len(OPERATIONS) >= 30


def _has_input(label: str) -> bool:
    """Whether the operation takes anything a client could get wrong (parameters, a body or a token): negative
    data needs something to break, and an operation such as GET /api/v1/auth/config takes nothing."""
    method, path = label.split(" ", 1)
    operation = DOCUMENT["paths"][path][method.lower()]
    return bool(operation.get("parameters") or operation.get("requestBody") or operation.get("security"))


CASES = [
    (label, mode)
    for label in sorted(OPERATIONS)
    for mode in GenerationMode
    if mode is GenerationMode.POSITIVE or _has_input(label)
]


@pytest.mark.parametrize(("label", "mode"), CASES, ids=[f"{label}-{mode.value}" for label, mode in CASES])
def test_no_generated_request_gets_a_server_error(
    label: str, mode: GenerationMode, live_api: dict[str, Any], tokens: dict[str, str]
) -> None:
    failures: list[str] = []

    @given(case=OPERATIONS[label].as_strategy(generation_mode=mode))
    @settings(
        max_examples=25,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],  # no shrinking: report what was found, quickly
    )
    def run(case: Any) -> None:
        for role in ROLES:
            response = case.call(
                base_url=live_api["url"], headers={"Authorization": f"Bearer {tokens[role]}"}, timeout=60
            )
            if response.status_code >= 500:
                failures.append(
                    f"{case.method} {case.formatted_path} as {role} -> {response.status_code}: "
                    f"{response.text[:300]}\n{case.as_curl_command()}"
                )

    run()
    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        # Ids beyond the database's integer column: asyncpg refused to bind them (was 500).
        ("GET", "/api/v1/alerts/32497111632098", 422),
        ("GET", "/api/v1/known-issues/32497111632098", 422),
        ("POST", "/api/v1/reports/32497111632098/approve", 422),
        ("POST", "/api/v1/alerts/2436286553/acknowledge", 422),
        # Trend buckets before year 1 (was 500: "year 0 is out of range").
        ("GET", "/api/v1/trends?bucket_minutes=547&until=0001-01-01T00%3A00%3A06Z", 422),
    ],
)
def test_what_schemathesis_found_stays_fixed(
    method: str, path: str, expected: int, live_api: dict[str, Any], tokens: dict[str, str]
) -> None:
    import httpx

    headers = {"Authorization": f"Bearer {tokens['admin']}"}
    response = httpx.request(method, f"{live_api['url']}{path}", headers=headers, timeout=30)
    assert response.status_code == expected, response.text
    assert response.json()["detail"]
