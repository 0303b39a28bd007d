"""The daily cycle on Spark (issue 17): the open orders' features over the lake and their scores on
the executors; the rest of the day is the DuckDB daily's own code, written in one transaction.

`run_daily_spark(D)` is `daily.run_daily` with `spark_scorer` as its scoring step (the engine seam of
`daily_compute.compute_day`):
1. `build_open_orders`: the point-in-time features of the orders open at the end of D, computed by
   Spark from the lake with the same SQL files as the DuckDB path (`core.engine.spark`);
2. `score_on_spark`: every serving role (the champion, a challenger in shadow) scores them inside
   ``mapInPandas`` batches; the executors receive the models' skops bytes (broadcast) with their
   registered sha256 and load them through the store's allow-list loader (`core.scoring.partitions`);
   the interval corrections come from the store's served forecasts, as on the DuckDB path; Spark
   writes the rows as Parquet under ``OUTPUTS/predictions/D/``;
3. on the driver, from those rows and the open orders' features, `compute_day`'s own steps: the
   triage list (holdout, reasons, ETA bands), the ETAs shown, the interval-correction rows, drift
   (sampled from the features Spark computed), validity, the alert rules and the day's summary;
   `daily.write_day` replaces the whole day in the store in ONE transaction;
4. the stored list is left beside the predictions as Parquet (``OUTPUTS/triage/D/``):
   `load_day_outputs` (`lake load`) replaces the day's predictions and list from those files, in one
   transaction; loading the same files twice leaves the same rows.

The store stays the system of record: the versions that serve a day, and a re-run's versions, are
read from it exactly as `batch.serving_versions` does for the DuckDB daily.
"""

from __future__ import annotations

import functools
import shutil
from collections.abc import Sequence
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
from core.jobs import daily
from core.jobs.daily import TRIAGE_COLUMNS
from core.jobs.daily_compute import ScoredOrders, Scorer, interval_corrections
from core.jobs.daily_settings import DailySettings
from core.registry import versions as registry
from core.registry.artifacts import ArtifactRejectedError
from core.scoring import batch, partitions

OUTPUTS_FOLDER = "outputs"
# Rows per Spark partition of the open orders (each task loads the models once).
ROWS_PER_PARTITION = 100_000
_ARROW_TYPES = {"date": pa.date32(), "timestamp": pa.timestamp("us"), "string": pa.string(), "double": pa.float64()}
_SCORE_COLUMNS = ("p10_h", "p50_h", "p90_h", "stuck_prob")
_TRIAGE_SCHEMA = pa.schema(
    [
        ("as_of_date", pa.date32()),
        ("order_id", pa.string()),
        ("rank", pa.int64()),
        ("expected_cost", pa.float64()),
        ("stuck_prob", pa.float64()),
        ("held_out", pa.bool_()),
        ("reasons", pa.string()),
        ("eta_p10_at", pa.timestamp("us")),
        ("eta_p50_at", pa.timestamp("us")),
        ("eta_p90_at", pa.timestamp("us")),
        ("created_at", pa.timestamp("us")),
    ]
)


def outputs_path(lake_path: str | Path, outputs: str | Path | None = None) -> str:
    """Where a run writes its Parquet outputs: `outputs`, else the lake's ``outputs/`` folder."""
    return str(outputs) if outputs is not None else lake.table_path(lake_path, OUTPUTS_FOLDER)


def predictions_path(outputs: str | Path, as_of: date) -> str:
    """The folder of one day's `predictions` rows."""
    return f"{str(outputs).rstrip('/')}/predictions/{as_of.isoformat()}"


def triage_path(outputs: str | Path, as_of: date) -> str:
    """The folder of one day's `triage_list` rows."""
    return f"{str(outputs).rstrip('/')}/triage/{as_of.isoformat()}"


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
    serving: dict[str, batch.ServingModels], store_path: StorePath, failures: list[dict[str, str]]
) -> dict[str, tuple[tuple[str, str], list[tuple[bytes, str]]]]:
    """role -> ((forecaster version, classifier version), [(bytes, sha256) of each]): the skops bytes
    the executors load, checked again on the driver; a challenger whose bytes fail is left out and
    reported in `failures`, as on the DuckDB path (a damaged champion has stopped the day already)."""
    served: dict[str, tuple[tuple[str, str], list[tuple[bytes, str]]]] = {}
    for role, models in serving.items():
        versions = (models.forecaster_version, models.classifier_version)
        try:
            served[role] = (versions, [registry.version_bytes(v, store_path) for v in versions])
        except (ArtifactRejectedError, registry.RegistryError) as exc:
            if role == "champion":
                raise
            failures.append({"step": "shadow", "subject": " / ".join(versions), "error": str(exc)})
    return served


