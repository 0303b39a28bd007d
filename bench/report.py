"""Benchmark `report`: the weekly report (workbook + HTML) of the last full week of a demo store.

Set-up (untimed): build the closed-loop demo history (`core.jobs.closed_loop.build_demo_history`, the
`python -m core demo` path with its bounded retrains) once per scale; a marker beside the store
lets later runs reuse it. Subject: `core.report.weekly.write_weekly_report` for the last ISO week that has
triage lists. Baseline: the snapshot copy plus the week's raw forecast outcomes
(`accuracy.load_forecast_outcomes`) written unformatted with pandas to xlsx and HTML — the floor of
"read the week and write it out"; the ratio is what the metrics, charts and formatting add.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.harness import Benchmark, Call, Plan, Target

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
    params = {"days": days, "orders_per_day": orders_per_day, "seed": seed}
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


def prepare_raw_dump(store: str, out_dir: str) -> tuple[Callable[[], Any], Callable[[Any], dict[str, Any]]]:
    """Baseline: snapshot the store, read the week's forecast outcomes, write them raw to xlsx and HTML."""
    from core.monitor import accuracy
    from core.report import contents, tables

    path, out = Path(store), Path(out_dir)
    week = contents.parse_week(last_listed_week(path))
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)

    def run() -> int:
        with tables.store_snapshot(path) as snap:
            at = min(week.end_at, accuracy.resolve_as_of(None, snap))
            forecasts = accuracy.load_forecast_outcomes(snap, as_of=at, since=week.start)
        forecasts.to_excel(out / "raw.xlsx", index=False, engine="openpyxl")
        (out / "raw.html").write_text(forecasts.to_html(index=False))
        return len(forecasts)

    def summarise(rows: int) -> dict[str, Any]:
        return {"reports": 1, "forecasts": rows}

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
        baseline=Call("bench.report:prepare_raw_dump", {"store": str(store), "out_dir": str(work_dir / "report_raw")}),
    )


BENCHMARK = Benchmark(
    name="report",
    what="`core.report.weekly.write_weekly_report`: the weekly Excel workbook and offline HTML of the last listed "
    "week of a closed-loop demo store (snapshot, accuracy, segments, drift, validity, alerts, benefit ledger)",
    baseline_what="the same snapshot and the week's raw forecast outcomes written unformatted with pandas "
    "to xlsx and HTML (ratio = cost of the report's metrics, charts and formatting)",
    plan=plan,
    count="forecasts",
    unit="forecasts",
    targets=(
        Target("seconds", "<=", 30.0, "weekly report ≤ 30 s"),
        Target("peak_rss_mb", "<=", 2048.0, "peak RSS ≤ 2 GiB", scales=("small", "full")),
    ),
)
