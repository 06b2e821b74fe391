"""Load on the console gateway: many WebSocket clients, events posted at a steady rate (a benchmark, not a test).

Starts an embedded broker, one stream worker and ``hypercare api --workers K`` on a generated registry of N
units in four waves (written to a temporary YAML file, ``HYPERCARE_ORG_FILE``), connects C WebSocket clients
from separate probe processes (each its own event loop with many sockets, so the probe does not take the
server's time from inside its process), posts R events/s for S seconds and prints:

  achieved rate; first snapshot p50/p95 (connect → snapshot, every client connecting at once); WebSocket
  handshake p50; post → WebSocket p50/p99 measured from the POST's answer (one probe login per 100 ms batch,
  timed at every client whose subscription holds its unit), and again for those posted after the first 2 s,
  with when the slowest 1% were posted; bytes per client per second (on the wire, read at each client's socket,
  and the messages' payload); clients dropped; how the clients spread over the API processes; the CPU of the API
  and worker processes while posting; RSS of every server process at the end; the load average before and after.

``--deflate on|off`` sets ``HYPERCARE_WEBSOCKET_DEFLATE`` for the API and has the clients offer permessage-deflate
(the ``websockets`` client's default) or not (``compression=None``); it prints how many clients negotiated it.

``--subscribe`` says what each client shows (``scopes`` in its first, ``auth``, message; README "Live updates"):

  none            no subscription: the whole picture, whole objects (the console before subscriptions); probe
                  unit: the registry's first unit
  administration  one administration each, the clients spread over the administrations in turn; probe units:
                  the first unit of each administration, one probe login per batch in turn over them
  overview        ``["region", "emergency_departments"]`` (the console's overview); probe unit: the first ED
  tablet          one unit and its site, the clients spread over the administrations' first units (the probe
                  units, in turn as for ``administration``)

Subscribed clients read the probe count from the merge patches (``patch.units.<id>.access.logins_15m``, parsed:
a patch names a unit by its key, not by a ``unit_id`` member); unsubscribed ones from the whole objects.

    .venv/bin/python benchmarks/gateway_load.py --units 2000 --clients 100 --rate 500 --api-workers 1 \\
        --seconds 20 [--subscribe administration] [--deflate on|off] [--database-url URL] [--probes 2]

Without --database-url it uses SQLite in a temporary directory (the embedded default).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import websockets
import yaml
from websockets.asyncio.client import ClientConnection

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "_support"))

from big_registry import generated_registry  # noqa: E402
from processes import env_for, rss_mib, spawn  # noqa: E402
from processes import stop as stop_process  # noqa: E402

from hypercare.entrypoints.embedded_broker import EmbeddedBroker, free_port  # noqa: E402
from hypercare.org.registry import OrgRegistry, load_org  # noqa: E402
from hypercare.settings import Settings  # noqa: E402
from hypercare.storage.db import Database  # noqa: E402
from hypercare.storage.migrate import upgrade_database  # noqa: E402
from hypercare.topics import ensure_topics  # noqa: E402
from services.auth.tokens import free_name, issue_token  # noqa: E402

INTERVAL = 0.1  # one batch (with one probe login) per 100 ms
SETTLE = 2.0  # seconds after the first post: the p99 of later probe logins is printed too
LOGINS = re.compile(rb'"logins_15m":(\d+)')


# --- the registry --------------------------------------------------------------------------------------
def registry_file(units: int, path: Path) -> OrgRegistry:
    """The generated registry of ``units`` units as a registry file (what ``HYPERCARE_ORG_FILE`` reads).

    The generated ids (``<id>-<copy>``, ``<id>-w<wave>``) are not HSA ids, which a registry file must use: every
    administration, site and unit gets ``<organisation>-G<kind><number>`` instead, everywhere it is named.
    """
    document = generated_registry(load_org(), units).model_dump(mode="json", exclude_none=True)
    renamed: dict[str, str] = {}
    for admin in document["administrations"]:
        renamed[admin["id"]] = f"{admin['id'].split('-', 1)[0]}-GA{len(renamed):06d}"
        for site in admin["sites"]:
            renamed[site["id"]] = f"{site['id'].split('-', 1)[0]}-GS{len(renamed):06d}"
            for unit in site["units"]:
                renamed[unit["id"]] = f"{unit['id'].split('-', 1)[0]}-GU{len(renamed):06d}"

    def rename(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: rename(item) for key, item in value.items()}
        if isinstance(value, list):
            return [rename(item) for item in value]
        return renamed.get(value, value) if isinstance(value, str) else value

    path.write_text(yaml.safe_dump(rename(document), allow_unicode=True, sort_keys=False))
    return load_org(path)


# --- subscriptions -------------------------------------------------------------------------------------
def client_plans(org: OrgRegistry, mode: str, clients: int) -> list[tuple[list[str] | None, str]]:
    """Per client: the scopes it subscribes to (None: none) and the probe unit it times."""
    firsts = [(admin, admin.sites[0], admin.sites[0].units[0]) for admin in org.administrations]
    if mode == "none":
        return [(None, next(iter(org.placements)))] * clients
    if mode == "overview":
        return [(["region", "emergency_departments"], org.emergency_departments[0].unit_id)] * clients
    plans: list[tuple[list[str] | None, str]] = []
    for i in range(clients):
        admin, site, unit = firsts[i % len(firsts)]
        plans.append(([admin.id] if mode == "administration" else [unit.id, site.id], unit.id))
    return plans


# --- events ----------------------------------------------------------------------------------------------
def filler_events(org: OrgRegistry, n: int, tag: str, avoid: set[str]) -> list[dict[str, Any]]:
    """Logins, permission denials, tickets and floor-walker check-ins spread over every unit but ``avoid``."""
    units = [unit for unit in org.placements if unit not in avoid]
    now = datetime.now(UTC).isoformat()
    out: list[dict[str, Any]] = []
    for i in range(n):
        base = {"event_id": f"{tag}-{i}", "occurred_at": now, "unit_id": units[i % len(units)]}
        kind = i % 10
        if kind < 5:
            failed = i % 7 == 0
            out.append(
                {
                    **base,
                    "type": "access.login",
                    "user_ref": f"u{i % 997}",
                    "outcome": "failure" if failed else "success",
                    **({"reason": "card_error"} if failed else {}),
                }
            )
        elif kind == 5:
            out.append(
                {
                    **base,
                    "type": "access.permission_denied",
                    "user_ref": f"u{i % 991}",
                    "role": "sjukskoterska",
                    "module": "orders",
                }
            )
        elif kind == 6:
            out.append(
                {
                    **base,
                    "type": "ticket.opened",
                    "ticket_id": f"{tag}-T{i}",
                    "channel": "phone",
                    "category": "login",
                    "priority": 2 + i % 3,
                    "summary": "Kan inte skriva ut etiketter",
                }
            )
        elif kind == 7:
            opened_at = units[(i - 1) % len(units)]  # where the previous event opened the ticket
            out.append({**base, "unit_id": opened_at, "type": "ticket.resolved", "ticket_id": f"{tag}-T{i - 1}"})
        else:
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
    return out


def probe_login(unit: str) -> dict[str, Any]:
    return {
        "event_id": f"probe-{uuid.uuid4().hex}",
        "type": "access.login",
        "occurred_at": datetime.now(UTC).isoformat(),
        "unit_id": unit,
        "user_ref": "probe",
        "outcome": "success",
    }


# --- probe processes -------------------------------------------------------------------------------------
class CountingConnection(ClientConnection):
    """A client connection that counts the bytes its socket received (compressed ones, when deflate is on)."""

    wire = 0

    def data_received(self, data: bytes) -> None:
        self.wire += len(data)
        super().data_received(data)


async def _client(
    url: str,
    token: str,
    plan: tuple[list[str] | None, str],
    go: Any,
    stop: Any,
    result: dict[str, Any],
    connected: asyncio.Event,
    deflate: bool,
) -> None:
    """One WebSocket client: handshake and snapshot times, then the arrival time of every probe count."""
    scopes, probe_unit = plan
    result["unit"] = probe_unit
    marker = f'"unit_id":"{probe_unit}"'.encode()
    started = time.time()
    try:
        ws = await websockets.connect(
            url,
            max_size=None,
            open_timeout=120,
            ping_interval=None,
            compression="deflate" if deflate else None,
            create_connection=CountingConnection,
        )
    except Exception as error:
        result["failed"] = type(error).__name__
        connected.set()
        return
    result["handshake"] = time.time() - started
    assert isinstance(ws, CountingConnection)
    result["process"] = ws.response.headers.get("x-hypercare-process", "?") if ws.response else "?"
    extensions = ws.response.headers.get("sec-websocket-extensions", "") if ws.response else ""
    result["deflate"] = "permessage-deflate" in extensions
    arrivals: dict[int, float] = {}
    received = 0
    try:
        first: dict[str, Any] = {"type": "auth", "token": token}
        if scopes is not None:
            first["scopes"] = scopes
        await ws.send(json.dumps(first))
        raw = await asyncio.wait_for(ws.recv(decode=False), 120)
        if scopes is not None and not raw.startswith(b'{"type":"snapshot"'):
            raise RuntimeError(f"the subscription was refused: {raw[:200]!r}")
        result["snapshot"] = time.time() - started
        connected.set()
        count_of = _count if scopes is None else _patched_count
        seen = count_of(raw, marker, probe_unit)
        wire_from = ws.wire
        while not stop.is_set():
            try:
                raw = await asyncio.wait_for(ws.recv(decode=False), 0.5)
            except TimeoutError:
                continue
            now = time.time()
            if go.is_set():
                received += len(raw)
                result["wire"] = ws.wire - wire_from
            else:
                wire_from = ws.wire  # the socket's count at the last message before the posting began
            count = count_of(raw, marker, probe_unit)
            if count is not None and (seen is None or count > seen):
                first = seen + 1 if seen is not None else count
                for k in range(first, count + 1):
                    arrivals.setdefault(k, now)
                seen = count
    except (websockets.exceptions.ConnectionClosed, TimeoutError):
        result["dropped"] = True
    finally:
        connected.set()
        result["arrivals"] = arrivals
        result["bytes"] = received
        await ws.close()


def _count(raw: bytes, marker: bytes, unit: str) -> int | None:
    """The probe unit's login count in a whole-object message, read without parsing the whole message."""
    at = raw.find(marker)
    found = LOGINS.search(raw, at) if at >= 0 else None
    return int(found.group(1)) if found else None


