"""A broken reporting-duties file is refused with its file, line and reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from hypercare.rules.loader import RulesError
from services.duties.config import load_duties


def refusal(path: Path) -> str:
    with pytest.raises(RulesError) as error:
        load_duties(path)
    return str(error.value)


def test_the_shipped_duties_load() -> None:
    assert "lex_maria" in load_duties(None).duties


def test_a_duties_file_error_names_the_line_and_the_duty(tmp_path: Path) -> None:
    path = tmp_path / "duties.yaml"
    path.write_text(
        "duties:\n"
        "  lex_maria:\n"
        "    name: Lex Maria\n"
        "    authority: IVO\n"
        "    deadline_hours: 0\n"
        "  imy:\n"
        "    name: Personuppgiftsincident\n"
        "    deadline_hours: 72\n",
        encoding="utf-8",
    )
    assert refusal(path) == (
        f"{path}:5: duties.lex_maria.deadline_hours: Input should be greater than 0\n"
        f"{path}:6: duties.imy.authority: Field required"
    )
    path.write_text("duties:\n  lex_maria: {name: Lex Maria, authority: IVO, deadline_hours: [24\n")
    assert refusal(path).startswith(f"{path}:3: not valid YAML: ")
    assert refusal(tmp_path / "missing.yaml").startswith(f"{tmp_path / 'missing.yaml'}: cannot read")
