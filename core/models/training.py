"""Training sets, the chronological split, training the candidates and scoring them.

Journeys are sorted by their start; the oldest train, the next ones calibrate (validation), the newest
are the holdout (test). Training and validation journeys whose outcome falls after the test period
starts are purged, and journeys that started within the embargo before it are left out, so nothing
from the test period reaches a model and the purge does not bias the training set towards short
journeys.
"""

from __future__ import annotations

import hashlib
import time
import weakref
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

SPLIT_FRACTIONS: tuple[float, float, float] = (0.64, 0.16, 0.20)
DEFAULT_MAX_ROWS = 150_000
DEFAULT_EMBARGO_H = 7 * 24.0
DEFAULT_COSTS = CostAssumptions()


def prepare_features(frame: pd.DataFrame, categorical: list[str], numeric: list[str]) -> pd.DataFrame:
    """Model inputs in the dtypes the pipelines expect: categories as text (missing NaN), numbers float."""
    prepared = {}
    for name in categorical:
        values = frame[name] if name in frame else pd.Series(np.nan, index=frame.index)
        if values.dtype != object:
            values = values.astype("string").astype(object)
        prepared[name] = values.where(values.notna(), np.nan)
    for name in numeric:
        values = frame[name] if name in frame else pd.Series(np.nan, index=frame.index)
        prepared[name] = pd.to_numeric(values, errors="coerce").astype("float64")
    return pd.DataFrame(prepared, index=frame.index)


def build_training_frame(
    store_path: StorePath = None,
    as_of: datetime | None = None,
    *,
    every_h: float = 6.0,
    max_rows: int | None = DEFAULT_MAX_ROWS,
    mode: features.PrefixMode | None = None,
) -> pd.DataFrame:
    """Prefix rows with features, targets and segments: snapshots of open orders every ``every_h``
    hours in the order world, one prefix per event in an imported log."""
    completion = features.detect_completion(store_path)
    mode = mode or ("snapshots" if completion == "terminal" else "events")
    frame = features.build_prefix_features(
        store_path, mode=mode, as_of=as_of, every_h=every_h, max_prefixes=max_rows, completion=completion
    )
    frame["as_of_date"] = pd.to_datetime(frame["as_of_at"]).dt.floor("D")
    # Each snapshot instant is one triage list; in a per-event log a day is.
    frame["triage_group"] = frame["as_of_at"] if mode == "snapshots" else frame["as_of_date"]
    frame["sample_fraction"] = frame.attrs.get("sample_fraction", 1.0)
    return frame


def chronological_split(
    frame: pd.DataFrame,
    fractions: tuple[float, float, float] = SPLIT_FRACTIONS,
    *,
    embargo_h: float = 0.0,
    purge: bool = True,
) -> pd.Series:
    """Per row: 'train', 'validation', 'test' by the rank of its journey's start, or 'purged' /
    'embargo' for earlier journeys that would let the test period leak in."""
    if abs(sum(fractions) - 1.0) > 1e-9 or min(fractions) < 0:
        raise ConfigError(f"split fractions must be >= 0 and add up to 1, got {fractions}")
    journeys = (
        frame[["order_id", "order_started_at"]]
        .drop_duplicates("order_id")
        .sort_values(["order_started_at", "order_id"], kind="stable")
    )
    position = np.arange(len(journeys)) / max(1, len(journeys))
    cut_train, cut_val = fractions[0], fractions[0] + fractions[1]
    part = np.where(position < cut_train, "train", np.where(position < cut_val, "validation", "test"))
    starts = journeys["order_started_at"].to_numpy()
    test_starts = starts[part == "test"]
    if embargo_h > 0 and len(test_starts):
        # The embargo sits between validation and test instead of eating the validation window: on a
        # short history a week's embargo would swallow all of it, and what the purge then left would
        # be the journeys that happened to end quickly, a biased calibration set. Validation keeps its
        # share of journeys, the newest ones starting before the embargo.
        gap = test_starts.min() - pd.Timedelta(hours=embargo_h)
        before = part != "test"
        embargoed = before & (starts > gap)
        earlier = np.flatnonzero(before & ~embargoed)
        part = np.where(embargoed, "embargo", part)
        part[earlier] = "train"
        n_validation = int(round(fractions[1] * len(journeys)))
        if n_validation:
            part[earlier[-n_validation:]] = "validation"
    split = pd.Series(part, index=journeys["order_id"].to_numpy())
    rows = frame["order_id"].map(split)
    if not len(test_starts):
        return rows
    test_start = test_starts.min()
    if purge and "order_ended_at" in frame:
        ends_later = frame["order_ended_at"].isna() | (frame["order_ended_at"] > test_start)
        rows = rows.where(~((rows.isin(["train", "validation"])) & ends_later), "purged")
    return rows


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


