"""Console API: the read and write endpoints the web console needs beyond the situation picture.

``schemas`` (the API's shapes), ``store`` (its SQL), ``service`` (the logic), ``router`` (the routes, thin);
``tickets`` folds a ticket's events into its current view, ``trends`` places and sums trend buckets, ``sql``
holds dialect-aware SQL pieces shared with the stop criteria and the report.
"""

from __future__ import annotations

from services.console_api.router import router

__all__ = ["router"]
