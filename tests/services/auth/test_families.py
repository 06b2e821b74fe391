"""The role × family table, scoped source tokens (stored, read back, refused at issue) and the per-item check."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from event_examples import example_event
from sqlalchemy import select, update

from hypercare.contract.events import EVENT_TYPES, FAMILIES, family_of, new_id, parse_event
from hypercare.storage.db import Database
from hypercare.storage.models import ApiToken
from services.auth.families import DECISION_TYPES, allowed_families, refusal
from services.auth.identity import walker_id_for
from services.auth.roles import INGEST, SOURCE_FAMILIES, SUBMIT_FAMILIES, Role
from services.auth.tokens import Principal, issue_token, verify_token

UNIT = "SE2321000131-ESASBOR240"


def test_the_table_covers_every_role_and_only_known_families() -> None:
    assert set(SUBMIT_FAMILIES) == set(Role)
    assert all(families <= set(FAMILIES) for families in SUBMIT_FAMILIES.values())
    assert {role for role, families in SUBMIT_FAMILIES.items() if families} == INGEST
    assert Role.VIEWER not in INGEST
    assert {"tickets", "access", "floorwalkers", "ed", "readiness"} == SOURCE_FAMILIES
    # Every coordination type is in DECISION_TYPES (only chiefs and admins), and the ED diversions too.
    assert {t for t in EVENT_TYPES if family_of(t) == "coordination"} < DECISION_TYPES
    assert set(EVENT_TYPES) >= DECISION_TYPES


def test_a_source_token_without_families_keeps_what_sources_always_could() -> None:
    legacy = Principal("old-feed", Role.SOURCE)
    assert allowed_families(legacy) == SOURCE_FAMILIES
    assert refusal(legacy, parse_event(example_event("ed.status", UNIT))) is None
    reason = refusal(legacy, parse_event(example_event("ed.diversion_started", UNIT)))
    assert reason == "type: role 'source' may not submit ed.diversion_started (needs chief or admin)"


def test_a_stored_scope_that_names_coordination_still_cannot_submit_it() -> None:
    tampered = Principal("x", Role.SOURCE, families=frozenset({"coordination", "tickets"}))
    assert allowed_families(tampered) == {"tickets"}
    assert refusal(tampered, parse_event(example_event("risk.recorded", UNIT))) is not None


def test_the_walker_check_is_for_floor_walkers_only() -> None:
    walker = Principal("Anna", Role.FLOORWALKER)
    own = parse_event(example_event("floorwalker.checkin", UNIT, walker_id=walker_id_for("Anna")))
    other = parse_event(example_event("floorwalker.checkin", UNIT, walker_id="fw-other"))
    assert refusal(walker, own) is None
    assert refusal(walker, other) == (
        f"walker_id: must be your own: {walker_id_for('Anna')} (as GET /api/v1/me shows), not 'fw-other'"
    )
    assert refusal(Principal("Anna", Role.CHIEF), other) is None


def test_a_long_unit_scope_is_shortened_in_the_reason() -> None:
    units = frozenset(f"U{i}" for i in range(8))
    reason = refusal(Principal("s", Role.SOURCE, units=units), parse_event(example_event("access.login", "U9")))
    assert reason == "unit_id: this token may not submit events for 'U9' (allowed: U0, U1, U2, U3, U4 and 3 more)"


# Issued tokens ------------------------------------------------------------------------------------------------


def _name() -> str:
    return new_id("scope")


async def test_a_scoped_source_token_is_stored_and_read_back(db: Database) -> None:
    name = _name()
    token = await issue_token(
        db, role="source", name=name, families=["tickets", " access", "tickets"], units=["U2", "U1"]
    )
    principal = await verify_token(db, token=token)
    assert principal == Principal(name, Role.SOURCE, families=frozenset({"access", "tickets"}), units={"U1", "U2"})
    async with db.sessions() as session:
        row = (await session.execute(select(ApiToken.families, ApiToken.units).where(ApiToken.name == name))).one()
    assert (row.families, row.units) == (["access", "tickets"], ["U1", "U2"])


async def test_tokens_without_a_scope_are_not_narrowed(db: Database) -> None:
    name = _name()
    principal = await verify_token(db, token=await issue_token(db, role="source", name=name))
    assert principal == Principal(name, Role.SOURCE)
    assert (principal.families, principal.units) == (None, None)


async def test_a_scope_column_that_is_not_a_list_narrows_to_nothing(db: Database) -> None:
    name = _name()
    token = await issue_token(db, role="source", name=name, families=["tickets"])
    async with db.sessions.begin() as session:
        await session.execute(update(ApiToken).where(ApiToken.name == name).values(families={"tickets": True}))
    principal = await verify_token(db, token=token)
    assert principal is not None and principal.families == frozenset()
    assert allowed_families(principal) == frozenset()


@pytest.mark.parametrize(
    ("role", "scope", "message"),
    [
        ("agent", {"families": ["tickets"]}, "only source tokens are scoped"),
        ("floorwalker", {"units": ["U1"]}, "only source tokens are scoped"),
        ("source", {"families": ["coordination"]}, "not allowed for a source: coordination"),
        ("source", {"families": ["tickets", "nope"]}, "not allowed for a source: nope"),
        ("source", {"families": [" ", ""]}, "at least one family"),
        ("source", {"units": ["U\x001"]}, "contains a control character (U+0000)"),
        ("source", {"units": ["191212-1212"]}, "personal identity number"),
    ],
)
async def test_a_scope_that_cannot_work_is_refused_at_issue(
    db: Database, role: str, scope: dict[str, Any], message: str
) -> None:
    name = _name()
    with pytest.raises(ValueError, match=re.escape(message)):
        await issue_token(db, role=role, name=name, **scope)
    async with db.sessions() as session:
        assert (await session.execute(select(ApiToken.id).where(ApiToken.name == name))).first() is None


def test_examples_are_current() -> None:
    # The examples the ingest matrix posts are valid now (they carry "now" as occurred_at).
    assert all(parse_event(example_event(t, UNIT)).occurred_at <= datetime.now(UTC) for t in EVENT_TYPES)
