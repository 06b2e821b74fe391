"""The organisation registry: region → administrations (förvaltningar) → sites → units, with areas and waves.

The region goes live area by area (södra, norra, östra, västra), then municipalities and private providers,
in **waves**. A wave belongs to sites or units, never to an administration: Närhälsan and the other
region-wide administrations span every area and so every wave. An administration is also an
**organisation** of one type: the region's own (``region``), a ``municipality`` or a ``private`` provider
under a LOV or LOU contract; municipalities and private providers have their own HSA prefix (``SE`` + their
organisation number), outside the region's.

A wave's ``status`` is one of

- ``planned``: scheduled or not yet, nothing prepared (no actual go-live);
- ``readiness``: its units are being made ready (needs a planned go-live; no actual go-live);
- ``live``: it went live (needs the actual go-live) and is in hypercare;
- ``paused``: its roll-out is paused, before its go-live or after it (the actual go-live is optional);
- ``exited``: hypercare is over and the units are handed over to ordinary support (needs the actual go-live).

:func:`load_org` validates the file before anything starts and refuses it with one line per problem,
``file:line: where: reason`` (the approach of :mod:`hypercare.rules.loader`): unique ids, the HSA form of
prefixes and of the ids under an organisation that declares one, references to areas and waves that
resolve, and, once a file declares waves, every unit in exactly one wave (through its site or itself).
A file without ``waves`` (a small test registry) has no waves: every unit's ``wave_id`` is null.

A unit may give its ``staff`` (its users): the denominator of the exit criteria's "per 100 users"
(:mod:`hypercare.rules.exit_criteria`); :data:`DEFAULT_UNIT_STAFF` where it does not.

The shipped default (``default_org.yaml``) is the first wave of the 2024 go-live and the neighbouring
emergency departments; ``region_org.yaml`` (``HYPERCARE_ORG_FILE=hypercare/org/region_org.yaml``, generated
by :mod:`hypercare.org.generate_region`) is the whole region. ``HYPERCARE_ORG_FILE`` takes the region's own file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from hypercare.rules.loader import ConfigFileError, Loc, Naming, read_yaml, validate

UNMAPPED_ID = "unmapped"
UNMAPPED_NAME = "Okänd enhet / unmapped"
UnitKind = Literal[
    "ed",
    "ward",
    "icu",
    "primary_care",
    "outpatient",
    "lab",
    "radiology",
    "support",
    "home_care",
    "nursing_home",
    "other",
]
WaveStatus = Literal["planned", "readiness", "live", "paused", "exited"]
OrganisationType = Literal["region", "municipality", "private"]
ContractForm = Literal["LOV", "LOU"]

HSA_PREFIX = re.compile(r"^SE\d{10}$")
HSA_SUFFIX = re.compile(r"^[A-Za-z0-9]{1,18}$")


def _hsa_prefix(value: str | None) -> str | None:
    if value is not None and not HSA_PREFIX.fullmatch(value):
        raise ValueError(f"{value!r} is not an HSA prefix: 'SE' and the 10-digit organisation number")
    return value


# A unit's users when the registry gives no ``staff``: about 50,000 users (DOMAIN.md) over the shipped region's
# ~1,540 units is 32; rounded down.
DEFAULT_UNIT_STAFF = 30


class _Node(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Area(_Node):
    id: str
    name: str


class Wave(_Node):
    id: str
    name: str
    status: WaveStatus = "planned"
    planned_go_live: AwareDatetime | None = None
    actual_go_live: AwareDatetime | None = None

    @model_validator(mode="after")
    def _status_fits_the_times(self) -> Wave:
        if self.status in ("live", "exited") and self.actual_go_live is None:
            raise ValueError(f"a wave with status {self.status!r} needs actual_go_live")
        if self.status in ("planned", "readiness") and self.actual_go_live is not None:
            raise ValueError(f"a wave with status {self.status!r} has no actual_go_live yet")
        if self.status == "readiness" and self.planned_go_live is None:
            raise ValueError("a wave in readiness needs planned_go_live")
        return self


class Unit(_Node):
    id: str
    name: str
    kind: UnitKind = "ward"
    wave: str | None = None
    # How many users (staff) work on the unit: the denominator of "per 100 users" (DEFAULT_UNIT_STAFF if not given).
    staff: int | None = Field(default=None, ge=0, strict=True)


class Site(_Node):
    id: str
    name: str
    area: str | None = None
    wave: str | None = None
    units: list[Unit] = Field(default_factory=list)


class Administration(_Node):
    """An administration (förvaltning) of the region, or a municipality's or private provider's organisation."""

    id: str
    name: str
    type: OrganisationType = "region"
    contract_form: ContractForm | None = None
    hsa_prefix: str | None = None
    area: str | None = None
    sites: list[Site] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _no_wave(cls, data: Any) -> Any:
        if isinstance(data, dict) and "wave" in data:
            raise ValueError(
                "an administration has no wave (it may span waves): give 'wave: <wave id>' to its sites or units"
            )
        return data

    _prefix = field_validator("hsa_prefix")(_hsa_prefix)

    @model_validator(mode="after")
    def _organisation(self) -> Administration:
        if self.type == "private" and self.contract_form is None:
            raise ValueError("a private provider needs contract_form (LOV or LOU)")
        if self.type != "private" and self.contract_form is not None:
            raise ValueError(f"contract_form is for private providers, not type {self.type!r}")
        if self.type != "region" and self.hsa_prefix is None:
            raise ValueError(f"a {self.type} organisation needs its own hsa_prefix")
        return self


class Region(_Node):
    id: str
    name: str
    hsa_prefix: str | None = None

    _prefix = field_validator("hsa_prefix")(_hsa_prefix)


class UnitPlacement(BaseModel):
    """Where a unit sits in the tree and in the roll-out; unknown units are placed under "unmapped"."""

    model_config = ConfigDict(frozen=True)
    unit_id: str
    name: str
    kind: str
    site_id: str
    administration_id: str
    mapped: bool = True
    wave_id: str | None = None
    area: str | None = None
    go_live_at: str | None = None  # the wave's actual go-live, ISO 8601 in UTC (the read side's form)


class OrgRegistry(_Node):
    _fallback_go_live: datetime | None = PrivateAttr(default=None)
    region: Region
    areas: list[Area] = Field(default_factory=list)
    waves: list[Wave] = Field(default_factory=list)
    administrations: list[Administration]

    @cached_property
    def waves_by_id(self) -> dict[str, Wave]:
        return {wave.id: wave for wave in self.waves}

    @cached_property
    def placements(self) -> dict[str, UnitPlacement]:
        placements: dict[str, UnitPlacement] = {}
        for admin in self.administrations:
            for site in admin.sites:
                for unit in site.units:
                    wave = self.waves_by_id.get(unit.wave or site.wave or "")
                    actual = wave.actual_go_live if wave is not None else None
                    placements[unit.id] = UnitPlacement(
                        unit_id=unit.id,
                        name=unit.name,
                        kind=unit.kind,
                        site_id=site.id,
                        administration_id=admin.id,
                        wave_id=wave.id if wave is not None else None,
                        area=site.area or admin.area,
                        go_live_at=actual.astimezone(UTC).isoformat() if actual is not None else None,
                    )
        return placements

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
        """This registry with ``at`` as the go-live of every unit whose wave gives no actual go-live
        (``HYPERCARE_GO_LIVE_AT``): where a never-visited unit counts its time without a visit from."""
        if at is None:
            return self
        clone = self.model_copy()
        clone.__dict__.pop("go_live", None)  # a cached copy of the original's would ignore ``at``
        clone._fallback_go_live = at
        return clone

    @cached_property
    def go_live(self) -> dict[str, datetime]:
        """Each unit's go-live: its wave's actual go-live, else ``with_go_live``'s fallback; units with neither
        are left out (their time without a visit is unknown)."""
        found: dict[str, datetime] = {}
        for unit_id, placement in self.placements.items():
            if placement.go_live_at is not None:
                found[unit_id] = datetime.fromisoformat(placement.go_live_at)
            elif self._fallback_go_live is not None:
                found[unit_id] = self._fallback_go_live
        return found

    @cached_property
    def actual_go_live(self) -> dict[str, datetime]:
        """Each unit whose wave has gone live: its wave's actual go-live (no fallback). What hours since go-live,
        and so a threshold's phase, count from."""
        return {
            unit_id: datetime.fromisoformat(placement.go_live_at)
            for unit_id, placement in self.placements.items()
            if placement.go_live_at is not None
        }

    @cached_property
    def emergency_departments(self) -> list[UnitPlacement]:
        return [placement for placement in self.placements.values() if placement.kind == "ed"]

    @cached_property
    def unit_staff(self) -> dict[str, int]:
        """Each unit's users: its ``staff``, else :data:`DEFAULT_UNIT_STAFF`."""
        return {
            unit.id: DEFAULT_UNIT_STAFF if unit.staff is None else unit.staff
            for admin in self.administrations
            for site in admin.sites
            for unit in site.units
        }

    @cached_property
    def wave_units(self) -> dict[str, list[str]]:
        """Each wave's unit ids, in registry order (every wave, empty ones included)."""
        units: dict[str, list[str]] = {wave.id: [] for wave in self.waves}
        for placement in self.placements.values():
            if placement.wave_id is not None:
                units[placement.wave_id].append(placement.unit_id)
        return units

    @cached_property
    def administration_waves(self) -> dict[str, list[str]]:
        """Each administration's waves (those of its units), in the order of ``waves``."""
        order = {wave.id: index for index, wave in enumerate(self.waves)}
        found: dict[str, set[str]] = {admin.id: set() for admin in self.administrations}
        for placement in self.placements.values():
            if placement.wave_id is not None:
                found[placement.administration_id].add(placement.wave_id)
        return {admin_id: sorted(waves, key=order.__getitem__) for admin_id, waves in found.items()}

    @cached_property
    def wave_areas(self) -> dict[str, list[str]]:
        """Each wave's areas (those of its units), in the order of ``areas``."""
        order = {area.id: index for index, area in enumerate(self.areas)}
        found: dict[str, set[str]] = {wave.id: set() for wave in self.waves}
        for placement in self.placements.values():
            if placement.wave_id is not None and placement.area is not None:
                found[placement.wave_id].add(placement.area)
        return {wave_id: sorted(areas, key=lambda a: order.get(a, len(order))) for wave_id, areas in found.items()}

    def latest_live_wave(self) -> Wave | None:
        """The live wave that went live last (the one in its first days), else None."""
        live = [wave for wave in self.waves if wave.status == "live" and wave.actual_go_live is not None]
        return max(live, key=lambda wave: wave.actual_go_live or datetime.min.replace(tzinfo=UTC), default=None)


