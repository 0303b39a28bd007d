"""Scoring fitted models on a frame and judging them on the holdout: the batch input encoding, the forecasts and stuck
probabilities, and the evaluation (metrics, business cost, per-segment figures, the fingerprint of the rows judged).
"""

from __future__ import annotations

import hashlib
import weakref
from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from core.domain import SEGMENT_COLUMNS, CostAssumptions, ModelKind
from core.errors import ConfigError
from core.models import metrics
from core.models.training_data import prepare_features

DEFAULT_COSTS = CostAssumptions()


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
            {
                name: [*k, *([k[0] if len(k) else np.nan] * (rows - len(k)))]
                for name, k in zip(encoder.feature_names_in_, known, strict=True)
            }
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
    return {column: frame[column] for column in SEGMENT_COLUMNS if column in frame and frame[column].notna().any()}


def rows_hash(rows: pd.DataFrame) -> str:
    """A fingerprint of the (order, instant) pairs scored, independent of their order: two
    evaluations compare models on the same rows exactly when their hashes are equal."""
    keys = pd.DataFrame(
        {
            "order_id": rows["order_id"].astype(str).to_numpy(),
            "as_of_at": pd.to_datetime(rows["as_of_at"]).astype("int64").to_numpy(),
        }
    )
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
        segments[column] = {str(value): summarise((values == value).to_numpy()) for value in values.dropna().unique()}
    return {
        "kind": kind,
        "rows_hash": rows_hash(rows),
        "n": everything.pop("n"),
        "business_cost": everything.pop("business_cost"),
        "metrics": everything,
        "segments": segments,
    }
