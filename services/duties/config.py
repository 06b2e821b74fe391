"""Which reporting duties exist, to which authority, with which deadline (hypercare/rules/reporting_duties.yaml).

``HYPERCARE_DUTIES_FILE`` replaces the shipped file; a broken file is refused with the file, the line and the
reason (``hypercare.rules.loader``), e.g. ``duties.yaml:4: duties.lex_maria.deadline_hours: …``.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from hypercare.rules.loader import Naming, RulesError, read_yaml, validate


class DutyKind(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    authority: str
    deadline_hours: float = Field(gt=0)


class DutiesConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    duties: dict[str, DutyKind]


def load_duties(path: Path | None = None) -> DutiesConfig:
    data, source = read_yaml(
        path, package="hypercare.rules", filename="reporting_duties.yaml", what="duties file", error=RulesError
    )
    return validate(DutiesConfig, data, source, Naming(), error=RulesError)
