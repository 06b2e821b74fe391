"""The database unreachable for 30 s under load (cut by the test's TCP proxy): ingest keeps answering, the live
picture keeps being read, database-backed routes answer 503 with Retry-After, the worker waits and resumes, and the
oracle finds nothing lost or counted twice."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from fault_oracle import UNITS, Verdict, mixed_load
from fault_runs import assert_exact, post_all, settle_and_judge
from hc_testkit import running
from sqlalchemy.engine import make_url
from tcp_proxy import TcpProxy

from hypercare.entrypoints.embedded_broker import free_port
from hypercare.settings import Settings

pytestmark = pytest.mark.slow


async def test_database_unreachable_for_thirty_seconds_under_load(
    settings_factory: Callable[..., Settings], pg_url: str, tmp_path: Path, report: Callable[[Verdict], None]
) -> None:
    proxy = TcpProxy(listen_port=free_port(), target_port=make_url(pg_url).port or 5432)
    await proxy.start()
    proxied = make_url(pg_url).set(host="127.0.0.1", port=proxy.listen_port).render_as_string(hide_password=False)
    settings = settings_factory(database_url=proxied, worker_batch_size=100)
    try:
        async with running(settings, tmp_path) as pipeline:
            await pipeline.wait_worker_ready()
            events = mixed_load(seed=6, count=3000)
            await post_all(pipeline, events[:1000], batch=100)
            await pipeline.wait_for(f"/api/v1/units/{UNITS[0]}", lambda u: u["access"]["logins_15m"] > 0)
            await proxy.cut()
            cut_at = time.monotonic()
            statuses: list[int] = []
            during = events[1000:2000]
            for start in range(0, len(during), 100):  # ingest keeps answering while the database is away
                await post_all(pipeline, during[start : start + 100], batch=100)
                unit = await pipeline.get(f"/api/v1/units/{UNITS[0]}")
                statuses.append(unit.status_code)
                await asyncio.sleep(2.0)
            async with httpx.AsyncClient(base_url=pipeline.base_url, timeout=10) as client:
                live, records = await client.get("/readyz"), await client.get("/readyz/records")
                stored = await client.get(
                    "/api/v1/decisions", headers={"Authorization": f"Bearer {pipeline.tokens['viewer']}"}
                )
            assert (live.status_code, records.status_code) == (200, 503), (live.text, records.text)
            assert stored.status_code == 503 and "retry-after" in stored.headers, stored.text
            assert set(statuses) == {200}, statuses  # the live picture was read all along
            await asyncio.sleep(max(0.0, 30.0 - (time.monotonic() - cut_at)))
            await proxy.start()  # the database is back
            await post_all(pipeline, events[2000:], batch=100)
            verdict = await settle_and_judge(pipeline, "PostgreSQL unreachable for 30 s under load", events)
            assert_exact(verdict, report)
    finally:
        await proxy.cut()
