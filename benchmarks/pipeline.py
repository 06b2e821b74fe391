"""Throughput, latency and memory of the real pipeline on the embedded broker (a benchmark, not a test).

Prints:
  1. stream-worker events/s on a mixed stream of every event type (Kafka → worker → DB + tables), with
     ``--workers W`` worker processes sharing the partitions; the share of the workers' time in the event
     store; every process's RSS (now and peak);
  2. ingest events/s: POST /api/v1/events in batches of 500 (HTTP → validation → Kafka acks=all);
  3. post → WebSocket latency p50/p99 with 100 connected clients while posting ``--rate`` events/s.

    .venv/bin/python benchmarks/pipeline.py [--events 100000] [--database-url URL] [--workers W]
        [--units N] [--rate R] [--worker-only] [--day] [--code DIR]

Without --database-url it uses SQLite in a temporary directory (the embedded default); a PostgreSQL URL
should name a fresh database of its own (the benchmark migrates it). ``--units N`` generates a registry of N
units (the shipped region copied into four waves, ``big_registry.py``). ``--day`` replays a go-live day:
2,000,000 events (``--events N`` scales it down) spread over the last 24 hours, tickets opened and resolved,
produced to the topics first and then read by the workers; it prints events/s, the elapsed time and the
workers' RSS sampled through the replay. ``--code DIR`` runs the worker and API from another checkout (e.g. a
``git archive`` of an older commit) with this benchmark, for before/after figures measured back to back.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import websockets
from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner
from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tests" / "_support"))

from big_registry import generated_registry  # noqa: E402
from processes import env_for, rss_mib, stop  # noqa: E402
from processes import spawn as start_process  # noqa: E402

from hypercare.contract.events import family_of  # noqa: E402
from hypercare.entrypoints.embedded_broker import EmbeddedBroker, free_port  # noqa: E402
from hypercare.org.registry import OrgRegistry, load_org  # noqa: E402
from hypercare.settings import Settings  # noqa: E402
from hypercare.storage.db import Database  # noqa: E402
from hypercare.storage.events_store import count_events  # noqa: E402
from hypercare.storage.migrate import upgrade_database  # noqa: E402
from hypercare.topics import ensure_topics, topics_for  # noqa: E402
from services.auth.tokens import free_name, issue_token  # noqa: E402
from services.ingest.producer import encode_key, encode_value  # noqa: E402

CODE = ROOT  # where the worker and API run from (``--code``)


def generated_org(units: int) -> OrgRegistry:
    """The shipped registry, or copied into its four waves until it has exactly ``units`` units."""
    org = load_org()
    return org if units <= len(org.placements) else generated_registry(org, units)


def mixed_events(n: int, tag: str, org: OrgRegistry | None = None) -> list[dict[str, Any]]:
    """Every event type, spread over the registry's units."""
    org = org or load_org()
    units = list(org.placements)
    eds = [p.unit_id for p in org.emergency_departments]
    now = datetime.now(UTC).isoformat()
    out: list[dict[str, Any]] = []
    for i in range(n):
        unit = units[i % len(units)]
        base = {"event_id": f"{tag}-{i}", "occurred_at": now, "unit_id": unit}
        kind = i % 10
        if kind < 4:
            out.append(
                {
                    **base,
                    "type": "access.login",
                    "user_ref": f"u{i % 997}",
                    "outcome": "failure" if i % 7 == 0 else "success",
                    **({"reason": "card_error"} if i % 7 == 0 else {}),
                }
            )
        elif kind == 4:
            out.append(
                {
                    **base,
                    "type": "access.permission_denied",
                    "user_ref": f"u{i % 991}",
                    "role": "sjukskoterska",
                    "module": "orders",
                }
            )
        elif kind == 5:
            out.append(
                {
                    **base,
                    "type": "ticket.opened",
                    "ticket_id": f"{tag}-T{i}",
                    "channel": "phone",
                    "category": "login",
                    "priority": 1 + i % 4,
                    "summary": "Kan inte skriva ut etiketter",
                }
            )
        elif kind == 6:
            out.append({**base, "type": "ticket.resolved", "ticket_id": f"{tag}-T{i - 1}"})
        elif kind == 7:
            out.append(
                {
                    **base,
                    "type": "floorwalker.checkin",
                    "walker_id": f"fw-{i % 40}",
                    "status": "assisting",
                    "assists": 1,
                    "categories": ["login"],
                }
            )
        elif kind == 8:
            out.append(
                {
                    **base,
                    "unit_id": eds[i % len(eds)],
                    "type": "ed.status",
                    "patients_waiting": i % 20,
                    "patients_in_department": 20,
                    "capacity": 28,
                }
            )
        else:
            out.append({**base, "type": "ticket.updated", "ticket_id": f"{tag}-T{i - 4}", "status": "in_progress"})
    return out


