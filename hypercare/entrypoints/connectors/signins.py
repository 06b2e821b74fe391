"""``hypercare connector run signins --path FILE|DIR``: Microsoft Graph signIn records as JSON lines, from a file
or a directory that grows (an Event Hub capture or an export writing new files), posted to the sources API.

Each file is read from its position in the cursor (``{"files": {path within the directory: byte offset}}``; a file
gone from the directory is forgotten) up to its last complete
line (a line still being written waits), in batches; a batch's positions are saved after the API acknowledged
it, so a restart resumes at the first line not acknowledged. A file that shrank was replaced: it is read again
from the start (its records' ids count them once). Lines are posted as they are (NDJSON): the API
pseudonymises them before anything else; a line that is not JSON is refused and kept, withheld, in the quarantine.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypercare.entrypoints.connectors.api import ConnectorConfigError, SourcesApi, poll_until_stopped, report
from hypercare.settings import Settings

log = logging.getLogger(__name__)
MAX_BATCH_BYTES = 1024 * 1024


def _files(path: Path) -> dict[str, Path]:
    """The files to read by their name in the cursor: the file itself, or every file under the directory (its
    subdirectories too, as a capture writes them: ``…/2026/02/18/07/…``) by its path within it, in name order."""
    if path.is_file():
        return {path.name: path}
    if not path.is_dir():
        raise ConnectorConfigError(f"--path {path}: no such file or directory")
    found = {
        file.relative_to(path).as_posix(): file
        for file in path.rglob("*")
        if file.is_file() and not any(part.startswith(".") for part in file.relative_to(path).parts)
    }
    return dict(sorted(found.items()))


def _batches(data: bytes, lines_per_batch: int) -> list[tuple[bytes, int]]:
    """Complete lines of ``data`` in batches: ``(body, bytes consumed up to the batch's end)``."""
    end = data.rfind(b"\n") + 1
    batches: list[tuple[bytes, int]] = []
    start = 0
    while start < end:
        stop, count = start, 0
        while stop < end and count < lines_per_batch and stop - start < MAX_BATCH_BYTES:
            stop = data.index(b"\n", stop) + 1
            count += 1
        batches.append((data[start:stop], stop))
        start = stop
    return batches


async def pass_once(path: Path, api: SourcesApi, cursor: dict[str, Any], version: int, batch: int) -> tuple[int, bool]:
    """Every complete new line of every file posted; ``(cursor version, anything posted)``."""
    files: dict[str, int] = cursor.setdefault("files", {})
    present = _files(path)
    for gone in [name for name in files if name not in present]:
        del files[gone]  # removed (or moved away) from the export: nothing more to read there
    posted = False
    for name, file in present.items():
        offset = int(files.get(name, 0))
        size = file.stat().st_size
        if size < offset:
            log.warning("%s: %s is shorter than its position; read again from the start", api.source, name)
            offset = 0
        if size == offset:
            continue
        with file.open("rb") as handle:
            handle.seek(offset)
            data = handle.read(size - offset)
        for body, consumed in _batches(data, batch):
            if body.strip():
                report(api.source, await api.post(body, ndjson=True))
                posted = True
            files[name] = offset + consumed
            version = await api.save(cursor, version)
    return version, posted


async def run_signins(
    settings: Settings,
    *,
    path: Path,
    api_url: str,
    token: str,
    source: str = "entra",
    once: bool = False,
    stop: Callable[[], bool] = lambda: False,
) -> None:
    api = SourcesApi(api_url, token, source)

    async def one_pass(stored: Any, version: int) -> None:
        await pass_once(path, api, dict(stored or {}), version, settings.connector_batch_size)

    try:
        await poll_until_stopped(
            api, one_pass=one_pass, poll_seconds=settings.connector_poll_seconds, once=once, stop=stop
        )
    finally:
        await api.close()
