"""Benchmark `drift`: our sampled drift run vs Evidently's own run on the full, unsampled data.

Data (built in each case process, untimed, from fixed seeds): a reference and a current frame of
N rows a side and 19 columns shaped like order features (heavy-tailed durations and money, small
counts, a carrier category, ten plain normals). Four columns are shifted clearly past their
thresholds (elapsed time x1.5, one carrier's share, two normals by half a standard deviation); four
are shifted to just below and just above the threshold (`NEAR`: a normal moved by 0.9 and 1.1 times
the numeric threshold in standard deviations, which is its normed Wasserstein distance, and a
carrier mix moved to 0.9 and 1.1 times the categorical threshold in Jensen-Shannon distance), where
sampling is most likely to change a verdict; the other eleven are drawn from the same distribution
on both sides.
Subject: `core.monitor.drift.compute_drift`, the verdict path: our checks, at most 100k sampled rows a
side, each column's score by Evidently's own method computed in `core.monitor.drift_scores` (normed
Wasserstein, Jensen-Shannon) and its verdict `score >= threshold`. Evidently's report of the same rows
(`drift.attach_report`, which the daily run calls after the verdicts) is not in the timed subject: it is
timed on its own after it (`report_s`, with the process's peak memory then, `report_peak_rss_mb`), and it
checks that each reported score equals the verdict's score.
Baseline: `core.monitor.drift_calibration.full_run_verdicts` — Evidently on all N rows a side with the
same methods and thresholds. Its figures say whether the two runs' per-column verdicts are identical
(`same_verdicts`, 1 or 0, over all 19 columns, the near-threshold ones included): the ratio is only
worth having if sampling does not change a verdict; `max_score_gap` is the largest difference of a
column's score between the runs as a share of its threshold (≈ 1e-15 when nothing is sampled: the scores
are Evidently's own). Target: ≥ 5× faster than the full run (ratio ≤ 0.2).
"""

from __future__ import annotations

import json
import time
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
# Near-threshold columns: name -> the factor of the threshold their distance sits at.
NEAR = {"near_below_x": 0.9, "near_above_x": 1.1, "near_below_carrier": 0.9, "near_above_carrier": 1.1}
CARRIER_ALT_P = (0.1, 0.2, 0.3, 0.4)  # the direction a near-threshold carrier mix moves in


def _thresholds() -> tuple[float, float]:
    from core.monitor.drift import MonitorSettings

    settings = MonitorSettings()
    return settings.num_threshold, settings.cat_threshold


def mix_at_distance(target: float) -> tuple[float, ...]:
    """Carrier shares whose Jensen-Shannon distance (natural log, as Evidently computes it) from
    CARRIER_P is `target`: CARRIER_P moved towards CARRIER_ALT_P, found by bisection."""
    import numpy as np
    from scipy.spatial import distance

    base, alt = np.array(CARRIER_P), np.array(CARRIER_ALT_P)
    low, high = 0.0, 1.0
    if distance.jensenshannon(base, alt) < target:
        raise ValueError(f"no carrier mix towards {CARRIER_ALT_P} is {target} away")
    for _ in range(60):
        mid = (low + high) / 2
        if distance.jensenshannon(base, (1 - mid) * base + mid * alt) < target:
            low = mid
        else:
            high = mid
    mixed = (1 - high) * base + high * alt
    return tuple(float(v) for v in mixed / mixed.sum())