def _model_inputs(model: Pipeline) -> tuple[list[str], list[str]]:
    transformer = model.named_steps["features"] if "features" in model.named_steps else model[0]
    columns = {name: list(cols) for name, _, cols in transformer.transformers}
    return columns.get("categorical", []), columns.get("numeric", [])


def _inputs(model: Pipeline, frame: pd.DataFrame) -> pd.DataFrame:
    categorical, numeric = _model_inputs(model)
    return prepare_features(frame, categorical, numeric)


# Per fitted encoder: for each categorical column, its categories and the code each one encodes to.
_CODE_TABLES: weakref.WeakKeyDictionary[Any, list[tuple[pd.Index, np.ndarray]]] = weakref.WeakKeyDictionary()


def _code_tables(encoder: Any) -> list[tuple[pd.Index, np.ndarray]]:
    # The encoder itself says what each known category becomes (rare ones share a code), once.
    if encoder not in _CODE_TABLES:
        known = [pd.Index([c for c in cats if not pd.isna(c)], dtype=object) for cats in encoder.categories_]
        rows = max(1, *(len(k) for k in known))
        padded = pd.DataFrame(
            {name: [*k, *([k[0] if len(k) else np.nan] * (rows - len(k)))] for name, k in zip(encoder.feature_names_in_, known, strict=True)}
        )
        codes = encoder.transform(padded)
        _CODE_TABLES[encoder] = [(k, codes[: len(k), i]) for i, k in enumerate(known)]
    return _CODE_TABLES[encoder]


def encode_inputs(model: Pipeline, frame: pd.DataFrame) -> np.ndarray:
    """The model's input matrix for a frame, as its preprocessor would encode it, without the
    per-cell overhead of the ColumnTransformer (batch scoring speed)."""
    categorical, numeric = _model_inputs(model)
    transformer = model.named_steps["features"] if "features" in model.named_steps else model[0]
    encoder = transformer.named_transformers_["categorical"] if categorical else None
    # Column by column into a column-major matrix: each column is written contiguously.
    out = np.empty((len(frame), len(categorical) + len(numeric)), dtype=np.float64, order="F")
    if encoder is not None:
        for i, (name, (known, codes)) in enumerate(zip(categorical, _code_tables(encoder), strict=True)):
            values = frame[name] if name in frame else pd.Series(np.nan, index=frame.index)
            if values.dtype != object:
                values = values.astype("string").astype(object)
            # `known` holds no missing value, so None, NaN and pd.NA all look up to -1 here.
            position = known.get_indexer(values)
            # Unknown and missing categories encode to NaN, as the encoder does.
            out[:, i] = np.where(position >= 0, codes[np.maximum(position, 0)], np.nan) if len(known) else np.nan
    for j, name in enumerate(numeric, start=len(categorical)):
        if name not in frame:
            out[:, j] = np.nan
        elif pd.api.types.is_numeric_dtype(frame[name]) and not pd.api.types.is_bool_dtype(frame[name]):
            out[:, j] = frame[name].to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            out[:, j] = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    return out


def predict_forecast(model: Pipeline, frame: pd.DataFrame) -> pd.DataFrame:
    """Batch forecasts: p10/p50/p90 of the remaining time in hours, one row per input row."""
    quantiles = model[-1].predict_quantiles(encode_inputs(model, frame))
    return pd.DataFrame(quantiles, columns=["p10_h", "p50_h", "p90_h"], index=frame.index)


def predict_stuck(model: Pipeline, frame: pd.DataFrame) -> pd.Series:
    """Batch probabilities that each open order gets stuck before it completes."""
    proba = model[-1].predict_proba(encode_inputs(model, frame))[:, 1]
    return pd.Series(proba, index=frame.index, name="p_stuck")


