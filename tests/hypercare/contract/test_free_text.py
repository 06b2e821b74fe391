"""Free-text fields of the event contract: length-checked and redacted of identity numbers while validating."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from hypercare.contract.events import (
    FreeText64,
    FreeText128,
    FreeText200,
    FreeText500,
    FreeText2000,
    InvalidEvent,
    TicketOpened,
    parse_event,
)
from hypercare.privacy.redact import REDACTED

PNR = "19121212-1212"


@pytest.mark.parametrize(
    ("alias", "limit"),
    [(FreeText64, 64), (FreeText128, 128), (FreeText200, 200), (FreeText500, 500), (FreeText2000, 2000)],
)
def test_each_free_text_alias_checks_its_length_and_redacts(alias: Any, limit: int) -> None:
    adapter: TypeAdapter[str] = TypeAdapter(alias)
    assert adapter.validate_python(f"patient {PNR} ringde") == f"patient {REDACTED} ringde"
    assert adapter.validate_python("x" * limit) == "x" * limit
    with pytest.raises(ValidationError, match=f"at most {limit} characters"):
        adapter.validate_python("x" * (limit + 1))


def test_an_event_never_holds_an_identity_number_in_free_text() -> None:
    event = parse_event(
        {
            "event_id": "e1",
            "type": "ticket.opened",
            "occurred_at": datetime.now(UTC).isoformat(),
            "unit_id": "u1",
            "ticket_id": "t1",
            "channel": "phone",
            "category": "login",
            "priority": 2,
            "summary": f"Kan inte öppna journalen för {PNR}",
        }
    )
    assert isinstance(event, TicketOpened)
    assert event.summary == f"Kan inte öppna journalen för {REDACTED}"
    with pytest.raises(InvalidEvent, match="summary: String should have at most 500 characters"):
        parse_event({**event.model_dump(mode="json"), "summary": "x" * 501})
