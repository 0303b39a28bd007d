"""Benchmark `daily`: one daily run (`core.jobs.daily.run_daily`) for the day after a demo store's history.

Set-up (untimed): the closed-loop demo store as `python -m core demo` builds it (full scale is its
default world, 42 days × 600 orders/day; `bench.report.prepare_demo_store` with a marker, reused
when the same one exists). Each timed run starts from a fresh copy of the store folder (store,
world state, landing files).
Subject: what the `daily` command (`core.cli.daily.cmd_daily`) does for the next day, through
`daily_command`: `run_daily` with the simulated world (step the world through the day, ingest its
files, score the open orders, triage list, drift, accuracy, validity, alerts, write) and the demo's
settings, then the refresh of the pages' materialised views (`core.views.stored.refresh_quietly`)
that leaves the heavy pages ready for the morning; its seconds are the figures `run_daily_seconds`
and `views_refresh_seconds`. No retrain (a due retrain is its own job, benchmarked as `retrain`).
Baseline: just building the open-order features at the end of the store's last day
(`core.features.build_open_order_features`) — the floor any daily run pays; the ratio is the rest.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench.harness import Benchmark, Call, Plan, Target

# (days, orders per day) per scale; full is the default demo world (`python -m core demo`).
SIZES = {"small": (42, 300), "full": (42, 600)}
SEED = 7


def template_path(work_dir: Path) -> Path:
    """Where the set-up writes the demo store of one scale."""
    return work_dir / "daily_demo" / "journeyops.duckdb"


def _fresh_copy(template: Path, copy_dir: Path) -> Path:
    shutil.rmtree(copy_dir, ignore_errors=True)
    shutil.copytree(template.parent, copy_dir)
    return copy_dir / template.name


def _last_day(store: Path) -> Any:
    import pandas as pd

    from core.views import today

    return pd.Timestamp(today.read_daily_summary(store_path=store)["as_of_date"].max()).date()


def daily_command(
    as_of: Any, store: Path, *, feed: Any = None, landing_dir: Path | None = None, settings: Any = None
) -> dict[str, Any]:
    """What `python -m core daily --as-of DAY --no-retrain` does (`core.cli.daily.cmd_daily`): the daily
    run, then the refresh of the pages' views; the run's summary plus the seconds of each part."""
    import time

    from core.jobs import daily as core_daily
    from core.views import stored

    started = time.perf_counter()
    outcome = core_daily.run_daily(as_of, store, feed=feed, landing_dir=landing_dir, settings=settings, retrain=False)
    ran = time.perf_counter()
    refreshed = stored.refresh_quietly(store)
    return {
        **outcome,
        "run_daily_seconds": round(ran - started, 3),
        "views_refresh_seconds": round(time.perf_counter() - ran, 3),
        "views_refreshed": refreshed is not None,
    }


def prepare_daily(template_store: str, copy_dir: str) -> tuple[Callable[[], Any], Callable[[Any], dict[str, Any]]]:
    """Time the `daily` command's work (run and views refresh) for the day after the store's last daily
    run, on a fresh copy."""
    from core.jobs import closed_loop

    store = _fresh_copy(Path(template_store), Path(copy_dir))
    as_of = _last_day(store) + timedelta(days=1)
    world = closed_loop.load_world(store)
    state = closed_loop.world_state_file(store)

    def run() -> dict[str, Any]:
        return daily_command(
            as_of,
            store,
            feed=closed_loop.world_feed(world, store, state_file=state),
            settings=closed_loop.demo_settings(),
        )

    return run, lambda outcome: day_figures(as_of, outcome)


def day_figures(as_of: Any, outcome: dict[str, Any]) -> dict[str, Any]:
    """The figures of one timed daily run (its summary, as `run_daily` returns it)."""
    return {
        "as_of": as_of.isoformat(),
        "open_orders": int(outcome["open_orders"]),
        "listed": outcome.get("listed"),
        "alerts": outcome.get("alerts"),
        "eta_source": outcome.get("eta_source"),
        "forecaster": outcome.get("forecaster_version"),
        "classifier": outcome.get("classifier_version"),
        "seconds_in_run": outcome.get("seconds"),
        "run_daily_seconds": outcome.get("run_daily_seconds"),
        "views_refresh_seconds": outcome.get("views_refresh_seconds"),
        "views_refreshed": outcome.get("views_refreshed"),
        "days": 1,
    }


def prepare_features(template_store: str, copy_dir: str) -> tuple[Callable[[], Any], Callable[[Any], dict[str, Any]]]:
    """Baseline: the open-order features at the end of the store's last day."""
    from core import features
    from core.domain import end_of_day

    store = _fresh_copy(Path(template_store), Path(copy_dir))
    at = end_of_day(_last_day(store))

    def run() -> Any:
        return features.build_open_order_features(store, at)

    def summarise(frame: Any) -> dict[str, Any]:
        return {"open_orders": len(frame), "days": 1}

    return run, summarise


def plan(scale: str, work_dir: Path) -> Plan:
    """Build (or reuse) the demo store; time the next day's run and the features baseline."""
    days, per_day = SIZES[scale]
    template = template_path(work_dir)
    return Plan(
        workload=f"the day after a {days}-day × {per_day:,} orders/day closed-loop demo",
        setup=(
            Call(
                "bench.report:prepare_demo_store",
                {"store": str(template), "days": days, "orders_per_day": per_day, "seed": SEED},
            ),
        ),
        subject=Call(
            "bench.daily:prepare_daily", {"template_store": str(template), "copy_dir": str(work_dir / "daily_run")}
        ),
        baseline=Call(
            "bench.daily:prepare_features",
            {"template_store": str(template), "copy_dir": str(work_dir / "daily_features")},
        ),
    )


BENCHMARK = Benchmark(
    name="daily",
    what="the `daily` command for the next day of the demo world: `core.jobs.daily.run_daily` (simulated day, "
    "ingest, scoring, triage list, drift, accuracy, validity, alerts, write), demo settings, no retrain, then the "
    "page-views refresh it runs (`views_refresh_seconds` in results.json)",
    baseline_what="`core.features.build_open_order_features` at the end of the store's last day (the floor "
    "of any daily run)",
    plan=plan,
    count="days",
    unit="days",
    figures=("views_refresh_seconds",),
    targets=(
        Target("seconds", "<=", 10.0, "daily run ≤ 10 s"),
        Target("peak_rss_mb", "<=", 2048.0, "peak RSS ≤ 2 GiB", scales=("small", "full")),
    ),
)