def day_events(n: int, tag: str, org: OrgRegistry, seed: int = 20241112) -> list[dict[str, Any]]:
    """A go-live day of ``n`` events over the last 24 hours, in time order, units drawn at random.

    The mix of :func:`mixed_events` (four logins in ten, failures among them; permission denials; tickets
    opened, updated and resolved; floor-walker check-ins; ED reports), but a ticket is updated and resolved
    on its own unit, oldest first, so the day ends with a backlog rather than every ticket open.
    """
    rng = random.Random(seed)
    units = list(org.placements)
    eds = [p.unit_id for p in org.emergency_departments]
    start = datetime.now(UTC) - timedelta(days=1)
    step = timedelta(days=1) / n
    open_tickets: dict[str, list[str]] = {}
    out: list[dict[str, Any]] = []
    for i in range(n):
        unit = units[rng.randrange(len(units))]
        at = (start + step * i).isoformat()
        base = {"event_id": f"{tag}-{i}", "occurred_at": at, "unit_id": unit}
        kind = rng.randrange(10)
        tickets = open_tickets.setdefault(unit, [])
        if kind < 4:
            failed = rng.random() < 0.15
            login = {"type": "access.login", "user_ref": f"u{rng.randrange(50_000)}"}
            out.append({**base, **login, "outcome": "failure" if failed else "success"})
            if failed:
                out[-1]["reason"] = "card_error"
        elif kind == 4:
            out.append(
                {
                    **base,
                    "type": "access.permission_denied",
                    "user_ref": f"u{rng.randrange(50_000)}",
                    "role": "sjukskoterska",
                    "module": "orders",
                }
            )
        elif kind in (5, 6) and (kind == 5 or not tickets):
            ticket_id = f"{tag}-T{i}"
            tickets.append(ticket_id)
            out.append(
                {
                    **base,
                    "type": "ticket.opened",
                    "ticket_id": ticket_id,
                    "channel": "phone",
                    "category": "login",
                    "priority": 1 + rng.randrange(4),
                    "summary": "Kan inte skriva ut etiketter",
                }
            )
        elif kind == 6:
            out.append({**base, "type": "ticket.resolved", "ticket_id": tickets.pop(0)})
        elif kind == 7:
            out.append(
                {
                    **base,
                    "type": "floorwalker.checkin",
                    "walker_id": f"fw-{rng.randrange(400)}",
                    "status": "assisting",
                    "assists": 1,
                    "categories": ["login"],
                }
            )
        elif kind == 8:
            out.append(
                {
                    **base,
                    "unit_id": eds[rng.randrange(len(eds))],
                    "type": "ed.status",
                    "patients_waiting": rng.randrange(20),
                    "patients_in_department": 20,
                    "capacity": 28,
                }
            )
        elif tickets:
            out.append({**base, "type": "ticket.updated", "ticket_id": tickets[-1], "status": "in_progress"})
        else:
            out.append({**base, "type": "access.login", "user_ref": f"u{rng.randrange(50_000)}", "outcome": "success"})
    return out