def _patched_count(raw: bytes, marker: bytes, unit: str) -> int | None:
    """The probe unit's login count in a subscribed snapshot (``picture``) or merge patch (``patch``), if there."""
    if unit.encode() not in raw:
        return None
    message = json.loads(raw)
    units = (message.get("picture") or message.get("patch") or {}).get("units") or {}
    value = (units.get(unit) or {}).get("access", {}).get("logins_15m")
    return value if isinstance(value, int) else None


def probe_process(
    url: str,
    token: str,
    plans: list[tuple[list[str] | None, str]],
    ready: Any,
    go: Any,
    stop: Any,
    out: Any,
    deflate: bool,
) -> None:
    """A probe process: one socket per plan on one event loop; its results go to ``out`` at the end."""

    async def run() -> list[dict[str, Any]]:
        clients = len(plans)
        results: list[dict[str, Any]] = [{} for _ in range(clients)]
        connected = [asyncio.Event() for _ in range(clients)]
        tasks = [
            asyncio.create_task(_client(url, token, plan, go, stop, result, done, deflate))
            for plan, result, done in zip(plans, results, connected, strict=True)
        ]
        await asyncio.gather(*(done.wait() for done in connected))
        ready.put(clients)
        await asyncio.gather(*tasks, return_exceptions=True)
        return results

    out.put(asyncio.run(run()))


