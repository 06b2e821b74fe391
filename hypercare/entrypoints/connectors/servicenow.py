"""``hypercare connector run tickets``: polls a ServiceNow Table API and posts the records to the sources API.

``GET {HYPERCARE_SERVICENOW_URL}/api/now/table/{table}?sysparm_query=sys_updated_on>=T^ORDERBYsys_updated_on
^ORDERBYsys_id&sysparm_limit=N&sysparm_offset=K`` with basic auth or an OAuth client-credentials token
(``/oauth_token.do``). The cursor is ``{"since": T, "seen": [sys_id, ...]}``: the newest ``sys_updated_on``
acknowledged and the records acknowledged at exactly that time (they come again with ``>=`` and are skipped).
It is saved after each acknowledged page, so a killed connector resumes where the API last acknowledged;
records posted but not yet in the cursor come again and their deterministic event ids count them once.
Values are the Table API's stored ones (``sysparm_display_value=false``): times in UTC, posted with
``?timezone=UTC``. Credentials go in headers only and are never logged.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from hypercare.entrypoints.connectors.api import (
    ConnectorConfigError,
    NotAcknowledged,
    SourcesApi,
    poll_until_stopped,
    report,
)
from hypercare.settings import Settings

log = logging.getLogger(__name__)
MAX_SEEN = 2000


@dataclass
class Cursor:
    since: str
    seen: set[str] = field(default_factory=set)

    def as_json(self) -> dict[str, Any]:
        return {"since": self.since, "seen": sorted(self.seen)}

    @classmethod
    def from_json(cls, value: dict[str, Any] | None, default_since: str) -> Cursor:
        if not value or not isinstance(value.get("since"), str):
            return cls(default_since)
        seen = value.get("seen")
        return cls(value["since"], {s for s in seen if isinstance(s, str)} if isinstance(seen, list) else set())

    def advance(self, records: list[dict[str, Any]]) -> None:
        """Past ``records`` (acknowledged, in the API's order)."""
        for record in records:
            updated, sys_id = str(record.get("sys_updated_on") or ""), str(record.get("sys_id") or "")
            if updated > self.since:
                self.since, self.seen = updated, {sys_id}
            elif updated == self.since:
                self.seen.add(sys_id)
        if len(self.seen) > MAX_SEEN:  # more records in one second than this: the >= query still brings them
            self.seen = set(sorted(self.seen)[-MAX_SEEN:])

    def fresh(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [r for r in records if not (r.get("sys_updated_on") == self.since and r.get("sys_id") in self.seen)]


class ServiceNow:
    """The Table API with basic auth or OAuth client credentials (a token fetched again before it expires)."""

    def __init__(self, settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        if not settings.servicenow_url:
            raise ConnectorConfigError("HYPERCARE_SERVICENOW_URL is not set (https://<instance>.service-now.com)")
        if not (settings.servicenow_user or settings.servicenow_client_id):
            raise ConnectorConfigError(
                "ServiceNow credentials: set HYPERCARE_SERVICENOW_USER and HYPERCARE_SERVICENOW_PASSWORD (basic auth) "
                "or HYPERCARE_SERVICENOW_CLIENT_ID and HYPERCARE_SERVICENOW_CLIENT_SECRET (OAuth)"
            )
        self.settings = settings
        auth = None
        if settings.servicenow_user and not settings.servicenow_client_id:
            auth = httpx.BasicAuth(settings.servicenow_user, settings.servicenow_password or "")
        self._client = httpx.AsyncClient(
            base_url=settings.servicenow_url.rstrip("/"),
            auth=auth,
            timeout=60.0,
            transport=transport,
            headers={"Accept": "application/json"},
        )
        self._token: str | None = None
        self._token_until = 0.0

    async def close(self) -> None:
        await self._client.aclose()

    async def _bearer(self) -> dict[str, str]:
        settings = self.settings
        if not settings.servicenow_client_id:
            return {}
        if self._token is None or time.monotonic() >= self._token_until:
            try:
                response = await self._client.post(
                    "/oauth_token.do",
                    data={
                        "grant_type": "client_credentials",
                        "client_id": settings.servicenow_client_id,
                        "client_secret": settings.servicenow_client_secret or "",
                    },
                )
            except httpx.HTTPError as error:
                raise NotAcknowledged(f"ServiceNow's token endpoint did not answer ({type(error).__name__})") from None
            if response.status_code != 200:
                raise NotAcknowledged(f"ServiceNow refused the OAuth client credentials (HTTP {response.status_code})")
            try:
                answer = response.json()
                self._token = str(answer["access_token"])
                lifetime = float(answer.get("expires_in", 1800))
            except (ValueError, KeyError, TypeError):
                raise NotAcknowledged("ServiceNow's token answer has no access_token") from None
            self._token_until = time.monotonic() + max(30.0, lifetime - 60.0)
        return {"Authorization": f"Bearer {self._token}"}

    async def page(self, since: str, offset: int) -> list[dict[str, Any]]:
        params = {
            "sysparm_query": f"sys_updated_on>={since}^ORDERBYsys_updated_on^ORDERBYsys_id",
            "sysparm_limit": str(self.settings.connector_batch_size),
            "sysparm_offset": str(offset),
            "sysparm_display_value": "false",
            "sysparm_exclude_reference_link": "true",
        }
        try:
            response = await self._client.get(
                f"/api/now/table/{self.settings.servicenow_table}", params=params, headers=await self._bearer()
            )
        except httpx.HTTPError as error:
            raise NotAcknowledged(f"ServiceNow did not answer ({type(error).__name__})") from None
        if response.status_code == 401 and self._token is not None:
            self._token = None  # revoked or expired early: fetched again next time
        if response.status_code != 200:
            raise NotAcknowledged(f"ServiceNow answered HTTP {response.status_code}")
        try:
            answer = response.json()
        except ValueError:
            raise NotAcknowledged("ServiceNow's answer is not JSON") from None
        result = answer.get("result") if isinstance(answer, dict) else None
        if not isinstance(result, list):
            raise NotAcknowledged("ServiceNow's answer has no result list")
        return [record for record in result if isinstance(record, dict)]


def default_since(hours: float = 24.0) -> str:
    return (datetime.now(UTC) - timedelta(hours=hours)).strftime("%Y-%m-%d %H:%M:%S")


async def poll_once(snow: ServiceNow, api: SourcesApi, cursor: Cursor, version: int) -> tuple[int, bool]:
    """One pass until caught up: every fresh page posted, then the cursor saved. ``(version, anything posted)``."""
    offset = 0
    posted = False
    size = snow.settings.connector_batch_size
    while True:
        page = await snow.page(cursor.since, offset)
        fresh = cursor.fresh(page)
        if fresh:
            outcome = await api.post(json.dumps(fresh).encode(), timezone="UTC")
            report(api.source, outcome)
            cursor.advance(fresh)
            version = await api.save(cursor.as_json(), version)
            posted = True
            offset = 0
        elif len(page) == size:
            offset += size  # a full page of records acknowledged at the same second: read past them
            continue
        if len(page) < size:
            return version, posted


async def run_tickets(
    settings: Settings,
    *,
    api_url: str,
    token: str,
    source: str = "servicenow",
    once: bool = False,
    since: str | None = None,
    stop: Callable[[], bool] = lambda: False,
    transport: httpx.AsyncBaseTransport | None = None,
) -> None:
    """Poll until stopped (or, with ``once``, until caught up). Failures are retried with backoff, never skipped."""
    snow = ServiceNow(settings, transport=transport)
    api = SourcesApi(api_url, token, source)

    async def one_pass(stored: Any, version: int) -> None:
        await poll_once(snow, api, Cursor.from_json(stored, since or default_since()), version)

    try:
        await poll_until_stopped(
            api, one_pass=one_pass, poll_seconds=settings.connector_poll_seconds, once=once, stop=stop
        )
    finally:
        await snow.close()
        await api.close()
