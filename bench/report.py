"""Benchmark `report`: the weekly report (workbook + HTML) of the last full week of a demo store.

Set-up (untimed): build the closed-loop demo history (`core.jobs.closed_loop.build_demo_history`, the
`python -m core demo` path with its bounded retrains) once per scale; a marker beside the store
lets later runs reuse it. Subject: `core.report.weekly.write_weekly_report` for the last ISO week that has
triage lists. Baseline, the floor: the least work that produces the same report content — the
report's own final tables (`core.report.tables.build_weekly_report` on the same store and week, built
untimed while preparing) written with the fastest writer installed: openpyxl in write-only mode (no
styles, number formats, widths, filters or formula guard; the same cell values, one sheet per section
in the same order) and the same tables as plain `DataFrame.to_html` (no charts, no plotly.js). It does
a strict subset of the subject's work, so the ratio is ≥ 1 by construction and says what reading the
store, computing the metrics, the charts and the formatting cost. `same_tables` (1 or 0) says the
floor's workbook holds the subject's cell values, sheet by sheet.
(Before, the baseline wrote every raw forecast row through openpyxl — more work than the report —
and the subject ran at 0.30× "its floor".)
"""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from bench.harness import DEMO_END, Benchmark, Call, Plan, Target

# (days, orders per day) per scale; full is the demo's default scale (`python -m core demo`).
# small: the 42-day demo at 300/day (30 days gave the go-live classifier too few stuck orders to pass the gate)
SIZES = {"small": (42, 300), "full": (60, 800)}
SEED = 7


def store_path(work_dir: Path) -> Path:
    """The demo store of one scale."""
    return work_dir / "report_demo" / "journeyops.duckdb"


def _marker(store: Path) -> Path:
    return store.with_name("built.json")


def prepare_demo_store(store: str, days: int, orders_per_day: int, seed: int) -> Callable[[], dict[str, Any]]:
    """Set-up: build the closed-loop demo history unless this folder already holds the same one."""
    from core.jobs import closed_loop

    path = Path(store)
    params = {"days": days, "orders_per_day": orders_per_day, "seed": seed, "end": DEMO_END.isoformat()}
    marker = _marker(path)
    if marker.exists() and path.exists() and json.loads(marker.read_text()) == params:
        return lambda: {"reused": True}

    def run() -> dict[str, Any]:
        shutil.rmtree(path.parent, ignore_errors=True)
        path.parent.mkdir(parents=True)
        outcome = closed_loop.build_demo_history(
            path,
            days=days,
            orders_per_day=orders_per_day,
            seed=seed,
            end=DEMO_END,
            settings=closed_loop.demo_settings(),
            progress=False,
        )
        marker.write_text(json.dumps(params))
        return json.loads(json.dumps(outcome, default=str))

    return run


def last_listed_week(store: Path) -> str:
    """The ISO week of the newest triage list (the week a Monday report would cover)."""
    from core.triage import ranking

    day = ranking.latest_list_day(None, store)
    if day is None:
        raise RuntimeError(f"the store {store} has no triage list; build it with training")
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def prepare_weekly_report(store: str, out_dir: str) -> tuple[Callable[[], Any], Callable[[Any], dict[str, Any]]]:
    """Time `core.report.weekly.write_weekly_report` for the store's last listed week."""
    from core.report import weekly

    path, out = Path(store), Path(out_dir)
    week = last_listed_week(path)
    shutil.rmtree(out, ignore_errors=True)

    def run() -> dict[str, Any]:
        return weekly.write_weekly_report(week, out, path)

    def summarise(written: dict[str, Any]) -> dict[str, Any]:
        summary = written["summary"]
        return {
            "week": written["week"],
            "reports": 1,
            "forecasts": int(summary.get("forecast accuracy (realised).forecasts") or 0)
            + int(summary.get("forecast accuracy (estimated).forecasts") or 0),
            "orders_shown": summary.get("at-risk.orders_shown"),
            "workbook_kb": round(Path(written["workbook"]).stat().st_size / 1024),
            "html_kb": round(Path(written["html"]).stat().st_size / 1024),
        }

    return run, summarise


def write_floor(report: Any, out_dir: Path) -> tuple[Path, Path]:
    """The report's tables, nothing else: an unformatted write-only workbook (the subject's cell values,
    one sheet per section in order) and plain HTML tables. What the floor case times."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    from core.report.contents import SECTIONS
    from core.report.workbook import _cell_value
    from core.triage import export

    out_dir.mkdir(parents=True, exist_ok=True)
    workbook = Workbook(write_only=True)
    for key, title in SECTIONS.items():
        frame = report.tables[key]
        sheet = workbook.create_sheet(title)
        sheet.append([str(c) for c in frame.columns])
        for row in frame.itertuples(index=False, name=None):
            values = [_cell_value(v) for v in row]
            if any(isinstance(v, str) and export.is_risky(v) for v in values):
                # the same content as the subject's: text, never a formula
                values = [_text_cell(WriteOnlyCell, sheet, v) if isinstance(v, str) else v for v in values]
            sheet.append(values)
    xlsx, html = out_dir / "floor.xlsx", out_dir / "floor.html"
    workbook.save(xlsx)
    parts = [
        f"<h2>{title}</h2>" + report.tables[key].to_html(index=False, na_rep="") for key, title in SECTIONS.items()
    ]
    html.write_text("<html><body>" + "\n".join(parts) + "</body></html>", encoding="utf-8")
    return xlsx, html


def _text_cell(cell_type: Any, sheet: Any, value: str) -> Any:
    cell = cell_type(sheet, value=value)
    cell.data_type = "s"
    return cell


def workbook_values(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every sheet's cell values, row by row (read-only): what two workbooks are compared on."""
    from openpyxl import load_workbook

    def trimmed(row: tuple[Any, ...]) -> tuple[Any, ...]:
        # trailing empty cells: a write-only file records no sheet dimensions, so its rows end early
        end = len(row)
        while end and row[end - 1] is None:
            end -= 1
        return row[:end]

    workbook = load_workbook(path, read_only=True)
    try:
        return {
            sheet.title: [trimmed(tuple(r)) for r in sheet.iter_rows(values_only=True)] for sheet in workbook.worksheets
        }
    finally:
        workbook.close()


