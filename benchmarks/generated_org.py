"""A generated registry of N units for the benchmarks: the shipped region copied, in the region's four waves.

Copy ``i`` of every site (and its units, ids suffixed ``-<i>``) goes live in wave ``i % 4 + 1``, under that wave's
copy of its administration (``<id>-w<wave>``): 2,000 units make 28 administrations of about 23 sites each, as a
region's administrations hold many sites. The last copy is cut so that exactly N units remain.
"""

from __future__ import annotations

from typing import Any

from hypercare.org.registry import OrgRegistry


def generated_registry(org: OrgRegistry, units: int) -> OrgRegistry:
    """``org`` copied until it holds ``units`` units (unit ids ``<id>-<copy>``)."""
    document = org.model_dump()
    administrations: dict[str, dict[str, Any]] = {}
    left = units
    copy = 0
    while left > 0:
        wave = copy % 4 + 1
        for admin in document["administrations"]:
            for site in admin["sites"]:
                kept = [{**unit, "id": f"{unit['id']}-{copy}"} for unit in site["units"][:left]]
                left -= len(kept)
                if not kept:
                    continue
                admin_id = f"{admin['id']}-w{wave}"
                target = administrations.setdefault(
                    admin_id,
                    {**admin, "id": admin_id, "name": f"{admin['name']} (våg {wave})", "wave": wave, "sites": []},
                )
                target["sites"].append({**site, "id": f"{site['id']}-{copy}", "units": kept})
        copy += 1
    ordered = sorted(administrations.values(), key=lambda admin: admin["wave"])
    return OrgRegistry.model_validate({"region": document["region"], "administrations": ordered})


def copies(org: OrgRegistry, states: dict[str, Any], n: int) -> tuple[OrgRegistry, dict[str, Any]]:
    """The registry and its states ``n`` times over, every id suffixed (the copies share their state objects)."""
    big = generated_registry(org, n * len(org.placements))
    big_states = {f"{unit_id}-{i}": families for unit_id, families in states.items() for i in range(n)}
    return big, big_states
