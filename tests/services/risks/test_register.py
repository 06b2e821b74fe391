"""The risk register: latest version wins, open risks without owner or plan are flagged, history is kept."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from stored_events import at, store

from hypercare.contract.events import new_id
from hypercare.storage.db import Database
from services.risks.register import current_risks, risk_versions

T0 = datetime(2024, 11, 12, 6, 0, tzinfo=UTC)


def risk(risk_id: str, minutes: int, **fields: Any) -> dict[str, Any]:
    return {
        "event_id": new_id("r"),
        "type": "risk.recorded",
        "occurred_at": at(T0 + timedelta(minutes=minutes)),
        "unit_id": "SE2321000131-R",
        "risk_id": risk_id,
        "recorded_by": "produktionschef",
        **fields,
    }


async def test_latest_version_flags_and_order(db: Database) -> None:
    prefix = uuid.uuid4().hex[:6]
    a, b, c = f"{prefix}-A", f"{prefix}-B", f"{prefix}-C"
    await store(
        db,
        risk(a, 0, title="Kortläsare saknas på AVA", severity="high"),
        risk(a, 30, title="Kortläsare saknas på AVA", severity="high", owner="IT-drift SÄS"),
        risk(b, 10, title="Etikettskrivare", severity="low", owner="Servicedesk", mitigation="Reservskrivare"),
        risk(
            c,
            20,
            title="Behörighetskö",
            severity="medium",
            owner="Behörighetsteamet",
            mitigation="Extra handläggare",
            status="closed",
        ),
    )
    risks = {r["risk_id"]: r for r in await current_risks(db) if r["risk_id"].startswith(prefix)}
    assert risks[a]["owner"] == "IT-drift SÄS" and risks[a]["versions"] == 2
    assert risks[a]["flags"] == ["no_mitigation"]
    assert risks[a]["first_recorded_at"] == at(T0)
    assert risks[b]["flags"] == [] and risks[c]["flags"] == []  # closed risks are never flagged
    ordered = [r["risk_id"] for r in await current_risks(db) if r["risk_id"].startswith(prefix)]
    assert ordered == [a, b, c]  # open first, high severity first; closed last
    history = (await risk_versions(db))[a]
    assert [v["owner"] for v in history] == ["", "IT-drift SÄS"]