def _segment_values(frame: pd.DataFrame) -> dict[str, pd.Series]:
    return {
        column: frame[column]
        for column in SEGMENT_COLUMNS
        if column in frame and frame[column].notna().any()
    }


def rows_hash(rows: pd.DataFrame) -> str:
    """A fingerprint of the (order, instant) pairs scored, independent of their order: two
    evaluations compare models on the same rows exactly when their hashes are equal."""
    keys = pd.DataFrame({"order_id": rows["order_id"].astype(str).to_numpy(),
                         "as_of_at": pd.to_datetime(rows["as_of_at"]).astype("int64").to_numpy()})
    hashed = pd.util.hash_pandas_object(keys, index=False).to_numpy()
    return hashlib.sha256(np.sort(hashed).tobytes()).hexdigest()


def evaluate_model(
    kind: ModelKind,
    model: Pipeline,
    holdout: pd.DataFrame,
    costs: CostAssumptions = DEFAULT_COSTS,
    triage_capacity: int = metrics.DEFAULT_TRIAGE_CAPACITY,
) -> dict[str, Any]:
    """The evaluation dict of one model on a holdout: n, mean business cost, metrics, segments."""
    if kind == "forecaster":
        rows = holdout[holdout["remaining_h"].notna()]
        quantiles = predict_forecast(model, rows).to_numpy() if len(rows) else np.empty((0, 3))
        actual = rows["remaining_h"].to_numpy(dtype=np.float64)
        cost = metrics.forecast_costs(actual, quantiles[:, 1], costs)

        def summarise(mask: np.ndarray) -> dict[str, Any]:
            return {
                "n": int(mask.sum()),
                "business_cost": float(cost[mask].mean()) if mask.any() else float("nan"),
                **metrics.forecast_metrics(actual[mask], quantiles[mask]),
            }
    elif kind == "stuck_classifier":
        rows = holdout[holdout["stuck_label"].notna()]
        p = predict_stuck(model, rows).to_numpy() if len(rows) else np.empty(0)
        y = rows["stuck_label"].to_numpy().astype(int)
        group = rows["triage_group"].to_numpy() if "triage_group" in rows else np.zeros(len(rows))
        fraction = float(rows["sample_fraction"].iloc[0]) if "sample_fraction" in rows and len(rows) else 1.0
        k = max(1, int(round(triage_capacity * fraction)))
        cost = metrics.classifier_costs(y, p, group, k, costs)

        def summarise(mask: np.ndarray) -> dict[str, Any]:
            return {
                "n": int(mask.sum()),
                "business_cost": float(cost[mask].mean()) if mask.any() else float("nan"),
                **metrics.classifier_metrics(y[mask], p[mask], group[mask], k),
            }
    else:
        raise ConfigError(f"unknown model kind {kind!r}; use forecaster or stuck_classifier")
    everything = summarise(np.ones(len(rows), dtype=bool))
    segments: dict[str, dict[str, Any]] = {}
    for column, values in _segment_values(rows).items():
        segments[column] = {
            str(value): summarise((values == value).to_numpy()) for value in values.dropna().unique()
        }
    return {
        "kind": kind,
        "rows_hash": rows_hash(rows),
        "n": everything.pop("n"),
        "business_cost": everything.pop("business_cost"),
        "metrics": everything,
        "segments": segments,
    }


def select_columns(frame: pd.DataFrame, train_rows: pd.Series) -> tuple[list[str], list[str], dict[str, str]]:
    """(categorical, numeric, dropped-with-reason): inputs of the models, leaking attributes removed."""
    categorical, numeric = features.split_columns(frame)
    skip = {"as_of_date", "triage_group", "sample_fraction"}
    categorical = [c for c in categorical if c not in skip]
    numeric = [c for c in numeric if c not in skip]
    dropped = features.find_leaking_columns(frame[train_rows], categorical + numeric)
    return (
        [c for c in categorical if c not in dropped],
        [c for c in numeric if c not in dropped],
        dropped,
    )


