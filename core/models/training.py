"""Training the candidates: both models and both baselines fitted on the older journeys and
evaluated on the newest (the holdout), and with `deploy` the fits that serve.

The training set and the chronological split live in `training_data`, the evaluation in `evaluate`,
the deployed fit in `deployment`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from core import features
from core.config import StorePath
from core.domain import SEGMENT_COLUMNS, CostAssumptions, ModelKind
from core.errors import ConfigError
from core.models import estimators, metrics
from core.models.deployment import deploy_horizon_h, fit_deployed
from core.models.evaluate import DEFAULT_COSTS, evaluate_model
from core.models.training_data import (
    DEFAULT_EMBARGO_H,
    DEFAULT_MAX_ROWS,
    build_training_frame,
    chronological_split,
    prepare_features,
    select_columns,
)


@dataclass(frozen=True)
class TrainingRun:
    """Fitted candidates with their feature list, training window, holdout and evaluations."""

    forecaster: Pipeline
    classifier: Pipeline
    feature_columns: list[str]
    train_window: tuple[str, str]
    holdout: pd.DataFrame
    evaluations: dict[str, dict[str, Any]]
    backtest: dict[str, Any]
    baseline_forecaster: Pipeline | None = None
    baseline_classifier: Pipeline | None = None
    dropped_columns: dict[str, str] = field(default_factory=dict)
    # The fits that serve (see `fit_deployed`): every journey whose outcome is known at the as-of
    # instant, not only those before the holdout. None when training ran without `deploy`.
    deployed_forecaster: Pipeline | None = None
    deployed_classifier: Pipeline | None = None
    deployed_window: tuple[str, str] | None = None


def train_candidates(
    store_path: StorePath = None,
    as_of: datetime | None = None,
    *,
    frame: pd.DataFrame | None = None,
    costs: CostAssumptions = DEFAULT_COSTS,
    triage_capacity: int = metrics.DEFAULT_TRIAGE_CAPACITY,
    max_rows: int | None = DEFAULT_MAX_ROWS,
    every_h: float = 6.0,
    embargo_h: float | None = None,
    forecaster_params: dict[str, Any] | None = None,
    classifier_params: dict[str, Any] | None = None,
    deploy: bool = False,
) -> TrainingRun:
    """Build the training frame, split it chronologically, fit both models and both baselines on
    the older journeys, and evaluate all four on the newest ones (the holdout). With `deploy`, also
    fit the models that serve on every journey known at the as-of instant (`fit_deployed`)."""
    # Over 60 lines only by its signature (the knobs of every caller) and the record it returns; the
    # work itself is the named steps below.
    started = time.perf_counter()
    if frame is None:
        frame = build_training_frame(store_path, as_of, every_h=every_h, max_rows=max_rows)
    if frame.empty:
        raise ConfigError("no journeys to train on: the store has no prefixes before the as-of instant")
    built = time.perf_counter()
    closed_log = frame.attrs.get("completion") == "last_event"
    if embargo_h is None:
        embargo_h = 0.0 if closed_log else DEFAULT_EMBARGO_H
    # Journeys too young to have finished would only enter the holdout if they were short.
    known_at = pd.Timestamp(as_of) if as_of is not None else pd.Timestamp(frame["as_of_at"].max())
    full_frame = frame
    frame, split = _split_journeys(frame, embargo_h)
    train, validation, test = (split == "train"), (split == "validation"), (split == "test")
    categorical, numeric, dropped = select_columns(frame, train)
    columns = categorical + numeric
    models = _fit_candidates(frame, split, categorical, numeric, forecaster_params, classifier_params)
    params = (forecaster_params, classifier_params)
    deployed = _fit_deployed(full_frame, known_at, categorical, numeric, embargo_h, params) if deploy else None
    fitted = time.perf_counter()
    holdout = frame.loc[test, _holdout_columns(frame, columns)].reset_index(drop=True)
    evaluations = {
        name: evaluate_model(_KIND_OF[name], model, holdout, costs, triage_capacity) for name, model in models.items()
    }
    train_window = _train_window(frame, train | validation)
    seconds = {"features": round(built - started, 2), "fit": round(fitted - built, 2)}
    backtest = _backtest_record(
        frame,
        split,
        embargo_h,
        known_at,
        train_window,
        deployed,
        dropped,
        evaluations,
        seconds={**seconds, "evaluate": round(time.perf_counter() - fitted, 2)},
    )
    return TrainingRun(
        forecaster=models["forecaster"],
        classifier=models["stuck_classifier"],
        feature_columns=columns,
        train_window=train_window,
        holdout=holdout,
        evaluations=evaluations,
        backtest=backtest,
        baseline_forecaster=models["baseline_forecaster"],
        baseline_classifier=models["baseline_stuck_classifier"],
        dropped_columns=dropped,
        **_deployed_fields(deployed),
    )


def _fit_deployed(
    frame: pd.DataFrame,
    known_at: pd.Timestamp,
    categorical: list[str],
    numeric: list[str],
    embargo_h: float,
    params: tuple[dict[str, Any] | None, dict[str, Any] | None],
) -> tuple[Pipeline, Pipeline, tuple[str, str]]:
    horizon_h = min(embargo_h, deploy_horizon_h(frame, known_at))
    return fit_deployed(
        frame,
        known_at,
        categorical,
        numeric,
        horizon_h=horizon_h,
        forecaster_params=params[0],
        classifier_params=params[1],
    )


def _deployed_fields(deployed: tuple[Pipeline, Pipeline, tuple[str, str]] | None) -> dict[str, Any]:
    if deployed is None:
        return {}
    return {"deployed_forecaster": deployed[0], "deployed_classifier": deployed[1], "deployed_window": deployed[2]}


def _train_window(frame: pd.DataFrame, fitted_rows: pd.Series) -> tuple[str, str]:
    """From the first fitted journey's start to the last fitted instant."""
    start = pd.Timestamp(frame.loc[fitted_rows, "order_started_at"].min()).isoformat()
    return start, pd.Timestamp(frame.loc[fitted_rows, "as_of_at"].max()).isoformat()


