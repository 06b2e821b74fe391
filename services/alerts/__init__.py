"""Alerts: rules over the live situation that someone must act on (issue 4).

One module per concern: ``rules`` (the ``alerts:`` section of the rules file), ``conditions`` (one
check per rule kind), ``engine`` (pure evaluation: raise, resolve, escalate), ``store`` (the
``alerts`` table, all its SQL), ``service`` (the gateway's evaluation loop and WebSocket push, and what
the REST routes do; transitions are notified through ``services.notifications``), ``schemas``
(the API's shapes) and ``router`` (REST, thin).
"""
