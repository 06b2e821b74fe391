"""Alert notifications out: who hears of which alert transition, at which escalation level and org scope.

``config`` (the notifications file, ``HYPERCARE_NOTIFICATIONS_FILE``), ``service`` (pure routing: recipients for
a transition), ``store`` (the outbox in the database), ``channels`` (signed webhook, Teams, e-mail) and
``runtime`` (the outbox writer used by the alert service and the supervised dispatcher).
"""
