"""A region of any size for the read-side tests and benchmarks: the shipped registry copied ``n`` times.

50 copies of the shipped 40 units give the region's 2,000. Every copy gets its own ids (suffixed ``-i``) and
its own unit states (a deep copy), so a test can change one copy's units without touching the others.
"""

from __future__ import annotations

import copy
from typing import Any

from hypercare.org.registry import OrgRegistry


def copies(org: OrgRegistry, states: dict[str, Any], n: int) -> tuple[OrgRegistry, dict[str, Any]]:
    """The registry and its states ``n`` times over, every id suffixed."""
    document = org.model_dump()
    administrations = []
    for i in range(n):
        for admin in document["administrations"]:
            administrations.append(
                {
                    **admin,
                    "id": f"{admin['id']}-{i}",
                    "sites": [
                        {
                            **site,
                            "id": f"{site['id']}-{i}",
                            "units": [{**unit, "id": f"{unit['id']}-{i}"} for unit in site["units"]],
                        }
                        for site in admin["sites"]
                    ],
                }
            )
    big = OrgRegistry.model_validate({"region": document["region"], "administrations": administrations})
    big_states = {f"{unit_id}-{i}": copy.deepcopy(families) for unit_id, families in states.items() for i in range(n)}
    return big, big_states
