"""The daily scoring on Spark (issue 17): features over the lake, scoring on the executors, then a
load of the day's Parquet outputs into the DuckDB store in one transaction.

`run_daily_spark(D)` is three named steps over functions that live with their stage:
1. `build_open_orders`: the point-in-time features of the orders open at the end of D, computed by
   Spark from the lake with the same SQL files as the DuckDB path (`core.engine.spark`);
2. `score_on_spark`: every serving role (the champion, a challenger in shadow) scores them inside
   ``mapInPandas`` batches; the executors receive the models' skops bytes (broadcast) with their
   registered sha256 and load them through the store's allow-list loader (`core.scoring.partitions`);
   the interval corrections come from the store's served forecasts, as on the DuckDB path;
3. `load_day_outputs`: the day's `predictions` rows, written by Spark as Parquet under
   ``OUTPUTS/predictions/D/``, replace the day's rows in the store in ONE transaction (delete the
   day, insert the files' rows): loading the same files twice leaves the same rows.

The store stays the system of record: the versions that serve a day, and a re-run's versions, are
read from it exactly as `batch.serving_versions` does for the DuckDB daily.
"""

from __future__ import annotations

import functools
import shutil
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from core import config, features, store
from core.config import StorePath
from core.domain import end_of_day
from core.engine import lake
from core.engine import spark as spark_engine
from core.errors import ConfigError
from core.jobs import runs
from core.jobs.daily_compute import interval_corrections
from core.jobs.daily_settings import DailySettings
from core.registry import versions as registry
from core.registry.artifacts import ArtifactRejectedError
from core.scoring import batch, partitions

OUTPUTS_FOLDER = "outputs"
# Rows per Spark partition of the open orders (each task loads the models once).
ROWS_PER_PARTITION = 100_000
_ARROW_TYPES = {"date": pa.date32(), "timestamp": pa.timestamp("us"), "string": pa.string(), "double": pa.float64()}


def outputs_path(lake_path: str | Path, outputs: str | Path | None = None) -> str:
    """Where a run writes its Parquet outputs: `outputs`, else the lake's ``outputs/`` folder."""
    return str(outputs) if outputs is not None else lake.table_path(lake_path, OUTPUTS_FOLDER)


def predictions_path(outputs: str | Path, as_of: date) -> str:
    """The folder of one day's `predictions` rows."""
    return f"{str(outputs).rstrip('/')}/predictions/{as_of.isoformat()}"


def check_lake(lake_path: str | Path) -> None:
    """A ConfigError unless a local lake holds its tables (an object-store lake is Spark's to read)."""
    if "://" in str(lake_path):
        return
    missing = [t for t in lake.TABLES if not (Path(lake_path) / t).is_dir()]
    if missing:
        raise ConfigError(
            f"the lake {lake_path} has no {', '.join(missing)}; write one with "
            "`python -m core lake export --store STORE --lake PATH` (then keep it fed with `ingest --to-lake`)"
        )


def check_ready(as_of: date, store_path: StorePath, lake_path: str | Path) -> None:
    """What a run needs before Spark starts: a day that has ended, a lake, a champion to score with."""
    if store.utcnow().date() < as_of:
        raise ConfigError(f"--as-of {as_of} is in the future; a daily run works on a day that has ended")
    check_lake(lake_path)
    if "champion" not in batch.serving_versions(as_of, store_path):
        raise registry.NoChampionError(
            f"there is no champion in {config.store_path(store_path)} to score {as_of} with; "
            "train one with `python -m core retrain`"
        )


def serving_artifacts(
    as_of: date, store_path: StorePath, failures: list[dict[str, str]]
) -> dict[str, tuple[tuple[str, str], list[tuple[bytes, str]]]]:
    """role -> ((forecaster version, classifier version), [(bytes, sha256) of each]) for the day,
    checked here first so a damaged champion stops the run before Spark starts work; a challenger
    that fails its checks is left out and reported in `failures`, as on the DuckDB path."""
    roles = batch.serving_versions(as_of, store_path)
    served: dict[str, tuple[tuple[str, str], list[tuple[bytes, str]]]] = {}
    for role, versions in roles.items():
        try:
            served[role] = (versions, [registry.version_bytes(v, store_path) for v in versions])
        except (ArtifactRejectedError, registry.RegistryError) as exc:
            if role == "champion":
                raise
            failures.append({"step": "shadow", "subject": " / ".join(versions), "error": str(exc)})
    return served


def build_open_orders(session: Any, lake_path: str | Path, as_of_at: datetime) -> pd.DataFrame:
    """The features of the orders open at `as_of_at`, computed by Spark over the lake, by order id."""
    engine = spark_engine.SparkEngine(session, lake_path)
    try:
        open_orders = features.build_prefix_features(engine=engine, mode="single", as_of=as_of_at, with_targets=False)
    finally:
        engine.drop_temp_views()
    return open_orders.sort_values("order_id", kind="stable").reset_index(drop=True)