def make_frames(rows: int) -> tuple[Any, Any]:
    """The reference and current frames: 19 columns, the SHIFTED ones moved clearly, the NEAR ones to
    just below or just above their threshold, the rest not."""
    import numpy as np
    import pandas as pd

    num_threshold, cat_threshold = _thresholds()

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
        for name, factor in NEAR.items():
            if name.endswith("_x"):
                frame[name] = rng.normal(factor * num_threshold if shifted else 0.0, 1.0, rows)
            else:
                p = mix_at_distance(factor * cat_threshold) if shifted else CARRIER_P
                frame[name] = rng.choice(CARRIERS, rows, p=p)
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
        from bench.child import peak_rss_mb

        started = time.perf_counter()
        reported = drift.attach_report(result)  # raises if a reported score differs from the verdict's
        report_s = time.perf_counter() - started
        table = result.columns.set_index("column")
        verdicts = {c: bool(v) for c, v in table["drifted"].fillna(False).items()}
        scores = {c: float(v) for c, v in table["score"].dropna().items()}
        near = {c: round(scores[c], 4) for c in NEAR}
        out = _verdicts_path(work_dir)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(
            json.dumps(
                {
                    "verdicts": verdicts,
                    "methods": result.methods,
                    "thresholds": result.thresholds,
                    "near_scores": near,
                    "scores": scores,
                }
            )
        )
        return {
            "report_s": round(report_s, 2),
            "report_peak_rss_mb": peak_rss_mb(),
            "report_columns": 0 if reported.snapshot_json is None else len(result.methods),
            "rows": 2 * rows,
            "sampled_rows": result.sampled_ref + result.sampled_cur,
            "columns": len(columns),
            "drifted": sorted(c for c, v in verdicts.items() if v),
            "near_scores": near,
            "near_thresholds": {c: round(float(result.thresholds[c]), 4) for c in NEAR},
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
        scores = {str(c): float(v) for c, v in zip(full["column"], full["score"], strict=True)}
        thresholds = sampled["thresholds"]
        gaps = [abs(scores[c] - v) / thresholds[c] for c, v in sampled.get("scores", {}).items() if c in scores]
        return {
            "max_score_gap": float(f"{max(gaps, default=0.0):.3g}"),
            "rows": 2 * rows,
            "columns": len(verdicts),
            "drifted": sorted(c for c, v in verdicts.items() if v),
            "differing_verdicts": differing,
            "same_verdicts": 0 if differing else 1,
            "near_verdicts": {c: verdicts.get(c) for c in NEAR},
            "near_scores_full": {c: round(scores[c], 4) for c in NEAR if c in scores},
            "near_scores_sampled": sampled.get("near_scores", {}),
        }

    return run, summarise


def plan(scale: str, work_dir: Path) -> Plan:
    """The same frames for subject and baseline; the baseline reads the subject's verdicts."""
    rows = SIZES[scale]
    return Plan(
        workload=f"{rows:,} rows a side × 19 columns, 4 shifted, 4 near the threshold",
        subject=Call("bench.drift:prepare_sampled", {"rows": rows, "work_dir": str(work_dir)}),
        baseline=Call("bench.drift:prepare_full", {"rows": rows, "work_dir": str(work_dir)}),
    )


BENCHMARK = Benchmark(
    name="drift",
    what="`core.monitor.drift.compute_drift` (validation, ≤ 100k sampled rows a side, each column scored by "
    "Evidently's method in `drift_scores`; Evidently's report of the same rows timed apart as `report_s`) on two "
    "frames of 19 order-like columns, 4 of them clearly shifted and 4 shifted to 0.9× and 1.1× of their "
    "threshold (a normal and a carrier mix each); near-threshold scores of both runs in results.json",
    baseline_what="`core.monitor.drift_calibration.full_run_verdicts`: Evidently on the full, unsampled frames "
    "with the same methods and thresholds; `same verdicts` = every column's verdict, near-threshold ones included, is "
    "identical in both runs",
    plan=plan,
    count="rows",
    unit="rows",
    targets=(
        Target("same_verdicts", ">=", 1.0, "same verdicts as the full run", scales=("small", "full")),
        Target("ratio", "<=", 0.2, "≥ 5× faster than the full run"),
        Target("peak_rss_mb", "<=", 2048.0, "peak RSS ≤ 2 GiB", scales=("small", "full")),
    ),
    figures=("same_verdicts", "max_score_gap", "report_s"),
)
