"""Benchmark `drift`: our sampled drift run vs Evidently's own run on the full, unsampled data.

Data (built in each case process, untimed, from fixed seeds): a reference and a current frame of
N rows a side and 15 columns shaped like order features (heavy-tailed durations and money, small
counts, a carrier category, ten plain normals). Four columns are shifted clearly past their
thresholds (elapsed time x1.5, one carrier's share, two normals by half a standard deviation); the
other eleven are drawn from the same distribution on both sides.
Subject: `core.monitor.drift.compute_drift`, which samples at most 100k rows a side for Evidently.
Baseline: `core.monitor.drift.full_run_verdicts` — Evidently on all N rows a side with the same
methods and thresholds. Its figures say whether the two runs' per-column verdicts are identical
(`same_verdicts`, 1 or 0): the ratio is only worth having if sampling does not change a verdict.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from bench.harness import Benchmark, Call, Plan, Target

SIZES = {"small": 100_000, "full": 1_000_000}  # rows a side
CARRIERS = ("parcelco", "swiftship", "quickhaul", "northpost")
CARRIER_P = (0.45, 0.3, 0.15, 0.1)
SHIFTED = ("elapsed_h", "carrier", "x0", "x1")
NORMALS = 10


def make_frames(rows: int) -> tuple[Any, Any]:
    """The reference and current frames: 15 columns, the SHIFTED ones moved clearly, the rest not."""
    import numpy as np
    import pandas as pd

    def side(seed: int, shifted: bool) -> pd.DataFrame:
        rng = np.random.default_rng(seed)
        carrier_p = (0.25, 0.3, 0.35, 0.1) if shifted else CARRIER_P
        frame = pd.DataFrame(
            {
                "elapsed_h": rng.lognormal(3.5, 0.8, rows) * (1.5 if shifted else 1.0),
                "order_value": rng.lognormal(4.0, 1.0, rows),
                "items": rng.integers(1, 6, rows),
                "carrier": rng.choice(CARRIERS, rows, p=carrier_p),
                "p50_days": rng.gamma(3.0, 1.0, rows),
            }
        )
        for i in range(NORMALS):
            loc = 0.5 if shifted and f"x{i}" in SHIFTED else 0.0
            frame[f"x{i}"] = rng.normal(loc, 1.0, rows)
        return frame

    return side(1, False), side(2, True)


def _verdicts_path(work_dir: str) -> Path:
    return Path(work_dir) / "drift_sampled_verdicts.json"


def prepare_sampled(rows: int, work_dir: str) -> tuple[Callable[[], Any], Callable[[Any], dict[str, Any]]]:
    """Time `compute_drift` (≤ 100k rows a side to Evidently); keep its verdicts for the baseline."""
    from core.monitor import drift

    reference, current = make_frames(rows)
    columns = list(reference.columns)

    def run() -> Any:
        return drift.compute_drift(reference, current, columns)

    def summarise(result: Any) -> dict[str, Any]:
        table = result.columns.set_index("column")
        verdicts = {c: bool(v) for c, v in table["drifted"].fillna(False).items()}
        out = _verdicts_path(work_dir)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({"verdicts": verdicts, "methods": result.methods, "thresholds": result.thresholds}))
        return {
            "rows": 2 * rows,
            "sampled_rows": result.sampled_ref + result.sampled_cur,
            "columns": len(columns),
            "drifted": sorted(c for c, v in verdicts.items() if v),
        }

    return run, summarise


def prepare_full(rows: int, work_dir: str) -> tuple[Callable[[], Any], Callable[[Any], dict[str, Any]]]:
    """Baseline: Evidently on all rows a side with the sampled run's methods and thresholds."""
    from core.monitor import drift_calibration

    reference, current = make_frames(rows)
    sampled = json.loads(_verdicts_path(work_dir).read_text())
    result = SimpleNamespace(methods=sampled["methods"], thresholds=sampled["thresholds"])

    def run() -> Any:
        return drift_calibration.full_run_verdicts(reference, current, result)  # type: ignore[arg-type]

    def summarise(full: Any) -> dict[str, Any]:
        verdicts = {str(c): bool(v) for c, v in zip(full["column"], full["drifted"], strict=True)}
        differing = sorted(
            c for c in set(verdicts) | set(sampled["verdicts"]) if verdicts.get(c) != sampled["verdicts"].get(c)
        )
        return {
            "rows": 2 * rows,
            "columns": len(verdicts),
            "drifted": sorted(c for c, v in verdicts.items() if v),
            "differing_verdicts": differing,
            "same_verdicts": 0 if differing else 1,
        }

    return run, summarise


def plan(scale: str, work_dir: Path) -> Plan:
    """The same frames for subject and baseline; the baseline reads the subject's verdicts."""
    rows = SIZES[scale]
    return Plan(
        workload=f"{rows:,} rows a side × 15 columns, 4 shifted",
        subject=Call("bench.drift:prepare_sampled", {"rows": rows, "work_dir": str(work_dir)}),
        baseline=Call("bench.drift:prepare_full", {"rows": rows, "work_dir": str(work_dir)}),
    )


BENCHMARK = Benchmark(
    name="drift",
    what="`core.monitor.drift.compute_drift` (validation, ≤ 100k sampled rows a side, Evidently) on two "
    "frames of 15 order-like columns, 4 of them clearly shifted",
    baseline_what="`core.monitor.drift.full_run_verdicts`: Evidently on the full, unsampled frames with the "
    "same methods and thresholds; `same verdicts` = every column's verdict is identical in both runs",
    plan=plan,
    count="rows",
    unit="rows",
    targets=(
        Target("same_verdicts", ">=", 1.0, "same verdicts as the full run", scales=("small", "full")),
        Target("ratio", "<=", 1.0, "no slower than the full run"),
        Target("peak_rss_mb", "<=", 2048.0, "peak RSS ≤ 2 GiB", scales=("small", "full")),
    ),
    figures=("same_verdicts",),
)
