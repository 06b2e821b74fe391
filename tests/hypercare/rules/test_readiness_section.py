"""The ``readiness:`` section of the rules file: refused with its line and reason, and shipped when missing."""

from __future__ import annotations

from pathlib import Path

import pytest

from hypercare.rules.file import load_rules_file
from hypercare.rules.loader import RulesError
from hypercare.rules.readiness import load_readiness

SECTION = """\
version: 1
health: []
readiness:
  - id: permissions_matched
    title: Behörigheter
    kind: percent
    green_from: 95
    yellow_from: 85
  - id: devices_verified
    title: Utrustning
    kind: check
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "    yellow_from: 85\n",
            "    yellow_from: 96\n",
            "rules.yaml:4: readiness item 'permissions_matched': yellow_from must not be above green_from",
        ),
        (
            "    yellow_from: 85\n",
            "",
            "rules.yaml:4: readiness item 'permissions_matched': a percent item needs green_from and yellow_from",
        ),
        (
            "    kind: check\n",
            "    kind: check\n    green_from: 100\n",
            "rules.yaml:9: readiness item 'devices_verified': a check is done or not: it takes no green_from or "
            "yellow_from",
        ),
        (
            "    green_from: 95\n",
            "    green_from: 101\n",
            "rules.yaml:7: readiness item 'permissions_matched'.green_from: Input should be less than or equal to 100",
        ),
        (
            "  - id: devices_verified\n",
            "  - id: permissions_matched\n",
            "rules.yaml:3: readiness: readiness item ids used twice: permissions_matched",
        ),
    ],
)
def test_a_broken_checklist_is_refused_with_the_line(tmp_path: Path, old: str, new: str, expected: str) -> None:
    assert SECTION.count(old) == 1
    path = write(tmp_path, SECTION.replace(old, new))
    with pytest.raises(RulesError) as error:
        load_readiness(path)
    assert str(error.value) == f"{tmp_path}/{expected}"
    with pytest.raises(RulesError) as whole:
        load_rules_file(path)
    assert str(whole.value) == str(error.value)


def test_a_rules_file_without_the_section_gets_the_shipped_checklist(tmp_path: Path) -> None:
    path = write(tmp_path, "version: 1\nhealth: []\n")
    assert len(load_rules_file(path).readiness.items) == 6
    assert [item.id for item in load_readiness(write(tmp_path, SECTION)).items] == [
        "permissions_matched",
        "devices_verified",
    ]
