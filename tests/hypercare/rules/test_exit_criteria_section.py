"""The ``exit_criteria:`` section of the rules file: refused with its line and reason, and shipped when missing."""

from __future__ import annotations

from pathlib import Path

import pytest

from hypercare.rules.exit_criteria import load_exit_criteria
from hypercare.rules.file import load_rules_file
from hypercare.rules.loader import RulesError

SECTION = """\
version: 1
health: []
exit_criteria:
  - id: tickets_per_100_users
    title: Ärenden per 100 användare
    metric: tickets_per_100_users_daily
    not_met_at: 2
    days: 3
  - id: no_open_p1
    title: Inga P1
    metric: open_priority1_tickets
    not_met_at: 1
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "    days: 3\n",
            "",
            "rules.yaml:4: exit criterion 'tickets_per_100_users': tickets_per_100_users_daily needs days (how many "
            "whole days in a row below the limit)",
        ),
        (
            "    not_met_at: 1\n",
            "    not_met_at: 1\n    days: 2\n",
            "rules.yaml:9: exit criterion 'no_open_p1': days applies to tickets_per_100_users_daily only",
        ),
        (
            "    days: 3\n",
            "    days: 0\n",
            "rules.yaml:8: exit criterion 'tickets_per_100_users'.days: Input should be greater than or equal to 1",
        ),
        (
            "    metric: open_priority1_tickets\n",
            "    metric: open_tickets\n",
            "rules.yaml:11: exit criterion 'no_open_p1'.metric: Input should be 'tickets_per_100_users_daily', "
            "'open_priority1_tickets' or 'active_diversions'",
        ),
        (
            "  - id: no_open_p1\n",
            "  - id: tickets_per_100_users\n",
            "rules.yaml:3: exit_criteria: exit criterion ids used twice: tickets_per_100_users",
        ),
    ],
)
def test_broken_exit_criteria_are_refused_with_the_line(tmp_path: Path, old: str, new: str, expected: str) -> None:
    assert SECTION.count(old) == 1
    path = write(tmp_path, SECTION.replace(old, new))
    with pytest.raises(RulesError) as error:
        load_exit_criteria(path)
    assert str(error.value) == f"{tmp_path}/{expected}"
    with pytest.raises(RulesError) as whole:
        load_rules_file(path)
    assert str(whole.value) == str(error.value)


def test_a_rules_file_without_the_section_gets_the_shipped_criteria(tmp_path: Path) -> None:
    shipped = load_rules_file(write(tmp_path, "version: 1\nhealth: []\n")).exit_criteria
    assert [(c.id, c.metric, c.not_met_at, c.days) for c in shipped.criteria] == [
        ("tickets_per_100_users", "tickets_per_100_users_daily", 2, 3),
        ("no_open_p1", "open_priority1_tickets", 1, None),
        ("no_active_diversion", "active_diversions", 1, None),
    ]
    assert [c.id for c in load_exit_criteria(write(tmp_path, SECTION)).criteria] == [
        "tickets_per_100_users",
        "no_open_p1",
    ]
