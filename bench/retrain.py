"""Benchmark `retrain`: `core.jobs.retraining.retrain` on the demo world (features, both models, both
baselines, evaluation on the holdout, gate, registry), with its peak memory.

Set-up (untimed): the demo store as `python -m core demo --skip-training` builds it (full scale is
the default demo world), copied afresh before each timed run so every run starts with no champion.
Baseline: one plain `HistGradientBoostingRegressor` (100 trees, default settings) fit on the same
training prefixes — the floor of fitting any one boosted model on that data; the ratio is what the
whole retrain costs on top of it.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.harness import DEMO_END, Benchmark, Call, Plan, Target

# (days, orders per day) per scale; full is the default demo world (`python -m core demo`).
SIZES = {"small": (25, 150), "full": (42, 600)}
SEED = 7


def demo_store_path(work_dir: Path) -> Path:
    """Where the set-up writes the untrained demo store at one scale."""
    return work_dir / "demo_template" / "journeyops.duckdb"


def prepare_demo_store(store_path: str, days: int, orders_per_day: int, seed: int) -> Callable[[], dict[str, Any]]:
    """Set-up: build the demo history without training (reused when the same one exists)."""
    from core.jobs import closed_loop

    store = Path(store_path)
    marker = store.with_name("demo.json")
    params = {"days": days, "orders_per_day": orders_per_day, "seed": seed, "end": DEMO_END.isoformat()}

    def run() -> dict[str, Any]:
        if store.exists() and marker.exists() and json.loads(marker.read_text()) == params:
            return {"reused": True}
        store.parent.mkdir(parents=True, exist_ok=True)
        closed_loop.reset_store(store)
        closed_loop.build_demo_history(
            store,
            days=days,
            orders_per_day=orders_per_day,
            seed=seed,
            end=DEMO_END,
            train=False,
            settings=closed_loop.demo_settings(),
            progress=False,
        )
        marker.write_text(json.dumps(params))
        return {"reused": False}

    return run


def _fresh_copy(template: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", ".wal"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
        if Path(f"{template}{suffix}").exists():
            shutil.copyfile(f"{template}{suffix}", f"{target}{suffix}")


def prepare_retrain(
    template_store: str, store_path: str
) -> tuple[Callable[[], dict[str, Any]], Callable[[dict[str, Any]], dict[str, Any]]]:
    """Time `core.jobs.retraining.retrain` on a fresh copy of the demo store."""
    from core.jobs import retraining
    from core.registry import versions

    store = Path(store_path)
    _fresh_copy(Path(template_store), store)

    def run() -> dict[str, Any]:
        return retraining.retrain(store, actor="bench")

    def summarise(outcome: dict[str, Any]) -> dict[str, Any]:
        backtest = versions.list_versions("forecaster", store)[-1].backtest
        backtest = json.loads(backtest) if isinstance(backtest, str) else dict(backtest or {})
        rows = backtest.get("rows", {})
        return {
            "prefixes": int(sum(rows.values())),
            "rows": rows,
            "seconds_by_step": backtest.get("seconds", {}),
            "versions": {kind: v["status"] for kind, v in outcome["versions"].items()},
        }

    return run, summarise


def prepare_plain_booster(template_store: str) -> Callable[[], dict[str, Any]]:
    """Baseline: build the same training prefixes (untimed), then time one default booster's fit."""
    import numpy as np
    from sklearn.ensemble import HistGradientBoostingRegressor

    from core.models import training, training_data

    frame = training_data.build_training_frame(Path(template_store))
    categorical, numeric = training.features.split_columns(frame)
    rows = frame[frame["remaining_h"].notna()]
    x = training_data.prepare_features(rows, [], numeric).to_numpy(dtype=np.float64)
    y = np.log1p(rows["remaining_h"].to_numpy(dtype=np.float64))

    def run() -> dict[str, Any]:
        HistGradientBoostingRegressor(max_iter=100, early_stopping=False, random_state=0).fit(x, y)
        return {"prefixes": int(len(frame)), "columns": int(x.shape[1])}

    return run


def plan(scale: str, work_dir: Path) -> Plan:
    """Build the demo store once, then retrain on a fresh copy of it."""
    days, per_day = SIZES[scale]
    template = demo_store_path(work_dir)
    return Plan(
        workload=f"demo world, {days} days × {per_day:,} orders/day",
        setup=(
            Call(
                "bench.retrain:prepare_demo_store",
                {"store_path": str(template), "days": days, "orders_per_day": per_day, "seed": SEED},
            ),
        ),
        subject=Call(
            "bench.retrain:prepare_retrain",
            {"template_store": str(template), "store_path": str(work_dir / "retrain" / "journeyops.duckdb")},
        ),
        baseline=Call("bench.retrain:prepare_plain_booster", {"template_store": str(template)}),
    )


BENCHMARK = Benchmark(
    name="retrain",
    what="`core.jobs.retraining.retrain` on the demo world: prefix features, forecaster + stuck classifier + "
    "both baselines, holdout evaluation, gate and registry",
    baseline_what="one default HistGradientBoostingRegressor (100 trees) fit on the same training "
    "prefixes' numeric columns",
    plan=plan,
    count="prefixes",
    unit="prefixes",
    targets=(
        Target("seconds", "<=", 180.0, "retrain ≤ 3 min on 2 cores"),
        Target("peak_rss_mb", "<=", 3072.0, "peak RSS ≤ 3 GB", scales=("small", "full")),
    ),
)
