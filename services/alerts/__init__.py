"""Alerts: rules over the live situation that someone must act on (issue 4).

One module per concern: ``rules`` (the ``alerts:`` section of the rules file), ``conditions`` (one
check per rule kind), ``engine`` (pure evaluation: raise, resolve, escalate), ``store`` (the
``alerts`` table), ``service`` (the gateway's evaluation loop and WebSocket push), ``webhook``
(background delivery to ``HYPERCARE_ALERT_WEBHOOK_URL``) and ``router`` (REST).
"""
