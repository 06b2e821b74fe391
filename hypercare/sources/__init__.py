"""Source mappings: a source system's JSON records (ServiceNow incidents, Entra ID sign-ins, ...) turned into
contract-v1 events by a declarative YAML file per source (:mod:`hypercare.sources.mapping`), pure and shared by
the API's ``POST /api/v1/sources/{source}/records`` and the tests (:mod:`hypercare.sources.engine`)."""