def spawn(command: str, settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    """``hypercare COMMAND`` from the code measured (``--code``)."""
    env = env_for(settings)
    env["PYTHONPATH"] = str(CODE)
    return start_process([command], env, log, cwd=CODE)


async def wait_stored(db: Database, expected: int, timeout: float) -> float:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if await count_events(db) >= expected:
            return time.perf_counter()
        # count(*) scans the table: polling it often would take the worker's CPU (2 cores) and skew the figure.
        await asyncio.sleep(0.25)
    raise TimeoutError(f"only {await count_events(db)} of {expected} events stored")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far (a load-independent measure on a shared machine)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def database_cpu(db: Database) -> float:
    """CPU seconds of the PostgreSQL backends connected to the benchmark's database (0 on SQLite, which runs
    inside the workers): the server's share of storing the events, whatever else runs on the machine."""
    if db.dialect != "postgresql":
        return 0.0
    async with db.engine.connect() as connection:
        pids = [
            pid
            for (pid,) in await connection.execute(
                text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
            )
        ]
    return sum(cpu_seconds(pid) for pid in pids)


_SAMPLE = re.compile(
    r"^(hypercare_stream_records_total|hypercare_db_sink_batch_seconds_sum)(?:\{([^}\n]*)\})? (\S+)$", re.M
)


async def worker_figures(client: httpx.AsyncClient, port: int) -> dict[str, float]:
    """Records read (every outcome) and seconds spent storing batches, from one worker's /metrics."""
    figures = {"records": 0.0, "sink_seconds": 0.0}
    try:
        text = (await client.get(f"http://127.0.0.1:{port}/metrics")).text
    except httpx.HTTPError:
        return figures
    for name, _labels, value in _SAMPLE.findall(text):
        figures["records" if name.endswith("records_total") else "sink_seconds"] += float(value)
    return figures


class Workers:
    """``count`` stream-worker processes of one group, each with its own metrics port."""

    def __init__(self, settings: Settings, count: int, workdir: Path) -> None:
        self.ports = [free_port() for _ in range(count)]
        self.processes = [
            spawn("worker", settings.model_copy(update={"worker_web_port": port}), workdir / f"worker{k}.log")
            for k, port in enumerate(self.ports)
        ]
        self.started = time.perf_counter()
        self.logs = workdir

    async def figures(self, client: httpx.AsyncClient) -> dict[str, float]:
        total = {"records": 0.0, "sink_seconds": 0.0}
        for port in self.ports:
            for key, value in (await worker_figures(client, port)).items():
                total[key] += value
        return total

    def cpu(self) -> float:
        return sum(cpu_seconds(p.pid) for p in self.processes)

    def rss(self) -> list[tuple[float, float]]:
        return [rss_mib(p.pid) for p in self.processes]

    def stop(self) -> None:
        for process in self.processes:
            stop(process)


async def drain(workers: Workers, expected: float, timeout: float, *, sample: float = 0.5) -> dict[str, Any]:
    """Poll the workers' metrics until they have read ``expected`` records: when they started and finished,
    the seconds spent in the event store, and RSS samples ``(seconds since spawn, [MiB per worker])``."""
    deadline = time.perf_counter() + timeout
    first: float | None = None
    samples: list[tuple[float, list[float]]] = []
    before = (time.perf_counter(), 0.0)  # the last poll: when, and how many records had been read
    async with httpx.AsyncClient(timeout=5) as client:
        while time.perf_counter() < deadline:
            figures = await workers.figures(client)
            now = time.perf_counter()
            samples.append((now - workers.started, [rss for rss, _ in workers.rss()]))
            if first is None and figures["records"] > 0:
                first = now
            if any(process.poll() is not None for process in workers.processes):
                raise RuntimeError(f"a worker exited before the end; its log is in {workers.logs}")
            if figures["records"] >= expected:
                # When the count passed ``expected`` between the last two polls, at the rate read between them (the
                # poll's own moment is up to ``sample`` seconds late: a bias of a few per cent on a 10 s run).
                when, read = before
                done = when + (now - when) * (expected - read) / (figures["records"] - read)
                return {"first": first, "done": done, "sink_seconds": figures["sink_seconds"], "samples": samples}
            before = (now, figures["records"])
            # Polling /metrics is cheap (no count(*) over a growing table on the workers' two cores).
            await asyncio.sleep(sample)
        raise TimeoutError(f"only {figures['records']:.0f} of {expected:.0f} records read; logs in {workers.logs}")


Produced = list[tuple[str, bytes, bytes]]  # (topic, value, key) of each record


def encode_records(settings: Settings, events: list[dict[str, Any]]) -> Produced:
    """Every event as the record for its family's topic, keyed by unit. Done before a clock starts: encoding the
    benchmark's own data is no part of the system measured, and on two cores its CPU is taken from the worker."""
    topics = topics_for(settings)
    return [
        (topics.family(family_of(event["type"])), encode_value(event), encode_key(event["unit_id"])) for event in events
    ]


async def produce(settings: Settings, records: Produced) -> float:
    """Send every record (``encode_records``) to the partition the producer's default partitioner gives its key
    (as the ingest API's producer places it), in whole record batches; the seconds it took.

    Batches are built here rather than through ``send`` per record (its future, accumulator and callbacks cost this
    process about 18 µs a record, which on two cores it took from the worker reading them)."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap, acks=1, linger_ms=10, max_batch_size=256 * 1024)
    await producer.start()
    try:
        partitioner = DefaultPartitioner()
        partitions = {topic: sorted(await producer.partitions_for(topic)) for topic in {t for t, _, _ in records}}
        start = time.perf_counter()
        building: dict[tuple[str, int], Any] = {}
        pending = []
        for topic, value, key in records:
            placed = (topic, partitioner(key, partitions[topic], partitions[topic]))
            batch = building.get(placed)
            if batch is None:
                batch = building[placed] = producer.create_batch()
            if batch.append(key=key, value=value, timestamp=None) is None:  # full: send it, start the next
                pending.append(await producer.send_batch(batch, placed[0], partition=placed[1]))
                batch = building[placed] = producer.create_batch()
                batch.append(key=key, value=value, timestamp=None)
            if len(pending) >= 200:
                await asyncio.gather(*pending)
                pending.clear()
        for (topic, partition), batch in building.items():
            if batch.record_count():
                pending.append(await producer.send_batch(batch, topic, partition=partition))
        await asyncio.gather(*pending)
        return time.perf_counter() - start
    finally:
        await producer.stop()


def print_rss(label: str, pid: int) -> None:
    now, peak = rss_mib(pid)
    print(f"  RSS {label:<22} {now:7.0f} MiB (peak {peak:.0f} MiB)")


async def bench_worker(
    settings: Settings, db: Database, n: int, workdir: Path, *, workers: int, org: OrgRegistry, broker_pid: int
) -> float:
    """Start the workers, let them join and warm up, then produce ``n`` mixed events and time them through."""
    group = Workers(settings, workers, workdir)
    try:
        warm = mixed_events(10 * workers, f"warm-{uuid.uuid4().hex[:6]}", org)
        await produce(settings, encode_records(settings, warm))
        await drain(group, len(warm), 120)
        await asyncio.sleep(2.0)  # a late joiner's rebalance settles
        async with httpx.AsyncClient(timeout=5) as client:
            base = (await group.figures(client))["records"]
        events = encode_records(settings, mixed_events(n, f"w-{uuid.uuid4().hex[:6]}", org))
        cpu, server = group.cpu(), await database_cpu(db)
        broker, own = cpu_seconds(broker_pid), time.process_time()
        start = time.perf_counter()
        produced = await produce(settings, events)
        result = await drain(group, base + n, 900)
        rate: float = n / (result["done"] - start)
        cpu, server = group.cpu() - cpu, await database_cpu(db) - server
        broker, own = cpu_seconds(broker_pid) - broker, time.process_time() - own
        print(
            f"stream worker, mixed event types, {workers} worker(s): {rate:8.0f} events/s "
            f"(producing took {produced:.1f} s of {result['done'] - start:.1f} s; "
            f"event store {result['sink_seconds']:.1f} s of the workers' time)"
        )
        backends = f"; PostgreSQL backends' CPU: {server:.1f} s, {server / n * 1e6:.0f} µs per event"
        print(f"  workers' CPU: {cpu:.1f} s, {cpu / n * 1e6:.0f} µs per event{backends if server else ''}")
        print(
            f"  the broker's CPU: {broker:.1f} s, {broker / n * 1e6:.0f} µs per event; this benchmark's (producing and "
            f"polling): {own:.1f} s, {own / n * 1e6:.0f} µs per event; "
            f"the two cores' time: {2 * (result['done'] - start):.1f} s"
        )
        for k, process in enumerate(group.processes):
            print_rss(f"worker {k + 1}", process.pid)
        print_rss("broker (Tansu)", broker_pid)
        stored = await count_events(db)
        print(f"  events stored: {stored}")
        return rate
    finally:
        group.stop()


async def replay_day(
    settings: Settings, db: Database, n: int, workdir: Path, *, workers: int, org: OrgRegistry, broker_pid: int
) -> None:
    """A day's events produced first, then read by the workers from a cold start: the day replay."""
    events = day_events(n, f"d-{uuid.uuid4().hex[:6]}", org)
    families = {family_of(e["type"]) for e in events}
    records = encode_records(settings, events)
    del events
    produced = await produce(settings, records)
    del records
    print(
        f"day replay: {n} events of {len(families)} families on {len(org.placements)} units, "
        f"produced in {produced:.0f} s"
    )
    server = await database_cpu(db)
    group = Workers(settings, workers, workdir)
    try:
        result = await drain(group, n, 3600, sample=1.0)
        server = await database_cpu(db) - server
        elapsed = result["done"] - group.started
        reading = result["done"] - result["first"]
        print(
            f"day replay, {workers} worker(s): {n / elapsed:8.0f} events/s from the workers' start "
            f"({elapsed:.1f} s, start-up and group join included; {n / reading:.0f} events/s over the {reading:.1f} s "
            f"of reading); event store {result['sink_seconds']:.1f} s of the workers' time"
        )
        cpu = group.cpu()
        backends = f"; PostgreSQL backends' CPU: {server:.1f} s, {server / n * 1e6:.0f} µs per event"
        print(
            f"  workers' CPU: {cpu:.1f} s from their start, {cpu / n * 1e6:.0f} µs per event"
            f"{backends if server else ''}"
        )
        samples = result["samples"]
        for k, process in enumerate(group.processes):
            series = [rss[k] for _, rss in samples if k < len(rss)]
            marks = [series[int(q * (len(series) - 1))] for q in (0.25, 0.5, 0.75, 1.0)] if series else []
            print_rss(f"worker {k + 1} at the end", process.pid)
            print(
                "    through the replay (quarter, half, three quarters, end): "
                f"{', '.join(f'{m:.0f}' for m in marks)} MiB"
            )
        print_rss("broker (Tansu)", broker_pid)
        print(f"  events stored: {await count_events(db)}")
    finally:
        group.stop()


async def bench_ingest_and_latency(
    settings: Settings, db: Database, token: str, n: int, workdir: Path, *, org: OrgRegistry, rate: int
) -> tuple[float, list[float]]:
    api = spawn("api", settings, workdir / "api.log")
    worker = spawn("worker", settings, workdir / "worker-latency.log")
    base_url = f"http://{settings.host}:{settings.port}"
    headers = {"Authorization": f"Bearer {token}"}
    try:
        async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=60) as client:
            for _ in range(300):
                try:
                    if (await client.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
            base = await count_events(db)
            events = mixed_events(n, f"i-{uuid.uuid4().hex[:6]}", org)
            bodies = [json.dumps(events[i : i + 500]).encode() for i in range(0, n, 500)]
            concurrency = 4
            start = time.perf_counter()

            async def post_slice(chunk: list[bytes]) -> None:
                for body in chunk:
                    response = await client.post(
                        "/api/v1/events", content=body, headers={"Content-Type": "application/json"}
                    )
                    assert response.status_code == 200, response.text

            await asyncio.gather(*(post_slice(bodies[k::concurrency]) for k in range(concurrency)))
            ingest_rate = n / (time.perf_counter() - start)
            # Latency is measured on a worker that has caught up, not behind the ingest burst's backlog.
            await wait_stored(db, base + n, 600)

            latencies = await measure_latency(client, base_url, token, org=org, rate=rate)
        print_rss("API", api.pid)
        print_rss("worker (latency run)", worker.pid)
        return ingest_rate, latencies
    finally:
        stop(api)
        stop(worker)


async def measure_latency(
    client: httpx.AsyncClient,
    base_url: str,
    token: str,
    *,
    org: OrgRegistry,
    clients: int = 100,
    rate: int = 500,
    seconds: float = 20.0,
) -> list[float]:
    """Post ``rate`` events/s with one probe login per 100 ms; every client times every probe's arrival.

    A listener stamps a message the moment it arrives and reads only the probe unit's count from it
    (the unit object starts with its ``unit_id`` and always holds an ``access`` block). Parsing every
    delta whole in 100 clients of one process took a full core of this 2-core machine and delayed the
    reading, not the delivery: real consoles parse on their own machines.
    """
    probe_unit = next(unit for unit in org.placements if unit.startswith("SE2321000131-ERHTANDBOR"))
    probe_marker = f'"unit_id":"{probe_unit}"'.encode()
    logins = re.compile(rb'"logins_15m":(\d+)')
    sent_at: dict[int, float] = {}
    latencies: list[float] = []
    ws_url = base_url.replace("http", "ws") + "/ws/situation"

    async def listen(ready: asyncio.Event, stop_event: asyncio.Event) -> None:
        seen = 0
        async with websockets.connect(ws_url, max_size=None) as ws:
            await ws.send(json.dumps({"type": "auth", "token": token}))  # the token never in the URL
            snapshot = json.loads(await ws.recv())
            for admin in snapshot["situation"]["administrations"]:
                for site in admin["sites"]:
                    for unit in site["units"]:
                        if unit["unit_id"] == probe_unit:
                            seen = unit["access"]["logins_15m"]
            ready.set()
            while not stop_event.is_set():
                try:
                    raw = await asyncio.wait_for(ws.recv(decode=False), 1.0)
                except TimeoutError:
                    continue
                now = time.perf_counter()
                at = raw.find(probe_marker)
                found = logins.search(raw, at) if at >= 0 else None
                if found is None:
                    continue
                count = int(found.group(1))
                for k in range(seen + 1, count + 1):
                    if k in sent_at:
                        latencies.append(now - sent_at[k])
                seen = max(seen, count)

    stop_event = asyncio.Event()
    readies = [asyncio.Event() for _ in range(clients)]
    listeners = [asyncio.create_task(listen(r, stop_event)) for r in readies]
    await asyncio.gather(*(r.wait() for r in readies))
    base = 0
    response = await client.get(f"/api/v1/units/{probe_unit}")
    base = response.json()["access"]["logins_15m"]
    interval = 0.1
    per_tick = int(rate * interval)
    # Only probes may move the probe unit's count, or a count would be matched to the wrong probe.
    filler = [
        e
        for e in mixed_events(int(rate * seconds * 1.05), f"l-{uuid.uuid4().hex[:6]}", org)
        if e["unit_id"] != probe_unit
    ]
    start = time.perf_counter()
    for tick in range(int(seconds / interval)):
        probe = tick + 1
        batch = filler[tick * (per_tick - 1) : (tick + 1) * (per_tick - 1)]
        batch.append(
            {
                "event_id": f"probe-{uuid.uuid4().hex}",
                "type": "access.login",
                "occurred_at": datetime.now(UTC).isoformat(),
                "unit_id": probe_unit,
                "user_ref": "probe",
                "outcome": "success",
            }
        )
        sent_at[base + probe] = time.perf_counter()
        await client.post("/api/v1/events", json=batch)
        delay = start + (tick + 1) * interval - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
    await asyncio.sleep(3.0)
    stop_event.set()
    await asyncio.gather(*listeners, return_exceptions=True)
    return latencies


def machine_reference() -> float:
    """Seconds for a fixed pure-Python loop (10 million additions): runs compare only at similar values."""
    start = time.perf_counter()
    total = 0
    for i in range(10_000_000):
        total += i
    return time.perf_counter() - start


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def main() -> None:
    global CODE
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=None, help="events (default 100,000; 2,000,000 with --day)")
    parser.add_argument("--database-url", default=None, help="a fresh database of its own (default: SQLite)")
    parser.add_argument("--workers", type=int, default=1, help="stream-worker processes sharing the partitions")
    parser.add_argument("--partitions", type=int, default=4, help="partitions per topic")
    parser.add_argument("--units", type=int, default=None, help="a generated registry of N units (default: 40)")
    parser.add_argument("--rate", type=int, default=500, help="events/s posted while latency is measured")
    parser.add_argument("--worker-only", action="store_true", help="only the stream worker's figures")
    parser.add_argument("--day", action="store_true", help="replay a go-live day through the workers")
    parser.add_argument("--code", type=Path, default=None, help="run the worker and API from this checkout")
    args = parser.parse_args()
    CODE = (args.code or ROOT).resolve()
    n = args.events or (2_000_000 if args.day else 100_000)
    workdir = Path(tempfile.mkdtemp(prefix="hypercare-bench-"))
    org = generated_org(args.units) if args.units else load_org()
    org_file = None
    if args.units:
        org_file = workdir / "org.json"  # JSON is YAML: the registry file as the processes read it
        org_file.write_text(json.dumps(org.model_dump(mode="json")))
    broker = EmbeddedBroker(log_file=workdir / "broker.log").start()
    broker_pid = broker._process.pid if broker._process is not None else 0
    try:
        settings = Settings(
            kafka_bootstrap=broker.bootstrap,
            database_url=args.database_url,
            data_dir=workdir,
            topic_prefix=f"bench{uuid.uuid4().hex[:6]}",
            topic_partitions=args.partitions,
            port=free_port(),
            worker_web_port=free_port(),
            org_file=org_file,
            log_level="WARNING",
        )
        upgrade_database(settings.effective_database_url)
        await ensure_topics(settings)
        db = Database.from_url(settings.effective_database_url)
        print(
            f"database: {settings.effective_database_url.split('://')[0]}, events: {n}, units: {len(org.placements)}, "
            f"workers: {args.workers}, partitions: {settings.topic_partitions}, cores: {os.cpu_count()}, "
            f"code: {CODE}, reference loop: {machine_reference():.2f} s"
        )
        if args.day:
            await replay_day(settings, db, n, workdir, workers=args.workers, org=org, broker_pid=broker_pid)
            await db.close()
            return
        await bench_worker(settings, db, n, workdir, workers=args.workers, org=org, broker_pid=broker_pid)
        if args.worker_only:
            await db.close()
            return
        token = await issue_token(db, role="admin", name=await free_name(db, "bench"))
        settings2 = settings.model_copy(update={"topic_prefix": f"bench{uuid.uuid4().hex[:6]}"})
        await ensure_topics(settings2)
        ingest_rate, latencies = await bench_ingest_and_latency(
            settings2, db, token, min(n, 50_000), workdir, org=org, rate=args.rate
        )
        print(f"ingest API, batches of 500:         {ingest_rate:8.0f} events/s")
        if latencies:
            print(
                f"post → WebSocket latency, 100 clients at {args.rate} events/s: "
                f"p50 {percentile(latencies, 0.5) * 1000:.0f} ms, p99 {percentile(latencies, 0.99) * 1000:.0f} ms "
                f"({len(latencies)} samples, mean {statistics.mean(latencies) * 1000:.0f} ms)"
            )
        else:
            print("post → WebSocket latency: no samples (see logs in", workdir, ")")
        await db.close()
    finally:
        print_rss("broker (Tansu) at the end", broker_pid)
        broker.stop()


if __name__ == "__main__":
    asyncio.run(main())
