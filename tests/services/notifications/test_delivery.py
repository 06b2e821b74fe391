"""Notifications end to end below the API: alert transitions queue outbox rows in their own transaction, the
supervised dispatcher delivers them to real receivers (signed webhook, Teams, SMTP with STARTTLS), retries
what is worth retrying and gives up on the rest. On PostgreSQL and SQLite."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from notification_receivers import SMTP_PASSWORD, SMTP_USER, HookReceiver, MailBox, TeamsReceiver
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from hypercare.entrypoints.embedded_broker import free_port
from hypercare.observability import metrics
from hypercare.org.registry import OrgRegistry
from hypercare.settings import Settings
from hypercare.storage.db import Database
from hypercare.storage.notification_models import Notification
from services.alerts import service as alert_service
from services.alerts import store as alert_store
from services.alerts.engine import Escalate, Raise, Resolve
from services.notifications import store
from services.notifications.config import load_notifications
from services.notifications.runtime import Dispatcher
from services.supervision import Supervisor


@dataclass
class Tree:
    region: str
    admin: str
    site: str
    other_site: str
    unit: str
    sibling: str
    elsewhere: str

    def org(self) -> OrgRegistry:
        return OrgRegistry.model_validate(
            {
                "region": {"id": self.region, "name": "Region"},
                "administrations": [
                    {
                        "id": self.admin,
                        "name": "Förvaltning",
                        "sites": [
                            {
                                "id": self.site,
                                "name": "Sjukhus 1",
                                "units": [{"id": self.unit, "name": "Avd 7"}, {"id": self.sibling, "name": "Avd 8"}],
                            },
                            {
                                "id": self.other_site,
                                "name": "Sjukhus 2",
                                "units": [{"id": self.elsewhere, "name": "Avd 9"}],
                            },
                        ],
                    }
                ],
            }
        )


@pytest.fixture
def tree() -> Tree:
    tag = uuid.uuid4().hex[:8]
    return Tree(*(f"{kind}-{tag}" for kind in ("R", "F", "S1", "S2", "U1", "U2", "U3")))


SECRETS = {"HC_TEST_TEAM_SECRET": "team-hemlighet", "HC_TEST_PROGRAM_SECRET": "program-hemlighet", "HC_TEST_OTHER": "o"}


def notifications_file(path: Path, tree: Tree, hooks: HookReceiver, teams: TeamsReceiver) -> Path:
    hooks.secrets.update(
        {"team": SECRETS["HC_TEST_TEAM_SECRET"], "program": SECRETS["HC_TEST_PROGRAM_SECRET"], "other": "o"}
    )
    path.write_text(
        f"""
console_url: https://hypercare.test
recipients:
  - id: team-site
    levels: [team]
    scope: {tree.site}
    channel: webhook
    url: {hooks.to("team")}
    secret_env: HC_TEST_TEAM_SECRET
  - id: team-teams
    levels: [team]
    scope: {tree.unit}
    channel: teams
    url: {teams.url}
  - id: multi-mail
    levels: [multi]
    scope: {tree.admin}
    channel: email
    to: [jour@region.test, samordnare@region.test]
  - id: program-hook
    levels: [program]
    channel: webhook
    url: {hooks.to("program")}
    secret_env: HC_TEST_PROGRAM_SECRET
  - id: other-site
    levels: [team, multi, program]
    scope: {tree.other_site}
    channel: webhook
    url: {hooks.to("other")}
    secret_env: HC_TEST_OTHER