def exact_hours_since(go_live: datetime | str | None, now: datetime | str) -> float | None:
    """Hours from a go-live (a datetime or ISO text, e.g. a placement's ``go_live_at``) to ``now``, unrounded;
    None before it. What a threshold phase is chosen by (``first_72h`` ends at the exact second)."""
    if go_live is None:
        return None
    start = datetime.fromisoformat(go_live) if isinstance(go_live, str) else go_live
    end = datetime.fromisoformat(now) if isinstance(now, str) else now
    hours = (end - start).total_seconds() / 3600
    return hours if hours >= 0 else None


def hours_since_go_live(go_live: datetime | str | None, now: datetime) -> float | None:
    """Hours from a go-live (a datetime, or a placement's ``go_live_at``) to ``now``, two decimals; None before it."""
    hours = exact_hours_since(go_live, now)
    return None if hours is None else round(hours, 2)


class OrgFileError(ConfigFileError):
    """An org registry file that cannot be used; the message names the file, the line and the reason."""


def load_org(path: Path | None = None, *, filename: str = "default_org.yaml") -> OrgRegistry:
    """The registry of ``path`` (a shipped file, ``default_org.yaml`` by default, when None), validated whole."""
    data, source = read_yaml(
        path, package="hypercare.org", filename=filename, what="org registry file", error=OrgFileError
    )
    org = validate(OrgRegistry, data, source, Naming(), error=OrgFileError)
    problems = [f"{source.where(loc)}: {where}: {reason}" for loc, where, reason in _problems(org)]
    if problems:
        raise OrgFileError("\n".join(dict.fromkeys(problems)))
    return org