def deployed_rows(frame: pd.DataFrame, as_of: pd.Timestamp, horizon_h: float) -> pd.DataFrame:
    """The rows a deployed fit learns from: prefixes at instants at least `horizon_h` before `as_of`,
    with censoring handled instead of dropped.

    At any instant the journeys still open are the long ones; keeping only finished journeys biases
    every label short, most when durations trend up. A prefix whose order is still open at `as_of` gets
    the remaining time known so far (`as_of` − its instant) as its target: a lower bound at least
    `horizon_h` long, above the quantiles of nearly every prefix, where the quantile loss only needs
    to know which side the truth is on. Cancelled orders have no delivery time and are left out of
    the forecaster's rows (`remaining_h` stays NaN)."""
    cutoff = as_of - pd.Timedelta(hours=horizon_h)
    rows = frame[pd.to_datetime(frame["as_of_at"]) <= cutoff].copy()
    still_open = rows["order_ended_at"].isna() if "order_ended_at" in rows else rows["remaining_h"].isna()
    known_so_far = (as_of - pd.to_datetime(rows["as_of_at"])).dt.total_seconds() / 3600.0
    rows["remaining_h"] = rows["remaining_h"].where(~still_open, known_so_far)
    rows["censored"] = still_open.to_numpy()
    return rows


DEPLOY_CALIBRATION_SHARE = 0.16  # the newest instants of the deployed rows measure the corrections
# The deployed fit learns from prefixes old enough that nearly every outcome is known (those still open
# count as not yet delivered): the 95th percentile of the remaining time of recent prefixes, within
# these bounds. Shorter is fresher but censors more; on the 100-day demo 4 days beat 7.
DEPLOY_HORIZON_MIN_H = 4 * 24.0
DEPLOY_HORIZON_MAX_H = 14 * 24.0
DEPLOY_HORIZON_QUANTILE = 0.95


def deploy_horizon_h(frame: pd.DataFrame, as_of: pd.Timestamp) -> float:
    """How old a prefix must be to serve as a deployed-fit row: the DEPLOY_HORIZON_QUANTILE of the
    remaining time of the prefixes two to six weeks before `as_of` (whose outcomes are all known),
    within [DEPLOY_HORIZON_MIN_H, DEPLOY_HORIZON_MAX_H]."""
    instants = pd.to_datetime(frame["as_of_at"])
    settled = frame["remaining_h"][(instants <= as_of - pd.Timedelta(days=14))
                                   & (instants > as_of - pd.Timedelta(days=42))].dropna()
    measured = float(settled.quantile(DEPLOY_HORIZON_QUANTILE)) if len(settled) else DEPLOY_HORIZON_MIN_H
    return float(np.clip(measured, DEPLOY_HORIZON_MIN_H, DEPLOY_HORIZON_MAX_H))