# --- server processes ------------------------------------------------------------------------------------
def descendants(pid: int) -> list[int]:
    found: list[int] = []
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return found
    for child in map(int, children):
        found += [child, *descendants(child)]
    return found


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds the processes used so far (those gone count 0)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


# --- the run ---------------------------------------------------------------------------------------------
async def run(args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="hypercare-gateway-load-"))
    org_file = workdir / "org.yaml"
    org = registry_file(args.units, org_file)
    plans = client_plans(org, args.subscribe, args.clients)
    load = [os.getloadavg()[0]]
    probe_units = list(dict.fromkeys(unit for _, unit in plans))
    broker = EmbeddedBroker(log_file=workdir / "broker.log").start()
    processes: list[subprocess.Popen[bytes]] = []
    try:
        settings = Settings(
            kafka_bootstrap=broker.bootstrap,
            database_url=args.database_url,
            data_dir=workdir,
            topic_prefix=f"gwload{uuid.uuid4().hex[:6]}",
            worker_id=f"gwload-{uuid.uuid4().hex[:6]}",
            port=free_port(),
            worker_web_port=free_port(),
            log_level="WARNING",
            org_file=org_file,
            rate_limit_ingest="1000000/minute",
            websocket_deflate=args.deflate == "on",
        )
        upgrade_database(settings.effective_database_url)
        await ensure_topics(settings)
        db = Database.from_url(settings.effective_database_url)
        try:
            token = await issue_token(db, role="admin", name=await free_name(db, "gateway-load"))
        finally:
            await db.close()
        env = {**env_for(settings), "HYPERCARE_ORG_FILE": str(org_file)}
        worker = spawn(["worker"], env, workdir / "worker.log", cwd=ROOT)
        api = spawn(["api", "--workers", str(args.api_workers)], env, workdir / "api.log", cwd=ROOT)
        processes += [api, worker]
        base_url = f"http://{settings.host}:{settings.port}"
        async with httpx.AsyncClient(base_url=base_url, headers={"Authorization": f"Bearer {token}"}) as client:
            await _wait_ready(client, api, workdir, args.api_workers)
            if args.warm_up:
                await _warm_up(client, org, probe_units[0])
            print(
                f"units {len(org.placements)}, clients {args.clients}, target {args.rate} events/s, api processes "
                f"{args.api_workers}, probe processes {args.probes}, {args.seconds:g} s, subscribe {args.subscribe} "
                f"({len(probe_units)} probe units), deflate {args.deflate}, database "
                f"{settings.effective_database_url.split('://')[0]}, cores {os.cpu_count()}",
                flush=True,
            )
            ctx = mp.get_context("spawn")
            ready, out = ctx.Queue(), ctx.Queue()
            go, stop = ctx.Event(), ctx.Event()
            shares = [
                args.clients // args.probes + (1 if k < args.clients % args.probes else 0) for k in range(args.probes)
            ]
            ws_url = base_url.replace("http", "ws") + "/ws/situation"
            starts = [sum(shares[:k]) for k in range(len(shares))]
            probes = [
                ctx.Process(
                    target=probe_process,
                    args=(ws_url, token, plans[at : at + n], ready, go, stop, out, args.deflate == "on"),
                )
                for at, n in zip(starts, shares, strict=True)
                if n
            ]
            for probe in probes:
                probe.start()
            for _ in probes:
                await asyncio.to_thread(ready.get, True, 600)
            counts = {
                unit: (await client.get(f"/api/v1/units/{unit}")).json()["access"]["logins_15m"] for unit in probe_units
            }
            per_batch = max(1, int(args.rate * INTERVAL))
            batches = int(args.seconds / INTERVAL)
            filler = filler_events(org, batches * (per_batch - 1), f"l-{uuid.uuid4().hex[:6]}", set(probe_units))
            answered: dict[tuple[str, int], float] = {}
            accepted = 0
            api_pids = [api.pid, *descendants(api.pid)]
            probe_pids = [probe.pid for probe in probes if probe.pid is not None]
            cpu_from = {
                "api": cpu_seconds(api_pids),
                "worker": cpu_seconds([worker.pid]),
                "probes": cpu_seconds(probe_pids),
            }
            go.set()
            start = time.time()
            for tick in range(batches):
                probe_unit = probe_units[tick % len(probe_units)]  # in turn over the probe units
                batch = [*filler[tick * (per_batch - 1) : (tick + 1) * (per_batch - 1)], probe_login(probe_unit)]
                response = await client.post("/api/v1/events", json=batch, timeout=60)
                counts[probe_unit] += 1
                answered[(probe_unit, counts[probe_unit])] = time.time()
                accepted += int(response.json().get("accepted", 0)) if response.status_code == 200 else 0
                delay = start + (tick + 1) * INTERVAL - time.time()
                if delay > 0:
                    await asyncio.sleep(delay)
            elapsed = time.time() - start
            cpu = {
                "api": (cpu_seconds(api_pids) - cpu_from["api"]) / elapsed,
                "worker": (cpu_seconds([worker.pid]) - cpu_from["worker"]) / elapsed,
                "probes": (cpu_seconds(probe_pids) - cpu_from["probes"]) / elapsed,
            }
            await asyncio.sleep(3.0)
            go.clear()
            stop.set()
            results: list[dict[str, Any]] = []
            for _ in probes:
                results += await asyncio.to_thread(out.get, True, 600)
            for probe in probes:
                probe.join(30)
            rss = {f"api {pid}": rss_mib(pid)[0] for pid in [api.pid, *descendants(api.pid)]}
            rss[f"worker {worker.pid}"] = rss_mib(worker.pid)[0]
        report(args, results, answered, accepted, elapsed, rss, cpu, load)
    finally:
        for process in processes:
            stop_process(process)
        broker.stop()