# --- checks across the tree (after each node's own validation) --------------------------------------------------

Problem = tuple[Loc, str, str]  # (path in the document, what it is, the reason)


def _problems(org: OrgRegistry) -> Iterator[Problem]:
    yield from _unique_ids(org)
    yield from _hsa_ids(org)
    yield from _references(org)


def _unique_ids(org: OrgRegistry) -> Iterator[Problem]:
    for section, ids in (("area", [a.id for a in org.areas]), ("wave", [w.id for w in org.waves])):
        seen: set[str] = set()
        for index, entry_id in enumerate(ids):
            if entry_id in seen:
                yield (f"{section}s", index, "id"), f"{section} {entry_id!r}", "id used twice"
            seen.add(entry_id)
    nodes: set[str] = {org.region.id}
    for loc, kind, node_id in _tree_ids(org):
        if node_id == UNMAPPED_ID:
            yield (
                (*loc, "id"),
                f"{kind} {node_id!r}",
                f"the id {UNMAPPED_ID!r} is reserved for units the registry lacks",
            )
        elif node_id in nodes:
            yield (*loc, "id"), f"{kind} {node_id!r}", "id used twice in the tree"
        nodes.add(node_id)


def _tree_ids(org: OrgRegistry) -> Iterator[tuple[Loc, str, str]]:
    for a, admin in enumerate(org.administrations):
        yield from _tree_ids_of(a, admin)


