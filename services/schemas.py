"""What every response schema of the API shares.

Response schemas describe exactly the JSON the API sends: an undeclared key is an error rather than
silently dropped, and numbers that may be whole are ``Number`` so a count stays ``3`` and never
becomes ``3.0`` on the wire. Timestamps stay the ISO 8601 strings the services build.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

Number = int | float


class Schema(BaseModel):
    """A response shape (``extra="forbid"``: the schema lists every key)."""

    model_config = ConfigDict(extra="forbid")
