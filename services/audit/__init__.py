"""The audit log: who wrote what, signed in or out, or was refused, and how it went (``GET /api/v1/audit``)."""
