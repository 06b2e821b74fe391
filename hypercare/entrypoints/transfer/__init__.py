"""Moving events in and out of Hypercare from the command line: ``hypercare send``, ``export`` and ``replay``.

:mod:`.records` reads NDJSON or CSV into records (one per line, or per CSV row), :mod:`.sender` posts them to
the ingest API in batches with retries and a resumable progress file (:mod:`.state`), :mod:`.export` streams the
event store out as NDJSON and :mod:`.replay` sends an export again with its times shifted and new event ids.
"""
