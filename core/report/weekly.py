"""The weekly report: one ISO week of the store as an Excel workbook and a self-contained HTML page.

Every table comes from the same `core` functions the dashboard pages and the CLI use (accuracy,
segments, benefits, drift, validity, alerts, the triage list), run on ONE snapshot of the store: the
file is copied while a read-only connection holds the lock (so no daily run can write mid-copy), and
everything is read from the copy. Outcomes are judged at the end of the week (Sunday's scoring
instant), or at the newest data when the week is not over yet, so a past week's report reads the
same whenever it is written.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.config import StorePath
from core.errors import ConfigError
from core.models.metrics import DEFAULT_TRIAGE_CAPACITY
from core.report.contents import IsoWeek, WeeklyReport
from core.report.page import render_html
from core.report.tables import build_weekly_report
from core.report.workbook import write_workbook


def report_paths(week: IsoWeek, out_dir: str | os.PathLike[str]) -> tuple[Path, Path]:
    """Where the week's workbook and HTML page go in a folder."""
    folder = Path(out_dir)
    stem = f"journeyops-weekly-{week.label}"
    return folder / f"{stem}.xlsx", folder / f"{stem}.html"


def write_weekly_report(
    week: IsoWeek | str,
    out_dir: str | os.PathLike[str],
    store_path: StorePath = None,
    *,
    k: int = DEFAULT_TRIAGE_CAPACITY,
    n_boot: int = 1000,
    progress: bool = False,
    on_built: Callable[[WeeklyReport], None] | None = None,
) -> dict[str, Any]:
    """Build the week's report and write its workbook and HTML page into out_dir; what was written."""
    report = build_weekly_report(week, store_path, k=k, n_boot=n_boot, progress=progress)
    if on_built is not None:
        on_built(report)
    folder = Path(out_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create the report folder {folder}: {exc.strerror}; pass --out DIR") from exc
    workbook_path, html_path = report_paths(report.week, folder)
    write_workbook(report, workbook_path)
    html_path.write_text(render_html(report), encoding="utf-8")
    return {
        "week": report.week.label,
        "as_of": report.as_of.isoformat(),
        "workbook": str(workbook_path),
        "html": str(html_path),
        "summary": report.figures,
    }
