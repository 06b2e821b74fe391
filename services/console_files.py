"""The console's files: revalidated on every use, so a deploy reaches every browser on its next load.

The console is plain ES modules with fixed names (no build step, no content hashes), so nothing may be cached
on trust: every file is sent with ``Cache-Control: no-cache`` and a validator (``ETag``, ``Last-Modified``); the
browser and the service worker's network-first fetch ask again each time and get ``304`` with no body while the
file is the same. Without ``Cache-Control`` a browser may reuse a file heuristically (a tenth of its age) and mix
modules of two releases. The tag is weak: ``GZipMiddleware`` sends a gzip and an identity body under one tag.
"""

from __future__ import annotations

import os

from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.staticfiles import PathLike, StaticFiles
from starlette.types import Scope

CACHE_CONTROL = "no-cache"


class ConsoleStaticFiles(StaticFiles):
    """``StaticFiles`` whose answers (``200`` and ``304``) carry ``Cache-Control: no-cache`` and a weak ETag."""

    def file_response(
        self,
        full_path: PathLike,
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["Cache-Control"] = CACHE_CONTROL
        etag = response.headers.get("etag")
        if etag and not etag.startswith("W/"):
            response.headers["ETag"] = f"W/{etag}"
        return response

    def is_not_modified(self, response_headers: Headers, request_headers: Headers) -> bool:
        """Starlette's check, comparing tags weakly (``W/`` dropped on both sides, as RFC 9110 says for GET)."""
        if_none_match = request_headers.get("if-none-match")
        if if_none_match and if_none_match.strip() != "*":
            etag = response_headers["etag"].removeprefix("W/")
            return etag in [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
        return super().is_not_modified(response_headers, request_headers)