async def _warm_up(client: httpx.AsyncClient, org: OrgRegistry, unit: str) -> None:
    """A few hundred events of every kind through the whole pipeline before any client connects, until one probe
    login shows in the unit's figures: a process's first records pay one-time costs (the producers' metadata
    for each topic they first write, the database's first statements and type look-ups), which a go-live's
    running gateway and worker paid long before; without it the first second after start is what is measured."""
    started = time.time()
    before = (await client.get(f"/api/v1/units/{unit}")).json()["access"]["logins_15m"]
    events = [*filler_events(org, 300, f"warm-{uuid.uuid4().hex[:6]}", {unit}), probe_login(unit)]
    response = await client.post("/api/v1/events", json=events, timeout=60)
    response.raise_for_status()
    while time.time() - started < 120:
        if (await client.get(f"/api/v1/units/{unit}")).json()["access"]["logins_15m"] > before:
            print(f"warm-up: {len(events)} events through the pipeline in {time.time() - started:.1f} s", flush=True)
            await asyncio.sleep(2.0)  # the gateway's next ticks after them
            return
        await asyncio.sleep(0.1)
    raise TimeoutError("the warm-up events did not reach the unit's figures in 120 s")


async def _wait_ready(client: httpx.AsyncClient, api: subprocess.Popen[bytes], workdir: Path, workers: int) -> None:
    """Until every API process answers /readyz (each has caught up with the situation topic)."""
    deadline = time.time() + 300
    ready: set[str] = set()
    while time.time() < deadline:
        if api.poll() is not None:
            raise RuntimeError(f"the API exited; see {workdir / 'api.log'}")
        try:
            # A new connection each time: a kept-alive one would always ask the same process.
            response = await client.get("/readyz", timeout=5, headers={"Connection": "close"})
            if response.status_code == 200:
                ready.add(response.headers.get("x-hypercare-process", "?"))
                if len(ready) >= workers:
                    return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.05)
    raise TimeoutError(f"only {len(ready)} of {workers} API processes became ready; see {workdir / 'api.log'}")


