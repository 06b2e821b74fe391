"""What every part of a report's content needs: the period, the org's names and the sources being cited."""

from __future__ import annotations

from dataclasses import dataclass, field

from hypercare.org.registry import UNMAPPED_ID, UNMAPPED_NAME, OrgRegistry
from services.reports.figures import Sources
from services.reports.period import Period, local_text
from services.reports.sources import define_sources


@dataclass
class Frame:
    org: OrgRegistry
    period: Period
    sources: Sources = field(init=False)

    def __post_init__(self) -> None:
        snapshot = f"{local_text(self.period.as_of, self.period.zone, seconds=True)} ({self.period.zone.key})"
        self.sources = Sources(snapshot_text=snapshot)
        define_sources(self.sources, self.period)

    @property
    def state(self) -> str:
        """Where states are read, in words: ``ställning vid 2024-11-13 00:00``."""
        return f"ställning vid {local_text(self.period.counted_until, self.period.zone)}"

    def unit_name(self, unit_id: str) -> str:
        return self.org.place(unit_id).name

    def admin_name(self, admin_id: str) -> str:
        for admin in self.org.administrations:
            if admin.id == admin_id:
                return admin.name
        return UNMAPPED_NAME if admin_id == UNMAPPED_ID else admin_id

    def admin_of(self, unit_id: str) -> str:
        return self.admin_name(self.org.place(unit_id).administration_id)

    def units_in(self, admin_id: str) -> int:
        return sum(1 for placement in self.org.placements.values() if placement.administration_id == admin_id)