def _split_journeys(frame: pd.DataFrame, embargo_h: float) -> tuple[pd.DataFrame, pd.Series]:
    """The journeys old enough to have finished, split chronologically (train, validation, test)."""
    horizon = pd.Timestamp(frame["as_of_at"].max()) - pd.Timedelta(hours=embargo_h)
    frame = frame[frame["order_started_at"] <= horizon]
    split = chronological_split(frame, embargo_h=embargo_h)
    if not (split == "train").any() or not (split == "test").any():
        raise ConfigError(
            f"too few journeys for a chronological split ({frame['order_id'].nunique()} journeys); "
            "simulate or import more history"
        )
    return frame, split


def _backtest_record(
    frame: pd.DataFrame,
    split: pd.Series,
    embargo_h: float,
    known_at: pd.Timestamp,
    train_window: tuple[str, str],
    deployed: tuple[Pipeline, Pipeline, tuple[str, str]] | None,
    dropped: dict[str, str],
    evaluations: dict[str, dict[str, Any]],
    *,
    seconds: dict[str, float],
) -> dict[str, Any]:
    """What the registry keeps of the backtest: protocol, windows, split sizes, timings, the four evaluations."""
    return {
        "protocol": "journeys sorted by start: 64% train, 16% validation (calibration), 20% test",
        "embargo_h": embargo_h,
        "as_of": known_at.isoformat(),  # what was known when it was trained: the retrain cadence counts from it
        "evaluated_window": list(train_window),
        "deployed_window": list(deployed[2]) if deployed else None,
        **_split_record(frame, split, split == "test"),
        "dropped_columns": dropped,
        "seconds": seconds,
        "summary": {
            name: {"n": ev["n"], "business_cost": ev["business_cost"], **ev["metrics"]}
            for name, ev in evaluations.items()
        },
    }


