"""One pure fold per domain fact: the rules every reader (live worker, console API, stop criteria,
daily report) uses to answer "what was true at time T" from contract events.

Each module settles its rules once, in its docstring, and works on contract models
(:mod:`hypercare.contract.events`) or on the JSON-safe records the live state keeps; nothing here
does I/O.
"""

from __future__ import annotations

from hypercare.situation.facts.order import OrderKey, after, order_key

__all__ = ["OrderKey", "after", "order_key"]
