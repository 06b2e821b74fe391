"""/metrics of the API and the worker count exactly what was posted; readiness follows broker and database:
the API's /readyz (the live picture) follows the broker only, its /readyz/records the database."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from hc_testkit import Pipeline, event
from prometheus_client.parser import text_string_to_metric_families
from promql import metric_names_in_dashboards
from sqlalchemy.engine import make_url
from tcp_proxy import TcpProxy

from hypercare.entrypoints.embedded_broker import EmbeddedBroker, free_port
from hypercare.settings import Settings

WARD = "SE2321000131-ESASBOR240"
SAS_NAME = "Södra Älvsborgs Sjukhus"

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
REPO = Path(__file__).resolve().parents[2]
SUFFIXES = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_sum", "_count", "_created")}


def series_names(family: Any) -> set[str]:
    """Series a family exposes, also when it has no sample yet (a labelled metric before first use)."""
    names = {sample.name for sample in family.samples}
    names |= {family.name + suffix for suffix in SUFFIXES.get(family.type, ("",))}
    return names


async def scrape(url: str) -> Samples:
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.get(f"{url}/metrics")
    assert response.status_code == 200
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def wait_ready(url: str, timeout: float = 30.0) -> None:
    await wait_status(url, 200, timeout=timeout)


async def wait_status(
    url: str, status: int, *, timeout: float = 30.0, problem: str | None = None, path: str = "/readyz"
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    last: Any = None
    async with httpx.AsyncClient(timeout=10) as client:
        while time.monotonic() < deadline:
            try:
                response = await client.get(f"{url}{path}")
                last = (response.status_code, response.text)
                if response.status_code == status:
                    body: dict[str, Any] = response.json()
                    if problem is None or problem in body.get("problems", {}):
                        return body
            except httpx.TransportError as error:
                last = repr(error)
            await asyncio.sleep(0.25)
    raise AssertionError(f"{url}{path} never answered {status} ({problem}); last: {last}")


async def test_metrics_count_exactly_what_was_posted(pipeline: Pipeline) -> None:
    await wait_ready(pipeline.worker_url)
    api_before = await scrape(pipeline.base_url)
    worker_before = await scrape(pipeline.worker_url)

    logins = [event("access.login", WARD, user_ref=f"u{i}", outcome="success") for i in range(7)]
    tickets = [
        event("ticket.opened", WARD, ticket_id=f"M{i}", channel="phone", category="orders", priority=2)
        for i in range(3)
    ]
    invalid = [{"type": "access.login"}, {"type": "no.such.type", "event_id": "x"}]
    response = await pipeline.post_events([*logins, *tickets, *invalid], role="source")
    assert response.json()["accepted"] == 10
    await pipeline.wait_for(
        f"/api/v1/units/{WARD}", lambda u: u["access"]["logins_15m"] == 7 and u["tickets"]["open"] == 3
    )
    # A resend is acknowledged by the API (counted as ingested) and recognised by the worker.
    assert (await pipeline.post_events(logins[:2], role="source")).json()["accepted"] == 2

    deadline = time.monotonic() + 20
    while True:
        worker = await scrape(pipeline.worker_url)
        api = await scrape(pipeline.base_url)
        duplicates = value(worker, "hypercare_stream_records_total", family="access", outcome="duplicate") - value(
            worker_before, "hypercare_stream_records_total", family="access", outcome="duplicate"
        )
        gauge = value(api, "hypercare_open_tickets", administration=SAS_NAME, priority="2")
        if (duplicates == 2 and gauge == 3) or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.25)

    def api_delta(name: str, **labels: str) -> float:
        return value(api, name, **labels) - value(api_before, name, **labels)

    def worker_delta(name: str, **labels: str) -> float:
        return value(worker, name, **labels) - value(worker_before, name, **labels)

    assert api_delta("hypercare_events_ingested_total", type="access.login", outcome="accepted") == 9
    assert api_delta("hypercare_events_ingested_total", type="ticket.opened", outcome="accepted") == 3
    assert api_delta("hypercare_events_ingested_total", type="access.login", outcome="rejected") == 1
    assert api_delta("hypercare_events_ingested_total", type="invalid", outcome="rejected") == 1
    assert api_delta("hypercare_quarantined_total", stage="ingest") == 2
    assert api_delta("hypercare_produce_latency_seconds_count") == 2
    assert worker_delta("hypercare_stream_records_total", family="access", outcome="applied") == 7
    assert worker_delta("hypercare_stream_records_total", family="tickets", outcome="applied") == 3
    assert worker_delta("hypercare_stream_records_total", family="access", outcome="duplicate") == 2
    assert worker_delta("hypercare_event_to_aggregate_seconds_count") == 10
    assert worker_delta("hypercare_db_sink_batch_seconds_count") >= 1
    assert value(api, "hypercare_open_tickets", administration=SAS_NAME, priority="2") == 3
    assert value(api, "hypercare_logins_15m", administration=SAS_NAME) == 7
    assert value(api, "hypercare_login_failure_rate", administration=SAS_NAME) == 0.0

    # Every metric a dashboard or alerting rule selects is exported by the running API or worker.
    async with httpx.AsyncClient(timeout=10) as client:
        texts = [(await client.get(f"{url}/metrics")).text for url in (pipeline.base_url, pipeline.worker_url)]
    exported = {"up"} | {
        name for text in texts for family in text_string_to_metric_families(text) for name in series_names(family)
    }
    for source, names in metric_names_in_dashboards(REPO).items():
        assert names <= exported, f"{source} selects metrics nobody exports: {sorted(names - exported)}"


async def test_readyz_follows_the_broker_and_the_database(
    settings_factory: Callable[..., Settings], pg_url: str, tmp_path: Path
) -> None:
    broker_proxy = TcpProxy(listen_port=free_port(), target_port=0)
    broker = EmbeddedBroker(advertised_port=broker_proxy.listen_port).start()
    broker_proxy.target_port = broker.port
    parsed = make_url(pg_url)
    db_proxy = TcpProxy(listen_port=free_port(), target_port=parsed.port or 5432)
    await broker_proxy.start()
    await db_proxy.start()
    proxied_db = parsed.set(host="127.0.0.1", port=db_proxy.listen_port).render_as_string(hide_password=False)
    running = Pipeline(settings_factory(kafka_bootstrap=broker.bootstrap, database_url=proxied_db), tmp_path)
    try:
        await running.start()
        for url in (running.base_url, running.worker_url):
            await wait_ready(url)
        await wait_status(running.base_url, 200, path="/readyz/records")

        await db_proxy.cut()
        # The worker cannot store events; the API's records are unreachable, but its live picture stays ready.
        body = await wait_status(running.worker_url, 503, problem="database")
        assert "database unreachable" in body["problems"]["database"]
        body = await wait_status(running.base_url, 503, problem="database", path="/readyz/records")
        assert "database unreachable" in body["problems"]["database"]
        async with httpx.AsyncClient(timeout=10) as client:
            assert (await client.get(f"{running.base_url}/readyz")).status_code == 200
        await db_proxy.start()
        for url in (running.base_url, running.worker_url):
            await wait_ready(url)
        await wait_status(running.base_url, 200, path="/readyz/records")

        await broker_proxy.cut()
        for url in (running.base_url, running.worker_url):
            body = await wait_status(url, 503, problem="broker")
            assert "unreachable" in body["problems"]["broker"]
        await broker_proxy.start()
        for url in (running.base_url, running.worker_url):
            await wait_ready(url, timeout=60)
    finally:
        running.stop()
        await broker_proxy.cut()
        await db_proxy.cut()
        broker.stop()