def _hsa_ids(org: OrgRegistry) -> Iterator[Problem]:
    region_prefix = org.region.hsa_prefix
    if region_prefix is not None and not _has_prefix(org.region.id, region_prefix):
        yield ("region", "id"), f"region {org.region.id!r}", f"id is not an HSA id under {region_prefix}-"
    for a, admin in enumerate(org.administrations):
        where = f"administration {admin.id!r}"
        if admin.type == "region":
            if admin.hsa_prefix is not None and admin.hsa_prefix != region_prefix:
                yield ("administrations", a, "hsa_prefix"), where, "the region's own administrations use its hsa_prefix"
            prefix = region_prefix
        else:
            prefix = admin.hsa_prefix
            if prefix is not None and prefix == region_prefix:
                yield (
                    ("administrations", a, "hsa_prefix"),
                    where,
                    f"a {admin.type} organisation has its own HSA prefix, not the region's ({prefix})",
                )
        if prefix is None:
            continue
        for loc, kind, node_id in _tree_ids_of(a, admin):
            if not _has_prefix(node_id, prefix):
                yield (
                    (*loc, "id"),
                    f"{kind} {node_id!r}",
                    f"not an HSA id of its organisation: {prefix}- and 1–18 letters or digits",
                )


def _tree_ids_of(a: int, admin: Administration) -> Iterator[tuple[Loc, str, str]]:
    yield ("administrations", a), "administration", admin.id
    for s, site in enumerate(admin.sites):
        yield ("administrations", a, "sites", s), "site", site.id
        for u, unit in enumerate(site.units):
            yield ("administrations", a, "sites", s, "units", u), "unit", unit.id


def _has_prefix(node_id: str, prefix: str) -> bool:
    head, dash, tail = node_id.partition("-")
    return head == prefix and dash == "-" and HSA_SUFFIX.fullmatch(tail) is not None


def _references(org: OrgRegistry) -> Iterator[Problem]:
    areas = {area.id for area in org.areas}
    waves = set(org.waves_by_id)
    known_areas = ", ".join(sorted(areas)) or "none declared"
    known_waves = ", ".join(sorted(waves)) or "none declared"
    for a, admin in enumerate(org.administrations):
        if admin.area is not None and admin.area not in areas:
            yield (
                ("administrations", a, "area"),
                f"administration {admin.id!r}",
                f"area {admin.area!r} is not in areas ({known_areas})",
            )
        for s, site in enumerate(admin.sites):
            site_loc: Loc = ("administrations", a, "sites", s)
            if site.area is not None and site.area not in areas:
                yield (*site_loc, "area"), f"site {site.id!r}", f"area {site.area!r} is not in areas ({known_areas})"
            if site.wave is not None and site.wave not in waves:
                yield (*site_loc, "wave"), f"site {site.id!r}", f"wave {site.wave!r} is not in waves ({known_waves})"
            if areas and site.area is None and admin.area is None and site.units:
                yield site_loc, f"site {site.id!r}", "no area: give the site (or its administration) an area"
            for u, unit in enumerate(site.units):
                unit_loc: Loc = (*site_loc, "units", u)
                where = f"unit {unit.id!r}"
                if unit.wave is not None and unit.wave not in waves:
                    yield (*unit_loc, "wave"), where, f"wave {unit.wave!r} is not in waves ({known_waves})"
                elif unit.wave is not None and site.wave is not None and unit.wave != site.wave:
                    yield (
                        (*unit_loc, "wave"),
                        where,
                        f"in two waves: {unit.wave!r} and, through its site, {site.wave!r} (a unit is in exactly one)",
                    )
                elif waves and unit.wave is None and site.wave is None:
                    yield unit_loc, where, "in no wave: give the unit or its site a wave (every unit is in exactly one)"
