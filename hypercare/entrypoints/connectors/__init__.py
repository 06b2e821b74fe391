"""Connectors: ``hypercare connector run tickets|signins`` fetch a source system's records and post them to
``POST /api/v1/sources/{source}/records``, keeping their position with ``GET/PUT /api/v1/sources/{source}/cursor``
(saved only after the records before it were acknowledged, so a restart resumes without a gap; a record delivered
twice is absorbed by its deterministic event ids)."""
