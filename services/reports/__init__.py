"""The daily situation report (lägesbild): a frozen snapshot of stored data, approved and published.

``snapshot`` builds a report's content for a ``period`` from the event store and the alerts table at one
moment (``activity`` and ``coordination`` read, ``activity_sections``, ``register_sections`` and ``trends``
shape the sections, ``sources`` says in words where every number comes from); ``store`` keeps reports and
their draft → approved → published workflow; ``render`` turns content into Swedish HTML, PDF and Markdown
(``templates/``, ``charts``); ``router`` serves it under ``/api/v1/reports`` and ``cli`` for ``hypercare report``.
"""
