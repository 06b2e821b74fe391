"""The rules file: read once as YAML, handed out by section, with errors that name the file.

Health rules (``hypercare.situation.health``), alerts (``services.alerts.rules``) and stop criteria
(``services.stop_criteria.rules``) each parse their own section from the document read here.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import yaml


class RulesError(ValueError):
    """A rules file that cannot be used; the message names the file, the rule and the field."""


def read_rules_document(path: Path | None = None) -> tuple[Any, str]:
    """The parsed YAML of the rules file and a name for it in messages; every section reads it this way."""
    if path is None:
        origin = "default_rules.yaml (shipped)"
        text = resources.files("hypercare.rules").joinpath("default_rules.yaml").read_text(encoding="utf-8")
    else:
        origin = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as error:
            raise RulesError(f"{origin}: cannot read the rules file: {error.strerror or error}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise RulesError(f"{origin}: not valid YAML: {error}") from None
    return data, origin


def read_rules_section(path: Path | None, name: str) -> tuple[Any, str]:
    """The ``name`` section of the rules file and where it came from; the shipped section if the file has none.

    Replacing the health rules must not switch off alerting or the stop criteria by accident.
    """
    data, origin = read_rules_document(path)
    section = data.get(name) if isinstance(data, dict) else None
    if section is None and path is not None:
        data, origin = read_rules_document(None)
        section = data.get(name)
        origin = f"{origin}, because the rules file has no {name} section"
    return section, origin