def report(
    args: argparse.Namespace,
    results: list[dict[str, Any]],
    answered: dict[tuple[str, int], float],
    accepted: int,
    elapsed: float,
    rss: dict[str, float],
    cpu: dict[str, float],
    load: list[float],
) -> None:
    connected = [r for r in results if "snapshot" in r]
    latencies = [
        arrival - answered[(r["unit"], k)]
        for r in connected
        for k, arrival in r.get("arrivals", {}).items()
        if (r["unit"], k) in answered
    ]
    expected = sum(1 for r in connected for unit, _ in answered if unit == r["unit"])
    by_process: dict[str, int] = {}
    for r in connected:
        by_process[r["process"]] = by_process.get(r["process"], 0) + 1
    print(f"achieved rate:              {accepted / elapsed:8.0f} events/s ({accepted} accepted in {elapsed:.1f} s)")
    print(
        f"first snapshot p50 / p95:   {percentile([r['snapshot'] for r in connected], 0.5) * 1000:8.0f} / "
        f"{percentile([r['snapshot'] for r in connected], 0.95) * 1000:.0f} ms"
    )
    print(f"WebSocket handshake p50:    {percentile([r['handshake'] for r in connected], 0.5) * 1000:8.0f} ms")
    print(
        f"post → WebSocket p50 / p99: {percentile(latencies, 0.5) * 1000:8.0f} / "
        f"{percentile(latencies, 0.99) * 1000:.0f} ms ({len(latencies)} of {expected} probe arrivals)"
    )
    first_post = min(answered.values(), default=0.0)
    timed = [
        (arrival - answered[(r["unit"], k)], answered[(r["unit"], k)] - first_post)
        for r in connected
        for k, arrival in r.get("arrivals", {}).items()
        if (r["unit"], k) in answered
    ]
    worst = sorted(timed, reverse=True)[: max(1, len(timed) // 100)]
    when = sorted({round(at) for _, at in worst})
    settled = [latency for latency, at in timed if at >= SETTLE]
    print(
        f"  posted after the first {SETTLE:g} s: {percentile(settled, 0.5) * 1000:8.0f} / "
        f"{percentile(settled, 0.99) * 1000:.0f} ms ({len(settled)} arrivals)"
    )
    print(f"slowest 1% posted at:       {', '.join(f'{at} s' for at in when)} after the first post")
    per_client = sum(r.get("bytes", 0) for r in connected) / max(1, len(connected)) / elapsed
    wire = sum(r.get("wire", 0) for r in connected) / max(1, len(connected)) / elapsed
    negotiated = sum(1 for r in connected if r.get("deflate"))
    print(
        f"bytes per client per second:{wire / 1024:8.1f} KiB on the wire ({per_client / 1024:.1f} KiB payload; "
        f"deflate negotiated by {negotiated} of {len(connected)} clients)"
    )
    dropped = sum(1 for r in results if r.get("dropped")) + sum(1 for r in results if "failed" in r)
    print(
        f"clients dropped:            {dropped:8d} (of {len(results)}; {len(results) - len(connected)} never connected)"
    )
    print(f"clients per API process:    {', '.join(f'{pid}: {n}' for pid, n in sorted(by_process.items()))}")
    print(
        f"CPU while posting:          API {cpu['api']:.2f} s/s, worker {cpu['worker']:.2f} s/s, probe processes "
        f"{cpu['probes']:.2f} s/s (the clients' side: parsing, and inflating with deflate on)"
    )
    print("RSS at the end:             " + ", ".join(f"{name} {mib:.0f} MiB" for name, mib in rss.items()))
    print(f"load average (1 min):       {load[0]:.2f} before the run, {os.getloadavg()[0]:.2f} at the end")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, default=40)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--rate", type=int, default=500, help="events/s posted")
    parser.add_argument("--api-workers", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--probes", type=int, default=2, help="probe processes holding the clients")
    parser.add_argument(
        "--subscribe",
        choices=["none", "administration", "overview", "tablet"],
        default="none",
        help="what each client subscribes to (see above)",
    )
    parser.add_argument(
        "--deflate",
        choices=["on", "off"],
        default="off",
        help="permessage-deflate: HYPERCARE_WEBSOCKET_DEFLATE for the API, offered by the clients or not",
    )
    parser.add_argument(
        "--warm-up",
        choices=["on", "off"],
        default="on",
        help="a few hundred events through the pipeline before the clients connect (off: measure from a cold start)",
    )
    args = parser.parse_args()
    args.warm_up = args.warm_up == "on"
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