""",
        encoding="utf-8",
    )
    return path


def settings_for(path: Path | None, mailbox: MailBox | None = None, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "kafka_bootstrap": "unused:9092",
        "notifications_file": path,
        "notification_backoff": 0.05,
        "notification_backoff_max": 0.2,
        "notification_poll_seconds": 0.05,
        "notification_timeout": 2.0,
    }
    if mailbox is not None:
        values.update(
            smtp_host=mailbox.host,
            smtp_port=mailbox.port,
            smtp_ca_file=mailbox.ca_file,
            smtp_username=SMTP_USER,
            smtp_password=SMTP_PASSWORD,
            smtp_from="hypercare@region.test",
        )
    values.update(overrides)
    return Settings(**values)


def raise_at(node_id: str, at: datetime) -> Raise:
    return Raise(
        rule="patient_safety_ticket",
        kind="patient_safety_ticket",
        severity="critical",
        node_kind="unit",
        node_id=node_id,
        node_name="Avd 7",
        message="1 öppna ärenden med risk för patientsäkerheten",
        value=1,
        threshold=1,
        at=at,
    )


@dataclass
class Running:
    db: Database
    dispatcher: Dispatcher
    supervisor: Supervisor

    async def apply(self, *transitions: Any) -> list[alert_store.Applied]:
        outbox = self.dispatcher.outbox()

        async def record(session: AsyncSession, item: alert_store.Applied) -> None:
            await outbox.record(session, item.document())

        applied = await alert_store.apply(self.db, list(transitions), record=record)
        outbox.wake()
        return applied

    async def settled(self, alert_id: int, timeout: float = 20.0) -> list[Notification]:
        """The alert's notifications once none is pending."""
        deadline = time.monotonic() + timeout
        while True:
            rows = await store.for_alert(self.db, alert_id)
            if rows and all(row.state != "pending" for row in rows):
                return rows
            assert time.monotonic() < deadline, [(r.recipient, r.state, r.attempts, r.last_error) for r in rows]
            await asyncio.sleep(0.05)


@pytest.fixture
async def start(db_url: str) -> AsyncIterator[Callable[[Settings, OrgRegistry], Running]]:
    started: list[Running] = []

    def run(settings: Settings, org: OrgRegistry) -> Running:
        db = Database.from_url(db_url)
        dispatcher = Dispatcher(db, load_notifications(settings, org, environ=SECRETS), settings)
        supervisor = Supervisor(initial=0.05, cap=0.2)
        dispatcher.start(supervisor=supervisor)
        started.append(Running(db, dispatcher, supervisor))
        return started[-1]

    yield run
    for running in started:
        await running.dispatcher.stop()
        await running.db.close()


def counted(channel: str, outcome: str) -> float:
    return metrics.NOTIFICATION_DELIVERIES.labels(channel=channel, outcome=outcome)._value.get()


def who(rows: list[Notification]) -> dict[tuple[str, str], set[str]]:
    found: dict[tuple[str, str], set[str]] = {}
    for row in rows:
        found.setdefault((row.transition, row.level), set()).add(row.recipient)
    return found


