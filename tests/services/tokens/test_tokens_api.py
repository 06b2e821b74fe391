"""The tokens admin API: issue (the clear token once), list (never the token or its hash), revoke by id."""

from __future__ import annotations

import uuid
from typing import Any


async def test_an_admin_issues_lists_and_revokes_tokens(api: Any) -> None:
    name = f"api-tablet-{uuid.uuid4().hex[:8]}"
    site = api.org.site_a1
    async with api.client("admin") as admin:
        issued = await admin.post(
            "/api/v1/tokens", json={"name": name, "role": "chief", "expires": "12h", "scope": site}
        )
        assert issued.status_code == 201, issued.text
        body = issued.json()
        token = body["token"]
        assert token.startswith("hc_") and body["scope"] == site and body["expires_at"] is not None
        taken = await admin.post("/api/v1/tokens", json={"name": name, "role": "viewer"})
        assert taken.status_code == 409
        assert taken.json()["detail"] == f"a token named {name!r} exists already; token names are unique"
        for bad, reason in (
            ({"expires": "3w"}, "not a duration"),
            ({"scope": "nowhere"}, "not the region, an administration"),
            ({"role": "superuser"}, "unknown role"),
        ):
            refused = await admin.post("/api/v1/tokens", json={"name": f"{name}-x", "role": "viewer", **bad})
            assert refused.status_code == 422 and reason in refused.text, refused.text

        async with api.client(None) as anonymous:
            anonymous.headers["Authorization"] = f"Bearer {token}"
            assert (await anonymous.get("/api/v1/me")).status_code == 200
            assert (await anonymous.get("/api/v1/tokens")).status_code == 403  # a chief is no admin

        listed = await admin.get("/api/v1/tokens")
        assert listed.status_code == 200
        assert token not in listed.text and "token_hash" not in listed.text
        [row] = [item for item in listed.json()["items"] if item["name"] == name]
        assert row["last_used_at"] is not None and row["revoked_at"] is None

        revoked = await admin.delete(f"/api/v1/tokens/{row['id']}")
        assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
        again = await admin.delete(f"/api/v1/tokens/{row['id']}")  # kept once
        assert again.json()["revoked_at"] == revoked.json()["revoked_at"]
        assert (await admin.delete("/api/v1/tokens/999999999")).status_code == 404
        async with api.client(None) as anonymous:
            anonymous.headers["Authorization"] = f"Bearer {token}"
            assert (await anonymous.get("/api/v1/me")).status_code == 401
