"""Scoring open orders in batches on workers that were sent only plain values: the models' skops bytes
(or a Spark broadcast of them) with their registered sha256, version names, the interval corrections
as records, and the day. Each worker loads the models itself through the same checksum and type
allow-list as the store's loader (`artifacts.loads_artifact`), so no pickled model ever crosses, and
a worker's rows are exactly what `batch.prediction_rows` writes on the DuckDB path.

The function is what Spark's ``mapInPandas`` calls (an iterator of feature batches in, an iterator of
`predictions` rows out); nothing here imports PySpark.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from core.registry.artifacts import loads_artifact
from core.scoring import calibration as intervals
from core.scoring.batch import ServingModels, prediction_rows, score_frame

# The `predictions` rows a batch yields (the order of core/sql/scoring_insert.sql), with Spark's types.
PREDICTION_SCHEMA: tuple[tuple[str, str], ...] = (
    ("as_of_date", "date"),
    ("as_of_at", "timestamp"),
    ("order_id", "string"),
    ("role", "string"),
    ("forecaster_version", "string"),
    ("classifier_version", "string"),
    ("current_stage", "string"),
    ("elapsed_h", "double"),
    ("p10_h", "double"),
    ("p50_h", "double"),
    ("p90_h", "double"),
    ("eta_p10_at", "timestamp"),
    ("eta_p50_at", "timestamp"),
    ("eta_p90_at", "timestamp"),
    ("stuck_prob", "double"),
    ("scored_at", "timestamp"),
    ("model_p10_h", "double"),
    ("model_p50_h", "double"),
    ("model_p90_h", "double"),
)
PREDICTION_COLUMNS: tuple[str, ...] = tuple(name for name, _ in PREDICTION_SCHEMA)


def prediction_schema_ddl() -> str:
    """The rows' schema as a DDL string (``as_of_date date, …``) for ``mapInPandas``."""
    return ", ".join(f"{name} {kind}" for name, kind in PREDICTION_SCHEMA)


def _bytes_of(held: Any) -> bytes:
    """The bytes themselves, or the value of a Spark broadcast of them."""
    return held if isinstance(held, bytes) else held.value


def score_batches(
    batches: Iterator[pd.DataFrame],
    *,
    role: str,
    versions: tuple[str, str],
    artifacts: Sequence[tuple[Any, str]],
    corrections: Sequence[Mapping[str, Any]],
    segments: Sequence[str],
    as_of_date: date,
    as_of_at: datetime,
    scored_at: datetime,
) -> Iterator[pd.DataFrame]:
    """`predictions` rows of one role for each batch of open orders' features: the models are loaded
    from (bytes, sha256) of the forecaster and the classifier, once per call (a Spark task)."""
    from threadpoolctl import threadpool_limits

    (forecaster_bytes, forecaster_sha), (classifier_bytes, classifier_sha) = artifacts
    forecaster_version, classifier_version = versions
    models = ServingModels(
        role,
        forecaster_version,
        classifier_version,
        loads_artifact(_bytes_of(forecaster_bytes), forecaster_sha, f"{forecaster_version}.skops"),
        loads_artifact(_bytes_of(classifier_bytes), classifier_sha, f"{classifier_version}.skops"),
    )
    table = pd.DataFrame.from_records(list(corrections)) if corrections else pd.DataFrame()
    # One thread per worker process: the cores are the workers' (as on the DuckDB path, OpenMP
    # threads on small batches cost more than they give).
    with threadpool_limits(limits=1, user_api="openmp"):
        for open_orders in batches:
            if open_orders.empty:
                continue
            open_orders = open_orders.reset_index(drop=True)
            raw_scores = score_frame(open_orders, models)
            segment, *within = segments  # the calibration's segment, then the attributes refining it
            served = intervals.apply_corrections(raw_scores, open_orders[segment], table, within=open_orders[within])
            rows = prediction_rows(open_orders, served, models, as_of_date, as_of_at, scored_at, raw_scores=raw_scores)
            yield _microseconds(rows[list(PREDICTION_COLUMNS)])


def to_microseconds(instants: pd.Series) -> pd.Series:
    """Instants in whole microseconds, rounded as DuckDB rounds pandas' nanoseconds when the DuckDB
    path inserts its rows (to the nearest, halves away from zero); Spark would refuse to drop them."""
    as_nanos = pd.to_datetime(instants).astype("datetime64[ns]")
    missing = as_nanos.isna().to_numpy()
    nanos = as_nanos.to_numpy().view("int64")
    micros = np.where(nanos >= 0, (nanos + 500) // 1000, -((500 - nanos) // 1000))
    return pd.Series(micros.astype("datetime64[us]"), index=instants.index).mask(missing)


def _microseconds(rows: pd.DataFrame) -> pd.DataFrame:
    for name, kind in PREDICTION_SCHEMA:
        if kind == "timestamp":
            rows[name] = to_microseconds(rows[name])
    return rows