# The four candidates, in the order they are evaluated and reported, and the kind each one is.
_KIND_OF: dict[str, ModelKind] = {
    "forecaster": "forecaster",
    "baseline_forecaster": "forecaster",
    "stuck_classifier": "stuck_classifier",
    "baseline_stuck_classifier": "stuck_classifier",
}


def _fit_candidates(
    frame: pd.DataFrame,
    split: pd.Series,
    categorical: list[str],
    numeric: list[str],
    forecaster_params: dict[str, Any] | None,
    classifier_params: dict[str, Any] | None,
) -> dict[str, Pipeline]:
    """Both models and both baselines, fitted on the training and validation journeys (the models
    calibrate on the validation ones), by the names of `_KIND_OF`."""
    fit_part = (split == "train") | (split == "validation")
    fit_rows = frame[fit_part]
    calibration = (split[fit_part] == "validation").to_numpy()
    x_fit = prepare_features(fit_rows, categorical, numeric)

    has_remaining = fit_rows["remaining_h"].notna().to_numpy()
    forecaster = estimators.make_forecaster(categorical, numeric, **(forecaster_params or {}))
    forecaster.fit(
        x_fit[has_remaining],
        fit_rows["remaining_h"].to_numpy()[has_remaining],
        model__calibration_mask=calibration[has_remaining],
    )
    baseline_forecaster = estimators.make_baseline_forecaster()
    baseline_forecaster.fit(x_fit[has_remaining], fit_rows["remaining_h"].to_numpy()[has_remaining])

    has_label = fit_rows["stuck_label"].notna().to_numpy()
    labels = fit_rows["stuck_label"].to_numpy()[has_label].astype(int)
    classifier = estimators.make_classifier(categorical, numeric, **(classifier_params or {}))
    baseline_classifier = estimators.make_baseline_classifier()
    if len(np.unique(labels)) < 2:
        raise ConfigError("every training prefix has the same stuck label; train on a longer history")
    classifier.fit(x_fit[has_label], labels, model__calibration_mask=calibration[has_label])
    baseline_classifier.fit(x_fit[has_label], labels)
    return {
        "forecaster": forecaster,
        "baseline_forecaster": baseline_forecaster,
        "stuck_classifier": classifier,
        "baseline_stuck_classifier": baseline_classifier,
    }


def _holdout_columns(frame: pd.DataFrame, columns: list[str]) -> list[str]:
    """What the holdout keeps: keys, start, day, triage group, sampling weight, inputs, targets, segments."""
    return list(
        dict.fromkeys(
            [
                *features.KEY_COLUMNS,
                "order_started_at",
                "as_of_date",
                "triage_group",
                "sample_fraction",
                *columns,
                *[c for c in features.TARGET_COLUMNS if c in frame],
                *[c for c in SEGMENT_COLUMNS if c in frame],
            ]
        )
    )


def _split_record(frame: pd.DataFrame, split: pd.Series, test: pd.Series) -> dict[str, Any]:
    """The backtest's record of the split: rows and journeys per part, the test window, the sampling."""
    return {
        "rows": {str(k): int(v) for k, v in split.value_counts().items()},
        "journeys": {
            str(k): int(v)
            for k, v in frame.assign(split=split).drop_duplicates("order_id")["split"].value_counts().items()
        },
        "test_window": (
            pd.Timestamp(frame.loc[test, "order_started_at"].min()).isoformat(),
            pd.Timestamp(frame.loc[test, "as_of_at"].max()).isoformat(),
        ),
        "prefixes_total": int(frame.attrs.get("prefixes_total", len(frame))),
        "sample_fraction": float(frame.attrs.get("sample_fraction", 1.0)),
    }
