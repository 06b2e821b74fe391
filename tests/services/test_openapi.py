"""``/openapi.json`` shows a real response shape for every operation: a JSON schema or a declared document type."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from hypercare.settings import Settings
from services.app import create_app

# Typed by another change in flight (services/gateway, services/ingest); drop an entry once it has a schema.
DOCUMENT_TYPES = {"text/csv", "text/html", "text/markdown", "application/pdf"}


def _bare(schema: dict[str, Any] | None) -> bool:
    """No shape at all: missing, ``{}`` (Any), or an object that allows anything and names no property."""
    if not schema:
        return True
    if "$ref" in schema or "anyOf" in schema or "oneOf" in schema or "allOf" in schema:
        return False
    if schema.get("type") == "object":
        return "properties" not in schema and schema.get("additionalProperties", True) in (True, {})
    return "type" not in schema


def _untyped(spec: dict[str, Any]) -> set[tuple[str, str]]:
    missing = set()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            typed = False
            for code, response in operation["responses"].items():
                if not code.startswith("2"):
                    continue
                content = response.get("content", {})
                json_schema = content.get("application/json", {}).get("schema")
                typed |= not _bare(json_schema) or bool(DOCUMENT_TYPES & set(content))
            if not typed:
                missing.add((method.upper(), path))
    return missing


async def test_every_operation_declares_its_response(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        spec = (await client.get("/openapi.json")).json()
    assert spec["paths"], "the API has routes"
    assert _untyped(spec) == set(), sorted(_untyped(spec))


async def test_documents_declare_their_media_types(tmp_path: Path) -> None:
    spec = create_app(Settings(data_dir=tmp_path)).openapi()
    content = {
        path: set(spec["paths"][path]["get"]["responses"]["200"]["content"])
        for path in ("/api/v1/decisions", "/api/v1/reports/daily", "/api/v1/reports/{report_id}")
    }
    assert content["/api/v1/decisions"] == {"application/json", "text/csv"}
    for path in ("/api/v1/reports/daily", "/api/v1/reports/{report_id}"):
        assert content[path] == {"application/json", "text/html", "application/pdf", "text/markdown"}


def test_the_check_itself_tells_bare_from_typed() -> None:
    assert _bare(None) and _bare({}) and _bare({"type": "object", "additionalProperties": True, "title": "R"})
    assert _bare({"title": "Response Get Decisions"})
    assert not _bare({"$ref": "#/components/schemas/AlertOut"})
    assert not _bare({"type": "object", "properties": {"a": {"type": "integer"}}})
    assert not _bare({"type": "array", "items": {"$ref": "#/components/schemas/AlertOut"}})
