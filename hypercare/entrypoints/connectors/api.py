"""The connectors' side of the sources API: post a batch of raw records, read and save the cursor."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

log = logging.getLogger(__name__)
RETRY_MAX_SECONDS = 60.0


class ConnectorConfigError(ValueError):
    """A setting the connector needs is missing or wrong (the message names it)."""


# Answers whose body says what became of every record: accepted, or refused and kept in the quarantine.
ACKNOWLEDGED = frozenset({200, 403, 422})


class NotAcknowledged(Exception):
    """The API did not take the batch (unreachable, 5xx, a bad token): nothing may be counted as sent."""


@dataclass(frozen=True)
class Outcome:
    records: int
    accepted: int
    rejected: list[dict[str, Any]]


class SourcesApi:
    """``POST /api/v1/sources/{source}/records`` and the cursor, with a source token (never logged)."""

    def __init__(self, base_url: str, token: str, source: str, *, timeout: float = 60.0) -> None:
        self.source = source
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"), headers={"Authorization": f"Bearer {token}"}, timeout=timeout
        )

    async def close(self) -> None:
        await self._client.aclose()

    async def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return await self._client.request(method, f"/api/v1/sources/{self.source}{path}", **kwargs)
        except httpx.HTTPError as error:
            raise NotAcknowledged(f"the API did not answer ({type(error).__name__})") from None

    async def post(self, body: bytes, *, timezone: str | None = None, ndjson: bool = False) -> Outcome:
        """Posts records (a JSON array, or NDJSON lines): acknowledged means each is accepted or quarantined."""
        response = await self._call(
            "POST",
            "/records",
            content=body,
            params={"timezone": timezone} if timezone else None,
            headers={"Content-Type": "application/x-ndjson" if ndjson else "application/json"},
        )
        if response.status_code not in ACKNOWLEDGED or "rejected" not in response.text:
            raise NotAcknowledged(f"the API answered HTTP {response.status_code}: {response.text[:300]}")
        try:
            answer = response.json()
            return Outcome(int(answer["records"]), int(answer["accepted"]), list(answer["rejected"]))
        except (ValueError, KeyError, TypeError):
            raise NotAcknowledged(f"the API's answer (HTTP {response.status_code}) is not a records answer") from None

    async def cursor(self) -> tuple[dict[str, Any] | None, int]:
        response = await self._call("GET", "/cursor")
        if response.status_code != 200:
            raise NotAcknowledged(f"reading the cursor: HTTP {response.status_code}: {response.text[:300]}")
        answer = response.json()
        return answer["cursor"], int(answer["version"])

    async def save(self, cursor: dict[str, Any], version: int) -> int:
        """Saves over ``version``; the new version. A 409 (another connector saved) stops this one."""
        response = await self._call("PUT", "/cursor", json={"cursor": cursor, "version": version})
        if response.status_code == 409:
            raise CursorTaken(response.json().get("detail", "the cursor was saved by another connector"))
        if response.status_code != 200:
            raise NotAcknowledged(f"saving the cursor: HTTP {response.status_code}: {response.text[:300]}")
        return int(response.json()["version"])


class CursorTaken(Exception):
    """Another connector of the same source saved the cursor since this one read it: two must not run at once."""


def report(source: str, outcome: Outcome) -> None:
    """Counts and each refused record's reason (pseudonymised and redacted by the API), never a record."""
    log.info(
        "%s: %d records posted, %d events accepted, %d records refused",
        source,
        outcome.records,
        outcome.accepted,
        len(outcome.rejected),
    )
    for item in outcome.rejected:
        log.warning("%s: record %s refused: %s", source, item.get("index"), item.get("reason"))


async def poll_until_stopped(
    api: SourcesApi,
    *,
    one_pass: Callable[[Any, int], Awaitable[None]],
    poll_seconds: float,
    once: bool,
    stop: Callable[[], bool],
) -> None:
    """The connectors' loop: read the cursor, make ``one_pass`` (stored cursor, its version) until stopped or, with
    ``once``, caught up; a pass not acknowledged is tried again with backoff, its cursor left where it was."""
    backoff = 1.0
    try:
        while not stop():
            try:
                stored, version = await api.cursor()
                await one_pass(stored, version)
                backoff = 1.0
                if once:
                    return
                await asyncio.sleep(poll_seconds)
            except NotAcknowledged as error:
                if once:
                    raise
                log.warning(
                    "%s: %s; trying again in %.0f s (the cursor stays where it was)", api.source, error, backoff
                )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, RETRY_MAX_SECONDS)
    except CursorTaken as error:
        raise ConnectorConfigError(f"{error} (is another connector of {api.source!r} running?)") from None
