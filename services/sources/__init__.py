"""Source systems' raw records: ``POST /api/v1/sources/{source}/records`` maps them (hypercare/sources) and hands
the events to the ingest path; ``GET/PUT /api/v1/sources/{source}/cursor`` keeps a connector's position."""
