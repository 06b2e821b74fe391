"""Compression where it pays and conditional reads of the situation, through the real app (httpx).

Large responses are gzipped for clients that accept it (the security headers and ``Vary: Accept-Encoding`` on
them); small ones and clients that do not ask stay plain. ``GET /api/v1/situation`` carries a weak ETag taken over
the picture with its read moments blanked: the same tag (and 304 to ``If-None-Match``) while the figures are, a
new one when a unit's figures change, and a scoped principal's own.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from hypercare.contract.events import new_id, parse_event
from hypercare.org.registry import OrgRegistry
from hypercare.situation.health import load_rules
from hypercare.situation.rollup import build_situation
from hypercare.situation.state import apply_event, new_state
from services.auth.tokens import issue_token
from services.gateway.hub import SituationHub
from services.gateway.router import situation_etag

CONSOLE = Path(__file__).resolve().parents[3] / "console"
SECURITY = {"x-content-type-options": "nosniff", "referrer-policy": "no-referrer"}


class FakeStore:
    def __init__(self) -> None:
        self.unit_states: dict[str, dict[str, dict[str, Any]]] = {}
        self.changed = asyncio.Event()

    def take_touched(self) -> set[str] | None:
        return None  # states change in place here: every unit is computed again


def install_hub(api: Any) -> tuple[SituationHub, FakeStore]:
    store = FakeStore()
    org = OrgRegistry.model_validate(api.org.document())
    hub = SituationHub(store=store, org=org, rules=load_rules(), settings=api.app.state.settings)  # type: ignore[arg-type]
    api.app.state.hub = hub
    return hub, store


def login(store: FakeStore, unit_id: str) -> None:
    now = datetime.now(UTC)
    event = parse_event(
        {
            "event_id": new_id("e"),
            "type": "access.login",
            "occurred_at": now.isoformat(),
            "unit_id": unit_id,
            "user_ref": "u1",
            "outcome": "failure",
            "reason": "card_error",
        }
    )
    state = store.unit_states.setdefault(unit_id, {}).setdefault("access", new_state("access"))
    apply_event("access", state, event, now=now)


async def raw_get(
    api: Any, path: str, headers: dict[str, str], role: str = "viewer"
) -> tuple[httpx.Headers, int, bytes]:
    """Status, headers and the body as sent: still encoded (httpx would decode it)."""
    async with api.client(role) as client, client.stream("GET", path, headers=headers) as response:
        return response.headers, response.status_code, b"".join([chunk async for chunk in response.aiter_raw()])


async def test_large_responses_are_gzipped_for_clients_that_ask_with_the_security_headers(api: Any) -> None:
    hub, store = install_hub(api)
    login(store, api.org.unit("A1W1"))
    zipped, zipped_status, zipped_body = await raw_get(api, "/api/v1/situation", {"Accept-Encoding": "gzip"})
    plain, plain_status, plain_body = await raw_get(api, "/api/v1/situation", {"Accept-Encoding": "identity"})
    assert zipped_status == plain_status == 200
    assert zipped["content-encoding"] == "gzip" and "content-encoding" not in plain
    assert zipped["vary"] == plain["vary"] == "Accept-Encoding"
    unzipped = gzip.decompress(zipped_body)
    assert int(zipped["content-length"]) == len(zipped_body) < len(unzipped) / 3
    picture = json.loads(unzipped)
    expected = build_situation(
        store.unit_states, org=hub.org, rules=hub.rules, now=datetime.fromisoformat(picture["as_of"])
    )
    assert picture == {"as_of": expected["as_of"], "seq": 0, **{k: v for k, v in expected.items() if k != "as_of"}}
    assert picture["region"]["access"]["login_failures_15m"] == 1
    assert {**json.loads(plain_body)["region"], "as_of": ""} == {**picture["region"], "as_of": ""}
    assert zipped["etag"] == plain["etag"]  # the same figures, read a moment apart
    for headers in (zipped, plain):
        assert headers.items() >= SECURITY.items()
        assert headers["content-security-policy"].startswith("default-src 'self'")

    script = (CONSOLE / "js" / "app.js").read_bytes()
    assert len(script) > 1024
    console, _, console_body = await raw_get(api, "/console/js/app.js", {"Accept-Encoding": "gzip"})
    assert console["content-encoding"] == "gzip" and gzip.decompress(console_body) == script

    small, small_status, small_body = await raw_get(api, "/healthz", {"Accept-Encoding": "gzip"})
    assert small_status == 200 and "content-encoding" not in small and json.loads(small_body)


async def test_the_situation_etag_answers_304_until_the_figures_change(api: Any) -> None:
    hub, store = install_hub(api)
    ward = api.org.unit("A1W1")
    async with api.client("viewer") as client:
        first = await client.get("/api/v1/situation")
        etag = first.headers["etag"]
        assert re.fullmatch(r'W/"[0-9a-f]{32}"', etag)
        assert first.headers["cache-control"] == "private, no-cache"
        assert etag == situation_etag(first.content, first.json()["as_of"], None)

        for if_none_match in (etag, "*", f'W/"other", {etag}', etag.removeprefix("W/")):
            cached = await client.get("/api/v1/situation", headers={"If-None-Match": if_none_match})
            assert cached.status_code == 304 and cached.content == b"", if_none_match
            assert cached.headers["etag"] == etag
            assert cached.headers.items() >= SECURITY.items()
        other = await client.get("/api/v1/situation", headers={"If-None-Match": 'W/"other"'})
        assert other.status_code == 200 and other.headers["etag"] == etag

        login(store, ward)
        changed = await client.get("/api/v1/situation", headers={"If-None-Match": etag})
        assert changed.status_code == 200 and changed.headers["etag"] != etag
        assert changed.json()["region"]["access"]["login_failures_15m"] == 1
        assert changed.headers["etag"] == situation_etag(changed.content, changed.json()["as_of"], None)

        hub.seq += 1  # a published change (an alert) moves seq: the body differs, so does the tag
        moved = await client.get("/api/v1/situation", headers={"If-None-Match": changed.headers["etag"]})
        assert moved.status_code == 200 and moved.json()["seq"] == 1
        assert moved.headers["etag"] != changed.headers["etag"]

    scope = api.org.admin_a
    token = await issue_token(api.app.state.db, role="viewer", name=new_id("scoped"), scope=scope)
    transport = httpx.ASGITransport(app=api.app)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://test", headers=headers) as scoped:
        cut = await scoped.get("/api/v1/situation")
        assert [a["administration_id"] for a in cut.json()["administrations"]] == [scope]
        assert cut.headers["etag"] == situation_etag(cut.content, cut.json()["as_of"], scope)
        assert cut.headers["etag"] != moved.headers["etag"]
        assert (
            await scoped.get("/api/v1/situation", headers={"If-None-Match": moved.headers["etag"]})
        ).status_code == 200
        assert (
            await scoped.get("/api/v1/situation", headers={"If-None-Match": cut.headers["etag"]})
        ).status_code == 304


def test_the_tag_blanks_only_the_read_moments() -> None:
    body = b'{"as_of":"T1","name":"\\"as_of\\":\\"T1\\"","units":[{"as_of":"T1"}]}'
    later = b'{"as_of":"T2","name":"\\"as_of\\":\\"T1\\"","units":[{"as_of":"T2"}]}'
    renamed = b'{"as_of":"T2","name":"\\"as_of\\":\\"T2\\"","units":[{"as_of":"T2"}]}'
    assert situation_etag(body, "T1", None) == situation_etag(later, "T2", None)
    assert situation_etag(body, "T1", None) != situation_etag(renamed, "T2", None)
    assert situation_etag(body, "T1", None) != situation_etag(body, "T1", "F1")
