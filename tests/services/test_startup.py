"""``create_app`` builds every runtime object once: a broken configuration file refuses the start, not a request."""

from __future__ import annotations

from pathlib import Path

import pytest

from hypercare.settings import Settings
from services.app import create_app


def test_the_runtime_objects_are_built_before_the_first_request(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path))
    for name in ("settings", "org", "rules", "alert_rules", "stop_criteria", "duties", "report_context"):
        assert getattr(app.state, name, None) is not None, name
    context = app.state.report_context
    assert context.duties is app.state.duties and context.criteria is app.state.stop_criteria
    assert context.org is app.state.org and context.alert_rules is app.state.alert_rules


def test_a_bad_duties_file_refuses_to_start(tmp_path: Path) -> None:
    duties = tmp_path / "duties.yaml"
    duties.write_text("duties:\n  lex_maria:\n    name: Lex Maria\n    deadline_hours: 24\n", encoding="utf-8")
    with pytest.raises(ValueError, match="authority"):  # pydantic's ValidationError is a ValueError
        create_app(Settings(data_dir=tmp_path, duties_file=duties))
