"""`benchmark-log`: the remaining-time hold-out protocol of the literature on any event log.

Protocol (../shared/data/README.md): complete events only (for a log without them, the events that
end an activity by the rule of core/ingest/lifecycle.py, which the result names); cases with fewer
than 3 events dropped; cases sorted by their first event and split 64% train / 16% validation / 20% test; predict the
remaining time after each prefix of length 2 … n−1 of every test case; MAE in days over all test
prefixes. The trivial baseline is the median remaining time per prefix length, fit on the first 80%.
The same feature and model code as the product is used, with no per-log settings. The forecast scored
is the one chosen on the validation window among the model, the baseline and their blends
(core/models/selection.py); the test window is never used to choose.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core import features
from core.errors import ConfigError
from core.models import estimators, evaluate, metrics, selection, training_data

MIN_CASE_EVENTS = 3
HOURS_PER_DAY = 24.0


def _first_cases(frame: pd.DataFrame, max_cases: int) -> pd.DataFrame:
    starts = frame.drop_duplicates("order_id").sort_values(["order_started_at", "order_id"])
    keep = set(starts["order_id"].iloc[:max_cases])
    return frame[frame["order_id"].isin(keep)]


def benchmark_store(
    store_path: str | os.PathLike[str],
    *,
    max_cases: int | None = None,
    forecaster_params: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Run the hold-out protocol on a store holding one imported log; return the figures."""
    started = time.perf_counter()
    frame = features.build_prefix_features(store_path, mode="events", completion="last_event")
    frame = frame[frame["order_events"] >= MIN_CASE_EVENTS]
    if max_cases is not None:
        frame = _first_cases(frame, max_cases)
    split = training_data.chronological_split(frame, purge=False)
    # The last event ends the case: prefix n has nothing left to predict.
    usable = (frame["prefix_len"] < frame["order_events"]).to_numpy()
    frame, split = frame[usable], split[usable]
    train, validation = (split == "train"), (split == "validation")
    test = (split == "test") & (frame["prefix_len"] >= 2)
    if not train.any() or not test.any():
        raise ConfigError(
            f"the log has too few cases with >= {MIN_CASE_EVENTS} events for a 64/16/20 split; import a larger log"
        )
    categorical, numeric, dropped = training_data.select_columns(frame, train)
    forecaster, baseline, chosen = _fit_protocol_models(
        frame, train, validation, categorical, numeric, forecaster_params
    )

    test_rows = frame[test]
    actual = test_rows["remaining_h"].to_numpy(dtype=np.float64)
    model_q = evaluate.predict_forecast(forecaster, test_rows).to_numpy()
    baseline_q = evaluate.predict_forecast(baseline, test_rows).to_numpy()
    model_metrics = metrics.forecast_metrics(
        actual, chosen.predict(model_q, baseline_q, test_rows["prefix_len"].to_numpy())
    )
    baseline_metrics = metrics.forecast_metrics(actual, baseline_q)
    cases = frame.drop_duplicates("order_id")
    return {
        "cases": int(len(cases)),
        "events": int(frame.groupby("order_id")["order_events"].first().sum()),
        "activities": int(frame["current_stage"].nunique()),
        "split_cases": {str(k): int(v) for k, v in split[cases.index].value_counts().items()},
        "train_prefixes": int(train.sum()),
        "validation_prefixes": int(validation.sum()),
        "test_prefixes": int(test.sum()),
        "mae_days": model_metrics["mae_days"],
        "median_ae_days": model_metrics["median_ae_days"],
        "coverage_80": model_metrics["coverage_80"],
        "below_p10": model_metrics["below_p10"],
        "above_p90": model_metrics["above_p90"],
        "interval_width_days": model_metrics["interval_width_h"] / HOURS_PER_DAY,
        "share_too_early": model_metrics["share_too_early"],
        "baseline_median_mae_days": baseline_metrics["mae_days"],
        "baseline_coverage_80": baseline_metrics["coverage_80"],
        "improvement_vs_baseline": 1.0 - model_metrics["mae_days"] / baseline_metrics["mae_days"],
        "model_alone_mae_days": float(np.mean(np.abs(actual - model_q[:, 1]))) / HOURS_PER_DAY,
        "selection": chosen.report(),
        "features": {"categorical": len(categorical), "numeric": len(numeric)},
        "dropped_columns": dropped,
        "seconds": round(time.perf_counter() - started, 1),
    }


