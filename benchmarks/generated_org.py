"""A generated registry of N units for the benchmarks: the shipped region copied, in the region's four waves.

Copy ``i`` of every site (and its units, ids suffixed ``-<i>``) goes live in the registry's wave ``i % 4``,
under that wave's copy of its administration (``<id>-w<n>``): 2,000 units make 28 administrations of about 23
sites each, as a region's administrations hold many sites. The last copy is cut so that exactly N units remain.
"""

from __future__ import annotations

from typing import Any

from hypercare.org.registry import OrgRegistry


def generated_registry(org: OrgRegistry, units: int) -> OrgRegistry:
    """``org`` copied until it holds ``units`` units (unit ids ``<id>-<copy>``), copy ``i`` in wave ``i % 4``."""
    document = org.model_dump(exclude_none=True)
    waves = [wave["id"] for wave in document.get("waves", [])] or [None]
    administrations: dict[str, dict[str, Any]] = {}
    left = units
    copy = 0
    while left > 0:
        index = copy % len(waves)
        wave = waves[index]
        for admin in document["administrations"]:
            for site in admin["sites"]:
                kept = [
                    {**{k: v for k, v in unit.items() if k != "wave"}, "id": f"{unit['id']}-{copy}"}
                    for unit in site["units"][:left]
                ]
                left -= len(kept)
                if not kept:
                    continue
                admin_id = f"{admin['id']}-w{index + 1}"
                target = administrations.setdefault(
                    admin_id,
                    {**admin, "id": admin_id, "name": f"{admin['name']} (våg {index + 1})", "sites": []},
                )
                copied = {**site, "id": f"{site['id']}-{copy}", "units": kept}
                if wave is not None:
                    copied["wave"] = wave
                target["sites"].append(copied)
        copy += 1
    ordered = sorted(administrations.values(), key=lambda admin: str(admin["id"]).rsplit("-w", 1)[1])
    return OrgRegistry.model_validate({**document, "administrations": ordered})


def copies(org: OrgRegistry, states: dict[str, Any], n: int) -> tuple[OrgRegistry, dict[str, Any]]:
    """The registry and its states ``n`` times over, every id suffixed (the copies share their state objects)."""
    big = generated_registry(org, n * len(org.placements))
    big_states = {f"{unit_id}-{i}": families for unit_id, families in states.items() for i in range(n)}
    return big, big_states
