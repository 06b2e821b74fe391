"""The ``stop_criteria:`` section of the rules file, parsed in :mod:`hypercare.rules.stop_criteria`.

The whole rules file is parsed in one place (``hypercare.rules``; :func:`hypercare.rules.file.load_rules_file`
reads it once); the gateway's stop-criteria code keeps importing the models from here.
"""

from __future__ import annotations

from hypercare.rules.loader import RulesError
from hypercare.rules.stop_criteria import (
    METRICS,
    Metric,
    StopCriteria,
    StopCriterion,
    load_stop_criteria,
    parse_stop_criteria,
)
from hypercare.rules.validators import Number

__all__ = [
    "METRICS",
    "Metric",
    "Number",
    "RulesError",
    "StopCriteria",
    "StopCriterion",
    "load_stop_criteria",
    "parse_stop_criteria",
]