async def test_an_escalation_reaches_the_recipients_of_each_level_by_each_channel(
    start: Callable[[Settings, OrgRegistry], Running],
    tree: Tree,
    tmp_path: Path,
    receivers: tuple[HookReceiver, TeamsReceiver],
    mailbox: MailBox,
) -> None:
    hooks, teams = receivers
    path = notifications_file(tmp_path / "notifications.yaml", tree, hooks, teams)
    running = start(settings_for(path, mailbox), tree.org())
    before = {channel: counted(channel, "delivered") for channel in ("webhook", "teams", "email")}
    t0 = datetime.now(UTC)
    [raised] = await running.apply(raise_at(tree.unit, t0))
    alert_id = raised.alert.id
    rule, kind, node = "patient_safety_ticket", "unit", tree.unit
    await running.apply(Escalate(alert_id, rule, kind, node, "team", "multi", t0 + timedelta(minutes=15)))
    await running.apply(Escalate(alert_id, rule, kind, node, "multi", "program", t0 + timedelta(minutes=60)))
    await running.apply(Resolve(alert_id, rule, kind, node, "cleared", t0 + timedelta(minutes=70)))
    rows = await running.settled(alert_id)

    assert who(rows) == {
        ("raise", "team"): {"team-site", "team-teams"},
        ("escalate", "multi"): {"multi-mail"},
        ("escalate", "program"): {"program-hook"},
        ("resolve", "program"): {"team-site", "team-teams", "multi-mail", "program-hook"},
    }
    assert {row.state for row in rows} == {"delivered"} and {row.attempts for row in rows} == {1}

    # The webhook receiver verified every signature with its secret; each delivery id once.
    assert hooks.forged == 0
    ours = [hook for hook in hooks.accepted if hook.document["id"] == alert_id]
    assert sorted((hook.name, hook.document["transition"]) for hook in ours) == [
        ("program", "escalate"),
        ("program", "resolve"),
        ("team", "raise"),
        ("team", "resolve"),
    ]
    webhook_rows = {row.delivery_id for row in rows if row.channel == "webhook"}
    assert sorted(hook.delivery_id for hook in ours) == sorted(webhook_rows)
    escalated = next(hook.document for hook in ours if hook.document["transition"] == "escalate")
    assert (escalated["level"], escalated["previous_level"], escalated["node_id"]) == ("program", "multi", tree.unit)

    # Teams: two Adaptive Cards (the raise and the resolve), with the title, the level, the node, the reason, a link.
    # Rows are delivered concurrently, so a recipient may get a resolve before a raise queued a moment earlier.
    assert teams.refused == []
    cards = {card["body"][0]["text"]: card for card in teams.cards}
    assert sorted(cards) == [
        "Hypercare [kritisk] nytt larm, nivå team: Avd 7",
        "Hypercare [kritisk] åtgärdat, nivå programledning: Avd 7",
    ]
    raise_card = cards["Hypercare [kritisk] nytt larm, nivå team: Avd 7"]
    facts = {fact["title"]: fact["value"] for fact in raise_card["body"][1]["facts"]}
    assert facts["Nivå"] == "team" and tree.unit in facts["Nod"]
    assert facts["Orsak"] == "1 öppna ärenden med risk för patientsäkerheten"
    assert raise_card["actions"] == [
        {"type": "Action.OpenUrl", "title": "Öppna i Hypercare", "url": "https://hypercare.test/console/#/console"}
    ]

    # E-mail over STARTTLS with a login: the escalation to multi and the resolve, to both addresses.
    assert [(mail.tls, mail.authenticated) for mail in mailbox.mails] == [(True, True), (True, True)]
    assert [sorted(mail.rcpt_tos) for mail in mailbox.mails] == [["jour@region.test", "samordnare@region.test"]] * 2
    mails = {str(mail.message["Subject"]): mail.message for mail in mailbox.mails}
    assert sorted(mails) == [
        "Hypercare [kritisk] eskalerat, nivå multiprofessionell: Avd 7",
        "Hypercare [kritisk] åtgärdat, nivå programledning: Avd 7",
    ]
    escalation = mails["Hypercare [kritisk] eskalerat, nivå multiprofessionell: Avd 7"]
    plain = escalation.get_body(("plain",))
    html = escalation.get_body(("html",))
    assert plain is not None and html is not None
    assert (
        "Från nivå: team" in plain.get_content() and "https://hypercare.test/console/#/console" in plain.get_content()
    )
    assert "<table>" in html.get_content()

    for channel, delivered in {"webhook": 4, "teams": 2, "email": 2}.items():
        assert counted(channel, "delivered") == before[channel] + delivered

    # The alert's one-alert answer shows its notifications with their state.
    detail = await alert_service.alert_detail(db=running.db, alert_id=alert_id, org=tree.org(), scope=None)
    assert [(n.transition, n.recipient, n.state) for n in detail.notifications][:2] == [
        ("raise", "team-site", "delivered"),
        ("raise", "team-teams", "delivered"),
    ]
    assert len(detail.notifications) == 8


async def test_4xx_fails_for_good_5xx_and_429_and_timeouts_are_retried_and_an_exhausted_row_is_dead(
    start: Callable[[Settings, OrgRegistry], Running],
    tree: Tree,
    tmp_path: Path,
    receivers: tuple[HookReceiver, TeamsReceiver],
    caplog: pytest.LogCaptureFixture,
) -> None:
    hooks, _ = receivers
    down = f"http://127.0.0.1:{free_port()}/nobody"
    hooks.secrets.update({"flaky": "a", "gone": "b", "broken": "c", "slow": "d"})
    hooks.statuses.update({"flaky": [503, 429, 500], "gone": [404], "broken": [500] * 10})
    hooks.delays["slow"] = 1.5  # longer than the timeout, every time
    lines = ["recipients:"]
    for name, url in (("flaky", hooks.to("flaky")), ("gone", hooks.to("gone")), ("broken", hooks.to("broken")),
                      ("slow", hooks.to("slow")), ("down", down)):  # fmt: skip
        lines += [
            f"  - id: {name}",
            "    levels: [team]",
            f"    scope: {tree.site}",
            "    channel: webhook",
            f"    url: {url}",
            f"    secret_env: HC_TEST_{name.upper()}",
        ]
    path = tmp_path / "n.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    SECRETS.update({"HC_TEST_FLAKY": "a", "HC_TEST_GONE": "b", "HC_TEST_BROKEN": "c", "HC_TEST_SLOW": "d"})
    SECRETS["HC_TEST_DOWN"] = "e"
    running = start(settings_for(path, notification_max_attempts=4, notification_timeout=0.5), tree.org())
    dead_before = counted("webhook", "dead")
    retried_before = counted("webhook", "retried")
    [raised] = await running.apply(raise_at(tree.sibling, datetime.now(UTC)))
    rows = {row.recipient: row for row in await running.settled(raised.alert.id, timeout=30)}

    assert (rows["flaky"].state, rows["flaky"].attempts, rows["flaky"].last_error) == ("delivered", 4, None)
    assert hooks.attempts.count("flaky") == 4
    assert (rows["gone"].state, rows["gone"].attempts, rows["gone"].last_error) == ("dead", 1, "HTTP 404")
    assert hooks.attempts.count("gone") == 1  # a 4xx is not retried
    assert (rows["broken"].state, rows["broken"].attempts, rows["broken"].last_error) == ("dead", 4, "HTTP 500")
    assert (rows["slow"].state, rows["slow"].attempts, rows["slow"].last_error) == ("dead", 4, "ReadTimeout")
    assert (rows["down"].state, rows["down"].attempts, rows["down"].last_error) == ("dead", 4, "ConnectError")
    assert counted("webhook", "dead") == dead_before + 4
    assert counted("webhook", "retried") == retried_before + 3 + 3 * 3
    assert "is dead after 4 attempts: HTTP 500" in caplog.text
    assert "127.0.0.1" not in caplog.text and "hemlighet" not in caplog.text