def build_open_orders(
    session: Any, lake_path: str | Path, as_of_at: datetime, pin_tables: bool = False
) -> pd.DataFrame:
    """The features of the orders open at `as_of_at`, computed by Spark over the lake, by order id
    (`pin_tables`: read the lake once and keep it on the executors, for a lake of many day folders)."""
    engine = spark_engine.SparkEngine(session, lake_path, pin_tables=pin_tables)
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
    segments: tuple[str, ...],
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
            segments=segments,
            as_of_date=as_of,
            as_of_at=end_of_day(as_of),
            scored_at=scored_at,
        )
        frames.append(spark_engine.map_batches(on_executors, score, partitions.prediction_schema_ddl()))
    return frames


def _write_table(table: pa.Table, folder: str) -> None:
    """One Parquet file as the whole of a folder (what it held before is replaced)."""
    target = Path(folder)
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    pq.write_table(table, target / "part-00000.parquet")


def _write_empty(folder: str) -> None:
    """A day without open orders: a folder with one file of no rows (the load then empties the day)."""
    _write_table(pa.schema([(n, _ARROW_TYPES[k]) for n, k in partitions.PREDICTION_SCHEMA]).empty_table(), folder)


def write_triage_list(listed: pd.DataFrame, folder: str) -> None:
    """The day's triage list as Parquet, instants rounded to microseconds as the store keeps them."""
    frame = listed[list(TRIAGE_COLUMNS)].copy() if len(listed) else pd.DataFrame(columns=list(TRIAGE_COLUMNS))
    for name in ("eta_p10_at", "eta_p50_at", "eta_p90_at", "created_at"):
        frame[name] = partitions.to_microseconds(frame[name])
    _write_table(pa.Table.from_pandas(frame, schema=_TRIAGE_SCHEMA, preserve_index=False), folder)


def _read_day(folder: Path, what: str, columns: Sequence[str], as_of: date) -> pa.Table:
    table = spark_engine.naive_timestamps(pq.read_table(folder))
    missing = [c for c in columns if c not in table.column_names]
    if missing:
        raise ConfigError(f"{folder} is not a day of {what}: it lacks {', '.join(missing)}")
    days = set(table.column("as_of_date").to_pylist())
    if days - {as_of}:
        others = ", ".join(sorted(str(d) for d in days - {as_of}))
        raise ConfigError(f"{folder} holds {what} of other days ({others}); nothing was loaded")
    return table.select(list(columns))


def read_day_outputs(outputs: str | Path, as_of: date) -> tuple[pa.Table, pa.Table | None]:
    """The day's `predictions` rows and its triage list (None when the run drew none) from their
    Parquet folders, timestamps as the store's naive UTC."""
    folder = Path(predictions_path(outputs, as_of))
    if not folder.is_dir():
        raise ConfigError(
            f"there are no predictions of {as_of} in {folder}; run `python -m core daily --engine spark "
            f"--as-of {as_of}` first"
        )
    predictions = _read_day(folder, "predictions", partitions.PREDICTION_COLUMNS, as_of)
    triage = Path(triage_path(outputs, as_of))
    return predictions, (_read_day(triage, "triage list", TRIAGE_COLUMNS, as_of) if triage.is_dir() else None)


def _insert(con: Any, sql_name: str, view: str, rows: pa.Table) -> None:
    if not rows.num_rows:
        return
    con.register(view, rows)
    try:
        con.execute(store.load_sql(sql_name))
    finally:
        con.unregister(view)


def load_day_outputs(outputs: str | Path, as_of: date, store_path: StorePath = None) -> dict[str, Any]:
    """Replace the day's `predictions` (and its triage list, when the run drew one) in the store with
    the rows of its Parquet outputs, in ONE transaction (delete the day, insert the rows): loading
    twice leaves the same rows."""
    predictions, triage = read_day_outputs(outputs, as_of)
    with store.transaction(store_path) as con:
        con.execute(store.load_sql("scoring_delete_day"), {"as_of_date": as_of})
        _insert(con, "scoring_insert", "prediction_rows", predictions)
        if triage is not None:
            con.execute(store.load_sql("triage_delete_day"), {"as_of_date": as_of})
            _insert(con, "triage_insert", "triage_rows", triage)
    return {
        "as_of_date": as_of.isoformat(),
        "predictions_loaded": predictions.num_rows,
        "triage_loaded": None if triage is None else triage.num_rows,
    }


