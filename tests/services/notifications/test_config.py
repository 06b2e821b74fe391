"""The notifications file: the shipped example validates; mistakes stop the start with the file and the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from hypercare.org.registry import load_org
from hypercare.settings import Settings
from services.notifications.config import LEGACY_WEBHOOK, NotificationsFileError, load_notifications

EXAMPLE = Path(__file__).resolve().parents[3] / "docs" / "notifications.example.yaml"
ENV = {"HC_NOTIFY_SAS_AKUTEN_SECRET": "s3cret", "HC_NOTIFY_SAS_TEAMS_URL": "https://teams.example/workflows/1?sig=x"}
ORG = load_org(None)


def settings(path: Path | None, **overrides: object) -> Settings:
    return Settings(kafka_bootstrap="unused:9092", notifications_file=path, **overrides)  # type: ignore[arg-type]


def test_the_example_file_validates_and_resolves_its_recipients() -> None:
    loaded = load_notifications(settings(EXAMPLE, smtp_host="smtp.example"), ORG, environ=ENV)
    assert [r.id for r in loaded.recipients] == ["sas-akuten-team", "sas-teams", "sas-multi-jour", "programledning"]
    akuten, teams, jour, programme = loaded.recipients
    assert akuten.secret == "s3cret" and akuten.nodes == frozenset({"SE2321000131-ESASBORAKM"})
    assert teams.url == ENV["HC_NOTIFY_SAS_TEAMS_URL"] and "SE2321000131-ESASSKE010" in (teams.nodes or ())
    assert jour.transitions == frozenset({"escalate", "resolve"}) and jour.levels == frozenset({"multi"})
    assert programme.nodes is None and programme.to == ("programledning@vgregion.example",)
    assert loaded.console_url == "https://hypercare.vgregion.example"
    assert "s3cret" not in repr(loaded)


def test_the_alert_webhook_url_is_a_webhook_recipient_of_everything() -> None:
    loaded = load_notifications(
        settings(None, alert_webhook_url="https://hooks.example/a", alert_webhook_secret="k"), ORG
    )
    [legacy] = loaded.recipients
    assert (legacy.id, legacy.channel, legacy.url, legacy.secret, legacy.nodes) == (
        LEGACY_WEBHOOK,
        "webhook",
        "https://hooks.example/a",
        "k",
        None,
    )
    assert legacy.levels == frozenset({"team", "multi", "program"})
    assert load_notifications(settings(None), ORG).recipients == ()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "recipients:\n  - id: a\n    levels: [team, programme]\n    channel: webhook\n    url: https://x.example\n"
            "    secret_env: HC_S\n",
            ":3: recipient 'a'.levels.1: Input should be 'team', 'multi' or 'program'",
        ),
        (
            "recipients:\n  - id: a\n    levels: [team]\n    scope: nowhere\n    channel: email\n    to: [a@b.se]\n",
            ":4: recipient 'a'.scope: no node 'nowhere' in the org registry",
        ),
        (
            "recipients:\n  - id: a\n    levels: [team]\n    channel: webhook\n    url: https://x.example\n"
            "    secret_env: HC_NOT_SET_ANYWHERE\n",
            ":6: recipient 'a'.secret_env: the environment variable HC_NOT_SET_ANYWHERE is not set",
        ),
        (
            "recipients:\n  - id: a\n    levels: [team]\n    channel: teams\n    url: http://teams.example/x\n",
            ":5: recipient 'a'.url: must be an https:// URL",
        ),
        (
            "recipients:\n  - id: a\n    levels: [team]\n    channel: teams\n    url: https://a.example\n"
            "    url_env: HC_S\n",
            ":2: recipient 'a': give url or url_env",
        ),
        (
            "recipients:\n  - id: a\n    levels: [team]\n    channel: email\n    to: [a@b.se]\n    secret: x\n",
            ":6: recipient 'a'.secret: Extra inputs are not permitted",
        ),
        (
            "recipients:\n  - id: a\n    levels: [team]\n    channel: email\n    to: [not-an-address]\n",
            ":5: recipient 'a'.to.0: String should match pattern",
        ),
        (
            "recipients:\n  - id: a\n    levels: [team]\n    channel: pager\n",
            ":2: recipient 'a': Input tag 'pager' found using 'channel' does not match any of the expected tags",
        ),
        (
            "recipients:\n  - {id: a, levels: [team], channel: email, to: [a@b.se]}\n"
            "  - {id: a, levels: [multi], channel: email, to: [a@b.se]}\n",
            "recipient ids used twice: a",
        ),
    ],
)
def test_a_mistake_names_the_file_the_line_and_the_reason(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "notifications.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(NotificationsFileError) as refused:
        load_notifications(settings(path, smtp_host="smtp.example"), ORG, environ={"HC_S": "x"})
    assert f"{path}" in str(refused.value)
    assert expected in str(refused.value)


def test_email_recipients_need_an_smtp_server(tmp_path: Path) -> None:
    path = tmp_path / "n.yaml"
    path.write_text("recipients:\n  - id: a\n    levels: [team]\n    channel: email\n    to: [a@b.se]\n")
    with pytest.raises(
        NotificationsFileError, match=r"n\.yaml:4: recipient 'a'\.channel: e-mail needs HYPERCARE_SMTP_HOST"
    ):
        load_notifications(settings(path), ORG, environ={})
