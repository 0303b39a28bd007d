"""Benchmark `daily_large`: one daily run (`core.jobs.daily.run_daily`) over ≈1M open orders and ≈10M events.

Set-up (untimed, long at full scale; cached in the work dir with a marker, reused when the same one
exists): a pre-model history of the simulated world (`core.jobs.closed_loop.build_demo_history` without
training: four weeks, which the go-live training needs with its week of embargo), a go-live retrain on
capped rows (the champion promoted even if the short history's forecaster misses the gate), then the
world surges to many orders a day for one loop day (`run_daily`) and the timed day. The world's
journeys take ≈3 days, so two surge days leave ≈1M orders open at full scale, with ≈10M events.
Each timed run starts from a fresh copy of the store folder.
Subject: the `daily` command for the next day as production runs it (`bench.daily.daily_command`):
the day's landing files (written by a second set-up step that steps the simulated world, in its own
process) are ingested, then features of every open order, champion scoring, triage list, drift on
sampled rows, validity, accuracy, alerts, one write transaction, then the refresh of the pages'
views the command runs (`views_refresh_seconds`); demo-like settings, no retrain. The simulator's
own memory (the state of a million journeys) is the test rig's, so it is kept out of the measured
process; the demo-scale `daily` benchmark times a run with the world step inside.
Baseline: building the open-order features at the end of the store's last day — the floor.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bench import daily
from bench.harness import Benchmark, Call, Plan, Target

# Per scale: (days of history, orders per day before the surge, orders per day of the last day and the timed one).
SIZES = {"small": (32, 2_000, 35_000), "full": (32, 20_000, 350_000)}
SEED = 7


def train_champion(path: Path, as_of: datetime | None = None) -> dict[str, Any]:
    """Set-up: train both models on the store (the demo's retrain budget) and make them champions. A
    short history's forecaster can miss the gate against the baseline by a few percent; a benchmark
    needs a champion to score with, not a good one. The retrain's versions, as it registered them."""
    from dataclasses import replace

    from core.jobs import closed_loop, retraining
    from core.registry import promotion
    from core.registry.gate import load_gate_policy

    settings = closed_loop.demo_settings()
    trained = retraining.retrain(
        path,
        as_of=as_of,
        actor="bench set-up",
        policy=replace(load_gate_policy(), auto_promote=True),
        max_rows=settings.retrain_max_rows,
        model_params=settings.retrain_params,
    )
    for version in trained["versions"].values():
        if version["status"] != "champion":
            promotion.promote(
                version["version"],
                actor="bench set-up",
                reason="the benchmark needs a champion",
                expected_champion=None,
                store_path=path,
                force=True,
            )
    return dict(trained["versions"])


def template_path(work_dir: Path) -> Path:
    """Where the set-up writes the store of one scale."""
    return work_dir / "daily_large_demo" / "journeyops.duckdb"


def prepare_large_store(
    store: str, days: int, orders_per_day: int, surge_orders_per_day: int, seed: int
) -> Callable[[], dict[str, Any]]:
    """Set-up: a pre-model history, a go-live champion, and one loop day at the surge volume."""
    import json
    import shutil
    from dataclasses import replace
    from datetime import UTC, datetime, timedelta

    from core.domain import end_of_day
    from core.jobs import closed_loop, daily

    path = Path(store)
    params = {
        "days": days,
        "orders_per_day": orders_per_day,
        "surge_orders_per_day": surge_orders_per_day,
        "seed": seed,
    }
    marker = path.with_name("built.json")
    if marker.exists() and path.exists() and json.loads(marker.read_text()) == params:
        return lambda: {"reused": True}

    def run() -> dict[str, Any]:
        shutil.rmtree(path.parent, ignore_errors=True)
        path.parent.mkdir(parents=True)
        last = datetime.now(UTC).date() - timedelta(days=2)
        outcome = closed_loop.build_demo_history(
            path,
            days=days - 1,
            orders_per_day=orders_per_day,
            seed=seed,
            end=last - timedelta(days=1),
            train=False,
            progress=False,
        )
        settings = closed_loop.demo_settings()
        versions = train_champion(path, as_of=end_of_day(last - timedelta(days=1)))
        state = closed_loop.world_state_file(path)
        world = closed_loop.load_world(path)
        world.orders_per_day = surge_orders_per_day
        closed_loop.save_world(world, state)
        # No retrain on the loop day: the surge itself drifts the load features, and the timed day
        # should score with the go-live champion alone.
        loop = daily.run_daily(
            last,
            path,
            feed=closed_loop.world_feed(world, path, state_file=state),
            settings=replace(settings, retrain_on_alerts=False),
            retrain=False,
        )
        marker.write_text(json.dumps(params))
        outcome.update(versions=versions, loop_day=loop)
        return json.loads(json.dumps(outcome, default=str))

    return run


def stepped_path(work_dir: Path) -> Path:
    """Where the set-up writes the store with the timed day's feed landed (the world stepped)."""
    return work_dir / "daily_large_stepped" / "journeyops.duckdb"


def _feed_dir(store: Path) -> Path:
    return store.parent / "feed"


def prepare_stepped_store(template_store: str, stepped_store: str) -> Callable[[], dict[str, Any]]:
    """Set-up: a copy of the store whose simulated world has stepped through the timed day, the day's
    landing files in `feed/` — what the daily job finds in production, where no simulator runs in
    its process (the world's state of a million open orders is the test rig's memory, not the product's)."""
    import json

    from core.jobs import closed_loop

    template, stepped = Path(template_store), Path(stepped_store)
    marker = stepped.with_name("stepped.json")
    source = json.loads(template.with_name("built.json").read_text())
    if marker.exists() and stepped.exists() and json.loads(marker.read_text()) == source:
        return lambda: {"reused": True}

    def run() -> dict[str, Any]:
        copy = daily._fresh_copy(template, stepped.parent)
        as_of = daily._last_day(copy) + timedelta(days=1)
        world = closed_loop.load_world(copy)
        files = closed_loop.advance_world(world, as_of, copy, _feed_dir(copy), closed_loop.world_state_file(copy))
        marker.write_text(json.dumps(source))
        return {"as_of": as_of.isoformat(), "files": [p.name for p in files]}

    return run


def prepare_daily_large(
    template_store: str, copy_dir: str
) -> tuple[Callable[[], Any], Callable[[Any], dict[str, Any]]]:
    """Time `run_daily` for the next day on a fresh copy of the stepped store: the day's files land in
    `feed/`; no simulator in the process (the demo-scale `daily` benchmark times the world step too)."""
    from core import store
    from core.jobs import closed_loop

    copy = daily._fresh_copy(Path(template_store), Path(copy_dir))
    as_of = daily._last_day(copy) + timedelta(days=1)
    settings = closed_loop.demo_settings()

    def run() -> dict[str, Any]:
        return daily.daily_command(as_of, copy, landing_dir=_feed_dir(copy), settings=settings)

    def summarise(outcome: dict[str, Any]) -> dict[str, Any]:
        return {**daily.day_figures(as_of, outcome), "events": store.read_status(copy)["events"]}

    return run, summarise


def plan(scale: str, work_dir: Path) -> Plan:
    """Build (or reuse) the wide store; time the next day's run and the features baseline."""
    days, per_day, surge_per_day = SIZES[scale]
    template = template_path(work_dir)
    stepped = stepped_path(work_dir)
    return Plan(
        workload=f"the day after a {days}-day × {per_day:,} orders/day closed-loop history whose last day "
        f"(and the timed one) surge to {surge_per_day:,} orders/day",
        setup=(
            Call(
                "bench.daily_large:prepare_large_store",
                {
                    "store": str(template),
                    "days": days,
                    "orders_per_day": per_day,
                    "surge_orders_per_day": surge_per_day,
                    "seed": SEED,
                },
            ),
            Call(
                "bench.daily_large:prepare_stepped_store",
                {"template_store": str(template), "stepped_store": str(stepped)},
            ),
        ),
        subject=Call(
            "bench.daily_large:prepare_daily_large",
            {"template_store": str(stepped), "copy_dir": str(work_dir / "daily_large_run")},
        ),
        baseline=Call(
            "bench.daily:prepare_features",
            {"template_store": str(template), "copy_dir": str(work_dir / "daily_large_features")},
        ),
    )


BENCHMARK = Benchmark(
    name="daily_large",
    what="the `daily` command for the next day of a wide simulated world (≈1M open orders, ≈10M events at "
    "full scale): `run_daily` (ingest of the day's landed files, features, scoring, triage list, drift, accuracy, "
    "validity, alerts, write; no retrain), then the page-views refresh (`views_refresh_seconds`)",
    baseline_what="`core.features.build_open_order_features` at the end of the store's last day (the floor of "
    "any daily run)",
    plan=plan,
    count="open_orders",
    unit="open orders",
    figures=("views_refresh_seconds",),
    targets=(
        Target("seconds", "<=", 120.0, "daily run ≤ 2 min"),
        Target("peak_rss_mb", "<=", 2000.0, "peak RSS ≤ 2 GB", scales=("small", "full")),
    ),
    default=False,
)