def spark_scorer(
    session: Any,
    lake_path: str | Path,
    outputs: str,
    rows_per_partition: int = ROWS_PER_PARTITION,
    pin_tables: bool = False,
) -> Scorer:
    """The day's scoring step on Spark (`daily_compute.Scorer`, the engine seam of `compute_day`): the
    open orders' features over the lake, every serving role's scores on the executors written as the
    day's Parquet predictions, and those rows read back for the rest of the day (list, ETAs, drift)."""

    def score(
        serving: dict[str, batch.ServingModels],
        as_of: date,
        as_of_at: datetime,
        now: datetime,
        settings: DailySettings,
        store_path: StorePath,
        failures: list[dict[str, str]],
    ) -> ScoredOrders:
        folder = predictions_path(outputs, as_of)
        scored = ScoredOrders(open_orders=pd.DataFrame(), predictions=[], calibration_rows=[], champion_scores=None)
        open_orders = build_open_orders(session, lake_path, as_of_at, pin_tables) if "champion" in serving else None
        if open_orders is None or open_orders.empty:
            _write_empty(folder)
            return scored
        served = serving_artifacts(serving, store_path, failures)
        corrections = {
            versions[0]: interval_corrections(versions[0], as_of, as_of_at, settings, store_path)
            for versions, _ in served.values()
        }
        segments = (settings.calibration.segment, *settings.calibration.within)
        frames = score_on_spark(session, open_orders, served, corrections, segments, as_of, now, rows_per_partition)
        spark_engine.write_parquet(frames, folder)
        rows = spark_engine.naive_timestamps(pq.read_table(folder)).to_pandas()
        scored.open_orders = open_orders
        for role, (versions, _) in served.items():
            scored.predictions.append(rows.loc[rows["role"] == role].sort_values("order_id").reset_index(drop=True))
            scored.calibration_rows.append(corrections[versions[0]].assign(forecaster_version=versions[0]))
        champion_rows = rows.loc[rows["role"] == "champion", ["order_id", *_SCORE_COLUMNS]]
        scored.champion_scores = open_orders[["order_id"]].merge(champion_rows, on="order_id", how="left")[
            list(_SCORE_COLUMNS)
        ]
        return scored

    return score


def run_daily_spark(
    as_of: date,
    store_path: StorePath,
    lake_path: str | Path,
    *,
    session: Any,
    outputs: str | Path | None = None,
    settings: DailySettings | None = None,
    rows_per_partition: int | None = None,
    pin_tables: bool = False,
) -> dict[str, Any]:
    """The daily cycle with its features and scoring on Spark over the lake: `daily.run_daily`'s own
    day (triage list, ETAs, interval corrections, drift, validity, alerts, summary, written in one
    transaction) with `spark_scorer` as its scoring step; the day's predictions and list are also left
    as Parquet under `outputs` (`lake load` reloads them). No retrain is started: the outcome's
    `retrain_reason` says when `retrain --engine spark` is due."""
    check_ready(as_of, store_path, lake_path)
    out = outputs_path(lake_path, outputs)
    scorer = spark_scorer(session, lake_path, out, rows_per_partition or ROWS_PER_PARTITION, pin_tables)
    outcome = daily.run_daily(as_of, store_path, settings=settings, retrain=False, scorer=scorer, engine="spark")
    # The list as stored (held-out orders included), beside the predictions, for `lake load`.
    write_triage_list(store.fetch_df("triage_day_rows", {"as_of_date": as_of}, store_path), triage_path(out, as_of))
    folder = predictions_path(out, as_of)
    outcome.update(
        engine="spark",
        roles=sorted(store.fetch_df("scoring_day_roles", {"as_of_date": as_of}, store_path)["role"]),
        predictions=folder,
        predictions_loaded=pq.read_table(folder, columns=["order_id"]).num_rows,
        triage=triage_path(out, as_of),
    )
    return outcome