def score_on_spark(
    session: Any,
    open_orders: pd.DataFrame,
    served: dict[str, tuple[tuple[str, str], list[tuple[bytes, str]]]],
    corrections: dict[str, pd.DataFrame],
    segment: str,
    as_of: date,
    scored_at: datetime,
    rows_per_partition: int = ROWS_PER_PARTITION,
) -> list[Any]:
    """One Spark DataFrame of `predictions` rows per serving role (lazy: written by the caller)."""
    parts = -(-len(open_orders) // max(1, rows_per_partition))
    on_executors = spark_engine.to_spark_frame(session, open_orders, parts)
    frames = []
    for role, (versions, artifacts) in served.items():
        score = functools.partial(
            partitions.score_batches,
            role=role,
            versions=versions,
            artifacts=[(spark_engine.broadcast(session, data), sha256) for data, sha256 in artifacts],
            corrections=corrections[versions[0]].to_dict("records"),
            segment=segment,
            as_of_date=as_of,
            as_of_at=end_of_day(as_of),
            scored_at=scored_at,
        )
        frames.append(spark_engine.map_batches(on_executors, score, partitions.prediction_schema_ddl()))
    return frames


def _write_empty(folder: str) -> None:
    """A day without open orders: a folder with one file of no rows (the load then empties the day)."""
    schema = pa.schema([(name, _ARROW_TYPES[kind]) for name, kind in partitions.PREDICTION_SCHEMA])
    target = Path(folder)
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    pq.write_table(schema.empty_table(), target / "part-00000.parquet")


def read_day_outputs(outputs: str | Path, as_of: date) -> pa.Table:
    """The day's `predictions` rows from its Parquet folder (timestamps as the store's naive UTC)."""
    folder = Path(predictions_path(outputs, as_of))
    if not folder.is_dir():
        raise ConfigError(
            f"there are no predictions of {as_of} in {folder}; run `python -m core daily --engine spark "
            f"--as-of {as_of}` first"
        )
    table = spark_engine.naive_timestamps(pq.read_table(folder))
    missing = [c for c in partitions.PREDICTION_COLUMNS if c not in table.column_names]
    if missing:
        raise ConfigError(f"{folder} is not a day of predictions: it lacks {', '.join(missing)}")
    days = {d for d in table.column("as_of_date").to_pylist()}
    if days - {as_of}:
        others = ", ".join(sorted(str(d) for d in days - {as_of}))
        raise ConfigError(f"{folder} holds predictions of other days ({others}); nothing was loaded")
    return table.select(list(partitions.PREDICTION_COLUMNS))


def load_day_outputs(outputs: str | Path, as_of: date, store_path: StorePath = None) -> dict[str, Any]:
    """Replace the day's `predictions` in the store with the rows of its Parquet outputs, in ONE
    transaction (delete the day, insert the rows): loading twice leaves the same rows."""
    rows = read_day_outputs(outputs, as_of)
    with store.transaction(store_path) as con:
        con.execute(store.load_sql("scoring_delete_day"), {"as_of_date": as_of})
        if rows.num_rows:
            con.register("prediction_rows", rows)
            try:
                con.execute(store.load_sql("scoring_insert"))
            finally:
                con.unregister("prediction_rows")
    return {"as_of_date": as_of.isoformat(), "predictions_loaded": rows.num_rows}


def run_daily_spark(
    as_of: date,
    store_path: StorePath,
    lake_path: str | Path,
    *,
    session: Any,
    outputs: str | Path | None = None,
    settings: DailySettings | None = None,
    rows_per_partition: int | None = None,
) -> dict[str, Any]:
    """Features on Spark over the lake, scoring on the executors, Parquet outputs, then the load into
    the store, under the `daily` lock; the run's figures."""
    settings = settings or DailySettings()
    check_ready(as_of, store_path, lake_path)
    started = time.perf_counter()
    as_of_at = end_of_day(as_of)
    out = outputs_path(lake_path, outputs)
    with runs.job_run("daily", {"as_of": as_of.isoformat(), "engine": "spark"}, store_path) as run:
        failures: list[dict[str, str]] = []
        served = serving_artifacts(as_of, store_path, failures)
        open_orders = build_open_orders(session, lake_path, as_of_at)
        folder = predictions_path(out, as_of)
        if open_orders.empty:
            _write_empty(folder)
        else:
            corrections = {
                versions[0]: interval_corrections(versions[0], as_of, as_of_at, settings, store_path)
                for versions, _ in served.values()
            }
            frames = score_on_spark(
                session,
                open_orders,
                served,
                corrections,
                settings.calibration.segment,
                as_of,
                store.utcnow(),
                rows_per_partition or ROWS_PER_PARTITION,
            )
            spark_engine.write_parquet(frames, folder)
        loaded = load_day_outputs(out, as_of, store_path)
        outcome: dict[str, Any] = {
            "as_of_date": as_of.isoformat(),
            "engine": "spark",
            "open_orders": len(open_orders),
            "roles": sorted(served),
            "predictions": folder,
            "predictions_loaded": loaded["predictions_loaded"],
            "step_failures": failures,
            "seconds": round(time.perf_counter() - started, 2),
        }
        run.figures.update({k: outcome[k] for k in ("open_orders", "predictions_loaded", "seconds")})
        if failures:
            run.figures["warnings"] = [f"{f['step']} step failed: {f['error']}" for f in failures]
        outcome["run_id"] = run.run_id
    return outcome
