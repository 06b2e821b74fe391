"""The rules file, read once: thresholds, health rules, alert rules, stop criteria, readiness and exit criteria
from one document.

The ``thresholds:`` section (:mod:`hypercare.rules.thresholds`) holds the minimum volumes and rate limits;
the other sections refer to it by id, so the three judge a figure by the same numbers.

``HYPERCARE_RULES_FILE`` (or the shipped ``default_rules.yaml``) is read and parsed once; each section has
its own parser (:mod:`hypercare.situation.health`, :mod:`hypercare.rules.alerts`,
:mod:`hypercare.rules.stop_criteria`), all built on :mod:`hypercare.rules.validators` and reporting through
:mod:`hypercare.rules.loader`. A custom file without an ``alerts`` or ``stop_criteria`` section gets the
shipped section. Every problem of every section is reported at once, one line each::

    my_rules.yaml:42: health rule 'login_failures'.yellow: must be a number
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from hypercare.rules.alerts import AlertRules, parse_alert_rules
from hypercare.rules.exit_criteria import ExitCriteria, parse_exit_criteria
from hypercare.rules.loader import RulesError, Source, read_rules_yaml, rules_section
from hypercare.rules.readiness import ReadinessChecklist, parse_readiness
from hypercare.rules.stop_criteria import StopCriteria, parse_stop_criteria
from hypercare.rules.thresholds import Thresholds, parse_thresholds
from hypercare.situation.health import HealthRules, parse_rules

T = TypeVar("T")


@dataclass(frozen=True)
class RulesFile:
    """All sections of one rules file, parsed."""

    thresholds: Thresholds
    health: HealthRules
    alerts: AlertRules
    stop_criteria: StopCriteria
    readiness: ReadinessChecklist
    exit_criteria: ExitCriteria
    origin: str  # the file's name in messages


def load_rules_file(path: Path | None = None) -> RulesFile:
    """Every section of ``path`` (the shipped file when None), read once; :class:`RulesError` lists all problems."""
    data, source = read_rules_yaml(path)
    problems: list[str] = []

    def parsed(parse: Callable[[Any, Source], T], section: Any, section_source: Source) -> T | None:
        try:
            return parse(section, section_source)
        except RulesError as error:
            problems.extend(line for line in str(error).splitlines() if line not in problems)
            return None

    thresholds = parsed(parse_thresholds, *rules_section(data, source, "thresholds"))
    if thresholds is None:
        raise RulesError("\n".join(problems))
    health = parsed(lambda d, s: parse_rules(d, origin=s, thresholds=thresholds), data, source)
    alerts = parsed(
        lambda d, s: parse_alert_rules(d, origin=s, thresholds=thresholds), *rules_section(data, source, "alerts")
    )
    criteria = parsed(
        lambda d, s: parse_stop_criteria(d, origin=s, thresholds=thresholds),
        *rules_section(data, source, "stop_criteria"),
    )
    readiness = parsed(lambda d, s: parse_readiness(d, origin=s), *rules_section(data, source, "readiness"))
    exits = parsed(lambda d, s: parse_exit_criteria(d, origin=s), *rules_section(data, source, "exit_criteria"))
    if health is None or alerts is None or criteria is None or readiness is None or exits is None:
        raise RulesError("\n".join(problems))
    return RulesFile(
        thresholds=thresholds,
        health=health,
        alerts=alerts,
        stop_criteria=criteria,
        readiness=readiness,
        exit_criteria=exits,
        origin=source.where(),
    )
