"""What a report needs besides the database: the org registry, the zone of its days and the rule files."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from hypercare.org.registry import OrgRegistry
from hypercare.settings import Settings
from services.alerts.rules import AlertRules, load_alert_rules
from services.duties.config import DutiesConfig, load_duties
from services.stop_criteria.rules import StopCriteria, load_stop_criteria


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
        return cls(
            org=org,
            zone=settings.zone,
            criteria=load_stop_criteria(settings.rules_file),
            duties=load_duties(settings.duties_file),
            alert_rules=load_alert_rules(settings.rules_file),
            presence_minutes=settings.floorwalker_presence_minutes,
        )
