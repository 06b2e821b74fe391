"""What a report needs besides the database: the org registry, the zone of its days and the rule files."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from hypercare.org.registry import OrgRegistry
from hypercare.rules.file import load_rules_file
from hypercare.settings import Settings
from services.alerts.rules import AlertRules
from services.duties.config import DutiesConfig, load_duties
from services.stop_criteria.rules import StopCriteria


@dataclass(frozen=True)
class ReportContext:
    """Loaded once per process (the API keeps it in ``app.state``)."""

    org: OrgRegistry
    zone: ZoneInfo
    criteria: StopCriteria
    duties: DutiesConfig
    alert_rules: AlertRules
    presence_minutes: int = 240  # floor walkers present at the state moment, as in the live picture

    @classmethod
    def from_settings(cls, settings: Settings, org: OrgRegistry) -> ReportContext:
        """For the CLI; the API builds its context in ``create_app`` from the objects it loaded there."""
        rules = load_rules_file(settings.rules_file)  # the rules file read once
        return cls(
            org=org,
            zone=settings.zone,
            criteria=rules.stop_criteria,
            duties=load_duties(settings.duties_file),
            alert_rules=rules.alerts,
            presence_minutes=settings.floorwalker_presence_minutes,
        )