async def test_two_dispatchers_on_one_database_deliver_each_row_once(
    start: Callable[[Settings, OrgRegistry], Running],
    tree: Tree,
    tmp_path: Path,
    receivers: tuple[HookReceiver, TeamsReceiver],
    mailbox: MailBox,
) -> None:
    """As with ``hypercare api --workers 2``: both claim due rows, neither takes one the other holds."""
    hooks, teams = receivers
    path = notifications_file(tmp_path / "notifications.yaml", tree, hooks, teams)
    first = start(settings_for(path, mailbox), tree.org())
    second = start(settings_for(path, mailbox), tree.org())
    t0 = datetime.now(UTC)
    ids = [
        applied.alert.id
        for index in range(12)
        for applied in await (first if index % 2 else second).apply(
            Raise(**{**raise_at(tree.unit, t0).__dict__, "rule": f"rule_{index}"})
        )
    ]
    for alert_id in ids:
        await first.settled(alert_id)
    ours = [hook for hook in hooks.accepted if hook.document["id"] in ids]
    assert len(ours) == len(ids) and len({hook.delivery_id for hook in ours}) == len(ids)
    assert sorted(card["body"][0]["text"] for card in teams.cards).count(
        "Hypercare [kritisk] nytt larm, nivå team: Avd 7"
    ) == len(ids)


async def test_a_claim_that_ran_out_is_taken_again_and_its_late_outcome_is_not_recorded(
    db: Database, tree: Tree
) -> None:
    """A dispatcher that died mid-delivery: its row is due again after the lease; the old claim records nothing."""
    settings = settings_for(None, alert_webhook_url="https://hooks.example/a")
    dispatcher = Dispatcher(db, load_notifications(settings, tree.org()), settings)
    outbox = dispatcher.outbox()

    async def record(session: AsyncSession, item: alert_store.Applied) -> None:
        await outbox.record(session, item.document())

    [raised] = await alert_store.apply(db, [raise_at(tree.unit, datetime.now(UTC))], record=record)
    [queued] = await store.for_alert(db, raised.alert.id)
    now = datetime.now(UTC)
    claimed = [
        row
        for row in await store.claim(db, now=now, lease=timedelta(seconds=30), limit=1000, token="dead")
        if row.id == queued.id
    ]
    assert claimed and claimed[0].attempts == 1
    again = [row.id for row in await store.claim(db, now=now, lease=timedelta(seconds=30), limit=1000, token="b")]
    assert queued.id not in again  # held
    later = now + timedelta(seconds=31)
    [taken] = [
        row
        for row in await store.claim(db, now=later, lease=timedelta(seconds=30), limit=1000, token="b")
        if row.id == queued.id
    ]
    assert taken.attempts == 2
    finish: dict[str, Any] = {"error": None, "now": later, "max_attempts": 5, "retry_in": timedelta(seconds=1)}
    assert await store.finish(db, claimed[0], token="dead", kind="delivered", **finish) is None
    assert await store.finish(db, taken, token="b", kind="delivered", **finish) == "delivered"
    async with db.sessions.begin() as session:  # leave nothing pending for other tests' dispatchers
        await session.execute(update(Notification).where(Notification.alert_id == raised.alert.id).values(state="dead"))
