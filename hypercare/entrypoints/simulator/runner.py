"""Pace the cut-over scenario against the wall clock and post it to ``POST /api/v1/events``.

Every batch advances the scenario clock by ``batch_seconds * speed`` and stamps its events with real
time (the live picture judges windows against the wall clock), so ``occurred_at`` is never in the
future. A failed batch is resent as is: event ids are idempotency keys, so resending is safe.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx

from hypercare.entrypoints.simulator.scenario import DIVERSION_DECIDED_BY, GO_LIVE_START, STOCKHOLM, CutoverScenario
from hypercare.entrypoints.simulator.waves import FINISHED_HISTORY, HANDOVER_RATIONALE, WaveActions
from hypercare.org.registry import OrgRegistry, load_org

if TYPE_CHECKING:
    from hypercare.storage.db import Database

log = logging.getLogger("hypercare.entrypoints.simulator")

DECISION_TYPES = frozenset({"ed.diversion_started", "ed.diversion_ended"})
SUMMARY_EVERY_SECONDS = 10.0
MAX_EVENTS_PER_REQUEST = 1000  # well under the API's default limit of 5000
RETRY_DELAYS = (1.0, 2.0, 5.0, 10.0)
SIMULATOR_TOKEN_NAME = "simulator"
# The chief token is named after the scenario's decision maker: a person's decisions carry their own name.
SIMULATOR_CHIEF_TOKEN_NAME = DIVERSION_DECIDED_BY


class SimulatorRejected(RuntimeError):
    """The API refused the simulator outright (bad token, wrong role): retrying cannot help."""


async def wait_for_api(base_url: str, timeout: float, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
    """Poll ``/healthz`` until the API answers 200; ``TimeoutError`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(base_url=base_url, timeout=2.0, transport=transport) as client:
        while True:
            try:
                if (await client.get("/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() >= deadline:
                raise TimeoutError(f"the API at {base_url} did not become healthy within {timeout:.0f} s")
            await asyncio.sleep(0.5)


async def simulator_tokens(db: Database) -> tuple[str, str]:
    """A ``source`` token for ordinary traffic and a ``chief`` token for ED diversion decisions."""
    from services.auth.tokens import free_name, issue_token

    source = await issue_token(db, role="source", name=await free_name(db, SIMULATOR_TOKEN_NAME))
    chief = await issue_token(db, role="chief", name=await free_name(db, SIMULATOR_CHIEF_TOKEN_NAME))
    return source, chief


class _Tally:
    def __init__(self) -> None:
        self.sent = 0
        self.accepted = 0
        self.rejected = 0
        self.retries = 0
        self.first_rejection: str | None = None


async def run_simulation(
    *,
    base_url: str,
    token_source: str,
    token_chief: str,
    speed: float,
    seed: int,
    duration: float | None,
    batch_seconds: float = 1.0,
    org: OrgRegistry | None = None,
    start: datetime = GO_LIVE_START,
    transport: httpx.AsyncBaseTransport | None = None,
) -> None:
    """Post the scenario, ``speed`` scenario seconds per real second, until ``duration`` real seconds.

    ``org`` should be the registry the API uses (default: the shipped one); ``transport`` is for tests.
    """
    if speed <= 0 or batch_seconds <= 0:
        raise ValueError("speed and batch_seconds must be positive")
    scenario = CutoverScenario(org or load_org(), seed=seed, start=start)
    real_start = datetime.now(UTC)
    mono_start = time.monotonic()

    def stamp(at: datetime) -> datetime:
        return real_start + (at - scenario.start) / speed

    def scenario_now() -> datetime:
        return scenario.start + timedelta(seconds=(time.monotonic() - mono_start) * speed)

    tally = _Tally()
    cursor = scenario.start
    next_summary = mono_start + SUMMARY_EVERY_SECONDS
    waves = WaveActions(scenario.org, seed=seed)
    log.info(
        "simulating the cut-over from %s (Europe/Stockholm) at %gx, seed %d, into %s",
        scenario.start.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M"),
        speed,
        seed,
        base_url,
    )
    async with httpx.AsyncClient(base_url=base_url, timeout=30.0, transport=transport) as client:
        await _wave_states(client, waves, seed=seed, token_source=token_source, token_chief=token_chief, tally=tally)
        while True:
            elapsed = time.monotonic() - mono_start
            finished = duration is not None and elapsed >= duration
            if not finished:
                # The next batch boundary on the real clock; slices stay aligned after slow posts.
                await asyncio.sleep(batch_seconds - (elapsed % batch_seconds))
                if duration is not None:
                    finished = time.monotonic() - mono_start >= duration
            if finished and duration is not None:
                upper = scenario.start + timedelta(seconds=duration * speed)
            else:
                upper = scenario_now()
            events = scenario.events_between(cursor, upper, stamp=stamp) + waves.readiness_updates(upper, stamp)
            await _post_slice(client, events, token_source=token_source, token_chief=token_chief, tally=tally)
            cursor = upper
            if time.monotonic() >= next_summary or finished:
                _log_summary(tally, cursor)
                next_summary = time.monotonic() + SUMMARY_EVERY_SECONDS
            if finished:
                return


async def _wave_states(
    client: httpx.AsyncClient, waves: WaveActions, *, seed: int, token_source: str, token_chief: str, tally: _Tally
) -> None:
    """Before the cut-over traffic: the readiness wave's assessments, the finished wave's first days of traffic (at
    their real times) and its handover decision (:mod:`hypercare.entrypoints.simulator.waves`)."""
    now = datetime.now(UTC)
    events = waves.readiness_at_start(now)
    history, went_live = waves.history_org(), waves.finished_go_live
    if history is not None and went_live is not None and waves.finished is not None:
        members = set(waves.org.wave_units.get(waves.finished, []))
        past = CutoverScenario(history, seed=seed + 1, start=went_live).events_between(
            went_live, min(went_live + FINISHED_HISTORY, now), stamp=lambda at: at
        )
        events += [e for e in past if e["unit_id"] in members and e["type"] not in DECISION_TYPES]
    if events:
        await _post_slice(client, events, token_source=token_source, token_chief=token_chief, tally=tally)
        log.info("waves: %d readiness assessments and earlier traffic of the finished wave posted", len(events))
    if waves.finished is not None:
        await _handover(client, waves.finished, token_chief)


async def _handover(client: httpx.AsyncClient, wave_id: str, token: str) -> None:
    """Record the finished wave's handover to support, as the coordination group would."""
    body = {"handover_decision": "handover", "rationale": HANDOVER_RATIONALE}
    headers = {"Authorization": f"Bearer {token}"}
    for delay in (*RETRY_DELAYS, None):
        try:
            response = await client.post(f"/api/v1/waves/{wave_id}/exit/decisions", json=body, headers=headers)
        except httpx.TransportError as error:
            reason = str(error)
        else:
            if response.status_code == 200:
                log.info("waves: the handover of %s to support is recorded", wave_id)
                return
            reason = f"HTTP {response.status_code}: {response.text[:200]}"
            if response.status_code < 500 and response.status_code not in (408, 429):
                delay = None
        if delay is None:
            log.warning("waves: the handover of %s was not recorded (%s)", wave_id, reason)
            return
        await asyncio.sleep(delay)


async def _post_slice(
    client: httpx.AsyncClient, events: list[dict[str, Any]], *, token_source: str, token_chief: str, tally: _Tally
) -> None:
    """Send one slice (decisions with the chief token); on failure wait and resend the whole slice."""
    # The chief's decisions go without ``decided_by``: the server fills in the chief token's name, which is
    # "produktionschef-sas-2" and so on when an earlier run on the same data directory took the first name.
    decisions = [{k: v for k, v in e.items() if k != "decided_by"} for e in events if e["type"] in DECISION_TYPES]
    traffic = [e for e in events if e["type"] not in DECISION_TYPES]
    requests = [
        (token_source, traffic[i : i + MAX_EVENTS_PER_REQUEST]) for i in range(0, len(traffic), MAX_EVENTS_PER_REQUEST)
    ]
    if decisions:
        requests.append((token_chief, decisions))
    attempt = 0
    while True:
        try:
            accepted = rejected = 0
            for token, batch in requests:
                result = await _post(client, token, batch)
                accepted += int(result.get("accepted", 0))
                rejections = result.get("rejected") or []
                rejected += len(rejections)
                if rejections and tally.first_rejection is None:
                    tally.first_rejection = str(rejections[0].get("reason", "?"))[:200]
        except (httpx.TransportError, _Retry) as error:
            delay = RETRY_DELAYS[min(attempt, len(RETRY_DELAYS) - 1)]
            attempt += 1
            tally.retries += 1
            log.warning("posting %d events failed (%s); resending in %.0f s", len(events), error, delay)
            await asyncio.sleep(delay)
            continue
        tally.sent += len(events)
        tally.accepted += accepted
        tally.rejected += rejected
        return


class _Retry(Exception):
    """A response that a resend may fix (5xx, 429, 408)."""


async def _post(client: httpx.AsyncClient, token: str, batch: list[dict[str, Any]]) -> dict[str, Any]:
    response = await client.post("/api/v1/events", json=batch, headers={"Authorization": f"Bearer {token}"})
    if response.status_code in (200, 422):  # 422: every item rejected, same body shape
        body = response.json()
        return body if isinstance(body, dict) else {}
    if response.status_code >= 500 or response.status_code in (408, 429):
        raise _Retry(f"HTTP {response.status_code}")
    raise SimulatorRejected(f"the API answered HTTP {response.status_code}: {response.text[:200]}")


def _log_summary(tally: _Tally, cursor: datetime) -> None:
    log.info(
        "scenario %s: %d events sent, %d accepted, %d rejected, %d resends%s",
        cursor.astimezone(STOCKHOLM).strftime("%a %H:%M"),
        tally.sent,
        tally.accepted,
        tally.rejected,
        tally.retries,
        f" (first rejection: {tally.first_rejection})" if tally.first_rejection else "",
    )


__all__ = ["SimulatorRejected", "run_simulation", "simulator_tokens", "wait_for_api"]
