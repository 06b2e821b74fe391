"""Which reporting duties exist, to which authority, with which deadline (hypercare/rules/reporting_duties.yaml)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field


class DutyKind(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    authority: str
    deadline_hours: float = Field(gt=0)


class DutiesConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    duties: dict[str, DutyKind]


def load_duties(path: Path | None = None) -> DutiesConfig:
    if path is None:
        text = resources.files("hypercare.rules").joinpath("reporting_duties.yaml").read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    return DutiesConfig.model_validate(yaml.safe_load(text))