def differing_sheets(floor: Mapping[str, Sequence[Any]], subject: Mapping[str, Sequence[Any]]) -> list[str]:
    """Sheets whose cell values differ between two workbooks (or that only one of them has), in order."""
    names = list(subject) + [n for n in floor if n not in subject]
    return [n for n in names if not _same_rows(floor.get(n), subject.get(n))]


def _same_value(a: Any, b: Any) -> bool:
    # Two builds of one report may sum floats in another order (DuckDB aggregates in parallel): the
    # last bits differ (32.99678362573099 vs 32.996783625731), the content does not.
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return bool(a == b)


def _same_rows(a: Sequence[Any] | None, b: Sequence[Any] | None) -> bool:
    if a is None or b is None or len(a) != len(b):
        return a is None and b is None
    return all(
        len(x) == len(y) and all(_same_value(u, v) for u, v in zip(x, y, strict=True))
        for x, y in zip(a, b, strict=True)
    )


def prepare_floor(
    store: str, out_dir: str, subject_out_dir: str | None = None
) -> tuple[Callable[[], Any], Callable[[Any], dict[str, Any]]]:
    """Baseline (the floor): the week's final tables, built untimed, written with the fastest writer."""
    from core.report import tables, weekly

    path, out = Path(store), Path(out_dir)
    report = tables.build_weekly_report(last_listed_week(path), path)
    shutil.rmtree(out, ignore_errors=True)

    def run() -> tuple[Path, Path]:
        return write_floor(report, out)

    def summarise(written: tuple[Path, Path]) -> dict[str, Any]:
        forecasts = int(report.figures.get("forecast accuracy (realised).forecasts") or 0) + int(
            report.figures.get("forecast accuracy (estimated).forecasts") or 0
        )
        figures: dict[str, Any] = {
            "reports": 1,
            "forecasts": forecasts,
            "table_rows": sum(len(t) for t in report.tables.values()),
            "workbook_kb": round(written[0].stat().st_size / 1024),
        }
        if subject_out_dir is not None:
            subject_xlsx, _ = weekly.report_paths(report.week, subject_out_dir)
            if subject_xlsx.exists():
                differing = differing_sheets(workbook_values(written[0]), workbook_values(subject_xlsx))
                figures.update(differing_sheets=differing, same_tables=0 if differing else 1)
        return figures

    return run, summarise


def plan(scale: str, work_dir: Path) -> Plan:
    """Build (or reuse) the scale's demo store; report on its last listed week."""
    days, per_day = SIZES[scale]
    store = store_path(work_dir)
    return Plan(
        workload=f"last listed week of a {days}-day × {per_day:,} orders/day closed-loop demo",
        setup=(
            Call(
                "bench.report:prepare_demo_store",
                {"store": str(store), "days": days, "orders_per_day": per_day, "seed": SEED},
            ),
        ),
        subject=Call(
            "bench.report:prepare_weekly_report", {"store": str(store), "out_dir": str(work_dir / "report_out")}
        ),
        baseline=Call(
            "bench.report:prepare_floor",
            {
                "store": str(store),
                "out_dir": str(work_dir / "report_floor"),
                "subject_out_dir": str(work_dir / "report_out"),
            },
        ),
    )


BENCHMARK = Benchmark(
    name="report",
    what="`core.report.weekly.write_weekly_report`: the weekly Excel workbook and offline HTML of the last listed "
    "week of a closed-loop demo store (snapshot, accuracy, segments, drift, validity, alerts, benefit ledger)",
    baseline_what="the floor: the report's own final tables (built beforehand, untimed) written with the fastest "
    "writer installed — openpyxl write-only, the same cell values, no formats — and as plain HTML tables without "
    "charts; a strict subset of the subject's work, so ratio ≥ 1 (= cost of reading the store, the metrics, charts "
    "and formatting); `same tables` = the floor's workbook holds the subject's cell values",
    plan=plan,
    count="forecasts",
    unit="forecasts",
    targets=(
        Target("seconds", "<=", 30.0, "weekly report ≤ 30 s"),
        Target("peak_rss_mb", "<=", 2048.0, "peak RSS ≤ 2 GiB", scales=("small", "full")),
        Target("same_tables", ">=", 1.0, "the floor writes the same tables", scales=("small", "full")),
    ),
    figures=("same_tables",),
)