def fit_deployed(
    frame: pd.DataFrame,
    as_of: pd.Timestamp,
    categorical: list[str],
    numeric: list[str],
    *,
    horizon_h: float,
    forecaster_params: dict[str, Any] | None = None,
    classifier_params: dict[str, Any] | None = None,
) -> tuple[Pipeline, Pipeline, tuple[str, str]]:
    """The models that serve: fitted on every row of `deployed_rows`, the newest included.

    The interval corrections are measured out of sample first: the boosters are fitted without the
    newest instants (the most recent matured window), corrected on them, then fitted again on every
    row keeping those corrections. The classifier is calibrated on the same newest window."""
    rows = deployed_rows(frame, as_of, horizon_h)
    if rows.empty:
        raise ConfigError("no prefixes old enough to have known outcomes; simulate or import more history")
    instants = pd.to_datetime(rows["as_of_at"])
    recent = (instants >= instants.quantile(1.0 - DEPLOY_CALIBRATION_SHARE)).to_numpy()
    x = prepare_features(rows, categorical, numeric)
    has_remaining = rows["remaining_h"].notna().to_numpy()
    forecaster = estimators.make_forecaster(categorical, numeric, **(forecaster_params or {}))
    forecaster.fit(x[has_remaining], rows["remaining_h"].to_numpy()[has_remaining],
                   model__calibration_mask=recent[has_remaining], model__refit_on_all=True)
    has_label = rows["stuck_label"].notna().to_numpy()
    classifier = estimators.make_classifier(categorical, numeric, **(classifier_params or {}))
    classifier.fit(x[has_label], rows["stuck_label"].to_numpy()[has_label].astype(int),
                   model__calibration_mask=recent[has_label])
    window = (pd.Timestamp(rows["order_started_at"].min()).isoformat(), pd.Timestamp(instants.max()).isoformat())
    return forecaster, classifier, window


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
    horizon = pd.Timestamp(frame["as_of_at"].max()) - pd.Timedelta(hours=embargo_h)
    frame = frame[frame["order_started_at"] <= horizon]
    split = chronological_split(frame, embargo_h=embargo_h)
    train, validation, test = (split == "train"), (split == "validation"), (split == "test")
    if not train.any() or not test.any():
        raise ConfigError(
            f"too few journeys for a chronological split ({frame['order_id'].nunique()} journeys); "
            "simulate or import more history"
        )
    categorical, numeric, dropped = select_columns(frame, train)
    columns = categorical + numeric
    fit_rows = frame[train | validation]
    calibration = (split[train | validation] == "validation").to_numpy()
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
    deployed: tuple[Pipeline, Pipeline, tuple[str, str]] | None = None
    if deploy:
        deployed = fit_deployed(full_frame, known_at, categorical, numeric,
                                horizon_h=min(embargo_h, deploy_horizon_h(full_frame, known_at)),
                                forecaster_params=forecaster_params, classifier_params=classifier_params)
    fitted = time.perf_counter()

    holdout_columns = list(
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
    holdout = frame.loc[test, holdout_columns].reset_index(drop=True)
    evaluations = {
        "forecaster": evaluate_model("forecaster", forecaster, holdout, costs, triage_capacity),
        "baseline_forecaster": evaluate_model("forecaster", baseline_forecaster, holdout, costs, triage_capacity),
        "stuck_classifier": evaluate_model("stuck_classifier", classifier, holdout, costs, triage_capacity),
        "baseline_stuck_classifier": evaluate_model(
            "stuck_classifier", baseline_classifier, holdout, costs, triage_capacity
        ),
    }
    starts = frame.loc[train | validation, "order_started_at"]
    train_window = (pd.Timestamp(starts.min()).isoformat(), pd.Timestamp(frame.loc[train | validation, "as_of_at"].max()).isoformat())
    backtest = {
        "protocol": "journeys sorted by start: 64% train, 16% validation (calibration), 20% test",
        "embargo_h": embargo_h,
        "as_of": known_at.isoformat(),  # what was known when it was trained: the retrain cadence counts from it
        "evaluated_window": list(train_window),
        "deployed_window": list(deployed[2]) if deployed else None,
        "rows": {str(k): int(v) for k, v in split.value_counts().items()},
        "journeys": {
            str(k): int(v) for k, v in frame.assign(split=split).drop_duplicates("order_id")["split"].value_counts().items()
        },
        "test_window": (
            pd.Timestamp(frame.loc[test, "order_started_at"].min()).isoformat(),
            pd.Timestamp(frame.loc[test, "as_of_at"].max()).isoformat(),
        ),
        "prefixes_total": int(frame.attrs.get("prefixes_total", len(frame))),
        "sample_fraction": float(frame.attrs.get("sample_fraction", 1.0)),
        "dropped_columns": dropped,
        "seconds": {
            "features": round(built - started, 2),
            "fit": round(fitted - built, 2),
            "evaluate": round(time.perf_counter() - fitted, 2),
        },
        "summary": {
            name: {"n": ev["n"], "business_cost": ev["business_cost"], **ev["metrics"]}
            for name, ev in evaluations.items()
        },
    }
    return TrainingRun(
        forecaster=forecaster,
        classifier=classifier,
        feature_columns=columns,
        train_window=train_window,
        holdout=holdout,
        evaluations=evaluations,
        backtest=backtest,
        baseline_forecaster=baseline_forecaster,
        baseline_classifier=baseline_classifier,
        dropped_columns=dropped,
        deployed_forecaster=deployed[0] if deployed else None,
        deployed_classifier=deployed[1] if deployed else None,
        deployed_window=deployed[2] if deployed else None,
    )
