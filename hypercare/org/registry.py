"""The organisation registry: region → administrations (förvaltningar) → sites → units.

A shipped default describes the first wave of the 2024 Västra Götaland go-live and the
neighbouring emergency departments that receive diverted patients; ``HYPERCARE_ORG_FILE``
replaces it with the region's own file of the same shape.
"""

from __future__ import annotations

from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from hypercare.rules.loader import ConfigFileError, Naming, read_yaml, validate

UNMAPPED_ID = "unmapped"
UNMAPPED_NAME = "Okänd enhet / unmapped"
UnitKind = Literal["ed", "ward", "icu", "primary_care", "outpatient", "lab", "radiology", "support", "other"]


class Unit(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    name: str
    kind: UnitKind = "ward"


class Site(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    name: str
    units: list[Unit] = Field(default_factory=list)


class Administration(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    name: str
    wave: int | None = None
    # When the administration went (or goes) live, with its UTC offset. Optional; with it a unit no floor
    # walker has ever visited counts its time without a visit from here (the coverage figures).
    go_live_at: AwareDatetime | None = None
    sites: list[Site] = Field(default_factory=list)


class Region(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    name: str


class UnitPlacement(BaseModel):
    """Where a unit sits in the tree; unknown units are placed under "unmapped"."""

    model_config = ConfigDict(frozen=True)
    unit_id: str
    name: str
    kind: str
    site_id: str
    administration_id: str
    mapped: bool = True


class OrgRegistry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    region: Region
    administrations: list[Administration]

    @model_validator(mode="after")
    def _ids_unique(self) -> OrgRegistry:
        seen: set[str] = set()
        for admin in self.administrations:
            for node_id in [admin.id, *(s.id for s in admin.sites), *(u.id for s in admin.sites for u in s.units)]:
                if node_id in seen or node_id == UNMAPPED_ID:
                    raise ValueError(f"org id {node_id!r} is used twice (or reserved)")
                seen.add(node_id)
        return self

    @cached_property
    def placements(self) -> dict[str, UnitPlacement]:
        return {
            unit.id: UnitPlacement(
                unit_id=unit.id, name=unit.name, kind=unit.kind, site_id=site.id, administration_id=admin.id
            )
            for admin in self.administrations
            for site in admin.sites
            for unit in site.units
        }

    def place(self, unit_id: str) -> UnitPlacement:
        placement = self.placements.get(unit_id)
        if placement is not None:
            return placement
        return UnitPlacement(
            unit_id=unit_id,
            name=unit_id,
            kind="other",
            site_id=UNMAPPED_ID,
            administration_id=UNMAPPED_ID,
            mapped=False,
        )

    def knows(self, unit_id: str) -> bool:
        return unit_id in self.placements

    @cached_property
    def node_ids(self) -> frozenset[str]:
        """Every id of the tree: the region, administrations, sites and units."""
        return frozenset(
            [
                self.region.id,
                *(admin.id for admin in self.administrations),
                *(site.id for admin in self.administrations for site in admin.sites),
                *self.placements,
            ]
        )

    def with_go_live(self, at: datetime | None) -> OrgRegistry:
        """This registry with ``at`` as the go-live of each administration that gives none (HYPERCARE_GO_LIVE_AT)."""
        if at is None or all(admin.go_live_at is not None for admin in self.administrations):
            return self
        administrations = [
            admin if admin.go_live_at is not None else admin.model_copy(update={"go_live_at": at})
            for admin in self.administrations
        ]
        return self.model_copy(update={"administrations": administrations})

    @cached_property
    def go_live(self) -> dict[str, datetime]:
        """``go_live_at`` per administration id, for those that give one."""
        return {admin.id: admin.go_live_at for admin in self.administrations if admin.go_live_at is not None}

    @cached_property
    def emergency_departments(self) -> list[UnitPlacement]:
        return [placement for placement in self.placements.values() if placement.kind == "ed"]


class OrgFileError(ConfigFileError):
    """An org registry file that cannot be used; the message names the file, the line and the reason."""


def load_org(path: Path | None = None) -> OrgRegistry:
    data, source = read_yaml(
        path, package="hypercare.org", filename="default_org.yaml", what="org registry file", error=OrgFileError
    )
    return validate(OrgRegistry, data, source, Naming(), error=OrgFileError)
