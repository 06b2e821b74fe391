"""``hypercare report``: the daily report of a date from the configured database, as HTML, PDF or Markdown.

The published report of the date when there is one, else its draft or approved version, else a preview
computed now (the same choice as ``GET /api/v1/reports/daily``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Literal

from hypercare.org.registry import load_org
from hypercare.settings import Settings
from hypercare.storage.db import Database
from services.reports import service
from services.reports.context import ReportContext
from services.reports.render import render_html, render_markdown, render_pdf

CliFormat = Literal["html", "pdf", "md"]
FORMATS: dict[str, CliFormat] = {"html": "html", "pdf": "pdf", "md": "md"}


async def daily_report_document(settings: Settings, day: date | None, fmt: CliFormat) -> tuple[bytes, str]:
    """(the rendered document, the report's status)."""
    context = ReportContext.from_settings(settings, load_org(settings.org_file))
    db = Database.from_url(settings.effective_database_url)
    try:
        report = await service.daily_report(db=db, context=context, day=day, now=datetime.now(UTC))
    finally:
        await db.close()
    meta = service.public(report)
    if fmt == "pdf":
        return render_pdf(meta, report.content), meta["status"]
    text = render_html(meta, report.content) if fmt == "html" else render_markdown(meta, report.content)
    return text.encode("utf-8"), meta["status"]
