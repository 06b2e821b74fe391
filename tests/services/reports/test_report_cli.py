"""``hypercare report``: the day's report from the configured database, to a file or standard output."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest
from report_api import ReportApi
from report_day import expected_figures, fresh_day, pdf_text, row_after, simulate_day

from hypercare.storage.migrate import upgrade_database

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """SQLite only: the command reads the database the same way on both, and each run starts a process."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'hypercare.db'}"
    upgrade_database(url)
    return url


async def hypercare(api: ReportApi, *args: str) -> tuple[int, bytes, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYPERCARE_")}
    env.update(
        HYPERCARE_DATABASE_URL=api.db_url,
        HYPERCARE_ORG_FILE=str(api.settings.org_file),
        HYPERCARE_DATA_DIR=str(api.settings.data_dir),
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hypercare.entrypoints.cli",
        "report",
        *args,
        env=env,
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        stdin=asyncio.subprocess.DEVNULL,
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, out, err.decode()


async def test_the_cli_prints_the_published_report_or_a_preview(api: ReportApi, tmp_path: Path) -> None:
    sim = simulate_day(
        fresh_day(),
        admin_of=api.org.admin_of,
        eds=api.org.eds,
        receiving_ed=api.org.unit("B1RX"),
        region_id=api.org.region,
    )
    await api.store(sim.events)
    expected = expected_figures(sim)[api.org.admin_a]
    day = sim.day.isoformat()

    code, out, err = await hypercare(api, "--date", day, "--format", "md")
    assert code == 0, err
    assert "report status: preview" in err
    markdown = out.decode()
    assert markdown.startswith(f"# Lägesbild {sim.day.day} december {sim.day.year}")
    assert f"| Förvaltning Alfa | {expected.tickets_opened} | {expected.tickets_resolved} |" in markdown

    report_id = (await api.post("/api/v1/reports", json={"date": day})).json()["report"]["id"]
    await api.post(f"/api/v1/reports/{report_id}/approve")
    await api.post(f"/api/v1/reports/{report_id}/publish")
    target = tmp_path / "lagesbild.pdf"
    code, out, err = await hypercare(api, "--date", day, "--format", "pdf", "--output", str(target))
    assert code == 0, err
    assert out == b"" and "report status: published" in err
    text = pdf_text(target.read_bytes())
    assert "PUBLICERAD" in text
    assert row_after(text, "Ärenden per förvaltning", "Förvaltning Alfa")[:2] == [
        str(expected.tickets_opened),
        str(expected.tickets_resolved),
    ]

    code, out, err = await hypercare(api, "--date", day, "--format", "html")
    assert code == 0 and out.decode().startswith("<!doctype html>")
    assert (await hypercare(api, "--date", "1999-13-01"))[0] == 2
    assert (await hypercare(api, "--format", "docx"))[0] == 2
    code, _, err = await hypercare(api, "--date", "2999-01-01", "--format", "md")
    assert code == 1 and "has not begun" in err
