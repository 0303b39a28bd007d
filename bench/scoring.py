"""Benchmark `scoring`: batch scoring of open orders with the product's models, single process.

Set-up (untimed): the demo store (as the `retrain` case builds it), both models trained on it
(`train_candidates`, capped rows: scoring speed depends on the models' trees, not on how many rows
they were fit on) and saved as safe artifacts, and a batch of holdout prefixes repeated to the
workload's size. Subject: `core.models.predict_forecast` (p10/p50/p90) plus `predict_stuck` on the
batch, from the prefix frame (encoding included). Baseline: the bare
`HistGradientBoostingRegressor.predict` of the forecaster's median booster on the already encoded
matrix — one of the four boosters, no encoding, no calibration, scored the plain scikit-learn way
(raw thresholds, an OpenMP region per tree). Batch scoring bins X once per group of boosters and
walks the trees on the bins in row blocks per thread, so all four can cost less than this one.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import retrain
from bench.harness import Benchmark, Call, Plan, Target

ROWS = {"small": 50_000, "full": 200_000}
TRAIN_ROWS = 40_000


def _paths(work_dir: Path) -> dict[str, Path]:
    folder = work_dir / "scoring_models"
    return {
        "folder": folder,
        "forecaster": folder / "forecaster.skops",
        "classifier": folder / "classifier.skops",
        "batch": folder / "batch.parquet",
        "manifest": folder / "manifest.json",
    }


def prepare_models(store_path: str, work_dir: str, rows: int) -> Callable[[], dict[str, Any]]:
    """Set-up: train both models on the demo store, save them and a batch of `rows` prefixes."""
    import pandas as pd

    from core.models import training
    from core.registry import artifacts

    paths = _paths(Path(work_dir))

    def run() -> dict[str, Any]:
        paths["folder"].mkdir(parents=True, exist_ok=True)
        trained = training.train_candidates(Path(store_path), max_rows=TRAIN_ROWS)
        manifest = {
            "forecaster": artifacts.save_artifact(trained.forecaster, paths["forecaster"]),
            "classifier": artifacts.save_artifact(trained.classifier, paths["classifier"]),
        }
        repeats = -(-rows // max(1, len(trained.holdout)))
        batch = pd.concat([trained.holdout] * repeats, ignore_index=True).iloc[:rows]
        batch.to_parquet(paths["batch"])
        paths["manifest"].write_text(json.dumps(manifest))
        return {"rows": int(len(batch)), "holdout_rows": int(len(trained.holdout))}

    return run


def _load(work_dir: str) -> tuple[Any, Any, Any]:
    import pandas as pd

    from core.registry import artifacts

    paths = _paths(Path(work_dir))
    manifest = json.loads(paths["manifest"].read_text())
    forecaster = artifacts.load_artifact(paths["forecaster"], manifest["forecaster"])
    classifier = artifacts.load_artifact(paths["classifier"], manifest["classifier"])
    return forecaster, classifier, pd.read_parquet(paths["batch"])


def prepare_scoring(work_dir: str) -> Callable[[], dict[str, Any]]:
    """Time `predict_forecast` + `predict_stuck` on the saved batch."""
    from core.models import evaluate

    forecaster, classifier, batch = _load(work_dir)
    evaluate.predict_forecast(forecaster, batch.head(100))  # warm caches (encoder code tables)
    evaluate.predict_stuck(classifier, batch.head(100))

    def run() -> dict[str, Any]:
        started = time.perf_counter()
        evaluate.predict_forecast(forecaster, batch)
        forecast_s = time.perf_counter() - started
        started = time.perf_counter()
        evaluate.predict_stuck(classifier, batch)
        stuck_s = time.perf_counter() - started
        return {
            "rows": int(len(batch)),
            "forecast_rows_per_s": len(batch) / forecast_s,
            "stuck_rows_per_s": len(batch) / stuck_s,
        }

    return run


def prepare_bare_booster(work_dir: str) -> Callable[[], dict[str, Any]]:
    """Baseline: the median booster's own predict on the encoded matrix."""
    from core.models import evaluate

    forecaster, _, batch = _load(work_dir)
    matrix = evaluate.encode_inputs(forecaster, batch)
    booster = forecaster[-1].estimators_[len(forecaster[-1].estimators_) // 2]

    def run() -> dict[str, Any]:
        booster.predict(matrix)
        return {"rows": int(len(matrix))}

    return run


def plan(scale: str, work_dir: Path) -> Plan:
    """The demo store and models once; then score the batch, and the bare booster on it."""
    days, per_day = retrain.SIZES[scale]
    template = retrain.demo_store_path(work_dir)
    return Plan(
        workload=f"{ROWS[scale]:,} open-order prefixes of the demo world ({days} days × {per_day:,}/day)",
        setup=(
            Call(
                "bench.retrain:prepare_demo_store",
                {"store_path": str(template), "days": days, "orders_per_day": per_day, "seed": retrain.SEED},
            ),
            Call(
                "bench.scoring:prepare_models",
                {"store_path": str(template), "work_dir": str(work_dir), "rows": ROWS[scale]},
            ),
        ),
        subject=Call("bench.scoring:prepare_scoring", {"work_dir": str(work_dir)}),
        baseline=Call("bench.scoring:prepare_bare_booster", {"work_dir": str(work_dir)}),
    )


BENCHMARK = Benchmark(
    name="scoring",
    what="batch scoring in one process: `predict_forecast` (p10/p50/p90) + `predict_stuck` on "
    "open-order prefix frames, encoding included",
    baseline_what="the bare HistGradientBoostingRegressor.predict of the median booster on the already encoded matrix",
    plan=plan,
    count="rows",
    unit="orders",
    targets=(
        Target("rate", ">=", 100_000.0, "≥ 100k orders/s"),
        Target("peak_rss_mb", "<=", 3072.0, "peak RSS ≤ 3 GB", scales=("small", "full")),
    ),
)