def _fit_protocol_models(
    frame: pd.DataFrame,
    train: pd.Series,
    validation: pd.Series,
    categorical: list[str],
    numeric: list[str],
    forecaster_params: dict[str, Any] | None,
) -> tuple[Any, Any, selection.Selection]:
    """The product's forecaster (trees on the train cases, calibrated on the validation window), the
    median-per-prefix-length baseline fitted on the first 80%, and the candidate chosen on the
    validation window (core/models/selection.py)."""
    fit_rows = frame[train | validation]
    x_fit = training_data.prepare_features(fit_rows, categorical, numeric)
    y_fit = fit_rows["remaining_h"].to_numpy(dtype=np.float64)
    forecaster = estimators.make_forecaster(categorical, numeric, **(forecaster_params or {}))
    # Calibrate on the prefixes the protocol scores (length >= 2): first events carry their own,
    # different residuals. The validation cases' first prefixes are left out of the fit altogether.
    scored = (train | (frame["prefix_len"] >= 2))[train | validation].to_numpy()
    forecaster.fit(
        x_fit[scored], y_fit[scored], model__calibration_mask=validation[train | validation].to_numpy()[scored]
    )
    baseline = estimators.make_baseline_forecaster(("prefix_len",)).fit(x_fit, y_fit)
    # The choice: the baseline as it would have been known before the validation window (train cases
    # only) against the forecaster, on the validation prefixes the protocol would score.
    train_rows = frame[train]
    early_baseline = estimators.make_baseline_forecaster(("prefix_len",)).fit(
        training_data.prepare_features(train_rows, categorical, numeric),
        train_rows["remaining_h"].to_numpy(dtype=np.float64),
    )
    judged = frame[validation & (frame["prefix_len"] >= 2)]
    chosen = selection.select(
        judged["remaining_h"].to_numpy(dtype=np.float64),
        evaluate.predict_forecast(forecaster, judged).to_numpy(),
        evaluate.predict_forecast(early_baseline, judged).to_numpy(),
        judged["prefix_len"].to_numpy(),
        pd.to_datetime(judged["order_started_at"]).to_numpy(dtype="datetime64[ns]").astype(np.int64),
    )
    return forecaster, baseline, chosen


def benchmark_log(
    path: str | os.PathLike[str],
    *,
    case_col: str | None = None,
    activity_col: str | None = None,
    time_col: str | None = None,
    lifecycle: str | None = "auto",
    max_cases: int | None = None,
    forecaster_params: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Import an event log (XES, CSV, Parquet) into a temporary store and run the protocol on it."""
    from core.ingest import log_import

    with tempfile.TemporaryDirectory(prefix="journeyops-benchmark-") as folder:
        store_path = Path(folder) / "benchmark.duckdb"
        summary = log_import.import_log(
            Path(path),
            store_path=store_path,
            case_col=case_col,
            activity_col=activity_col,
            time_col=time_col,
            lifecycle=lifecycle,
        )
        result = benchmark_store(store_path, max_cases=max_cases, forecaster_params=forecaster_params)
    result["log"] = Path(path).name
    result["lifecycle_rule"] = summary.get("lifecycle_rule", "")
    result["import"] = {k: v for k, v in summary.items() if isinstance(v, int | float | str)}
    return result


def format_result(result: dict[str, Any]) -> str:
    """A few readable lines of a benchmark result."""
    return "\n".join(
        [
            f"{result.get('log', 'log')}: {result['cases']:,} cases, {result['test_prefixes']:,} test prefixes",
            f"  lifecycle: {result.get('lifecycle_rule') or 'not imported here'}",
            f"  MAE {result['mae_days']:.2f} days (baseline, median per prefix length: "
            f"{result['baseline_median_mae_days']:.2f}); median AE {result['median_ae_days']:.2f} days",
            f"  forecast chosen on the validation window: {result['selection']['chosen']} ("
            + ", ".join(f"{c['name']} {c['validation_mae_days']:.2f}" for c in result["selection"]["candidates"])
            + " days validation MAE)",
            f"  80% interval coverage {result['coverage_80']:.1%}, mean width {result['interval_width_days']:.1f} days",
            f"  dropped as leaking: {', '.join(sorted(result['dropped_columns'])) or 'none'}; {result['seconds']:.0f} s",  # noqa: E501
        ]
    )
