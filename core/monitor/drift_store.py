"""Drift results in the store: the day's rows and Evidently snapshot, written (alone or inside the daily job's
transaction) and read back.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import duckdb
import pandas as pd

from core import store
from core.config import StorePath
from core.monitor.drift import DriftResult


def store_drift(
    result: DriftResult,
    as_of: date,
    store_path: StorePath = None,
    model_version: str | None = None,
) -> None:
    """Replace the day's drift rows and snapshot with this result (re-running a day changes nothing)."""
    with store.transaction(store_path) as con:
        write_drift(con, result, as_of, model_version, store.utcnow())


def write_drift(
    con: duckdb.DuckDBPyConnection,
    result: DriftResult | None,
    as_of: date,
    model_version: str | None,
    computed_at: datetime,
) -> None:
    """Replace the day's drift rows and snapshot on `con`, inside the caller's transaction (no
    result: the day keeps no drift rows)."""
    con.execute(store.load_sql("monitor_drift_delete"), {"as_of": as_of})
    con.execute(store.load_sql("monitor_snapshot_delete"), {"as_of": as_of})
    if result is None:
        return
    drift_rows = result.columns.assign(
        as_of=pd.Timestamp(as_of).date(),
        model_version=model_version,
        computed_at=computed_at,
        new_categories=result.columns["new_categories"].map(list),
    )
    con.register("drift_rows", drift_rows)
    try:
        con.execute(store.load_sql("monitor_drift_insert"))
    finally:
        con.unregister("drift_rows")
    con.execute(
        store.load_sql("monitor_snapshot_insert"),
        {
            "as_of": as_of,
            "model_version": model_version,
            "rows_ref": result.rows_ref,
            "rows_cur": result.rows_cur,
            "sampled_ref": result.sampled_ref,
            "sampled_cur": result.sampled_cur,
            "snapshot_json": result.snapshot_json,
            "computed_at": computed_at,
        },
    )


def read_drift(since: date | None = None, store_path: StorePath = None) -> pd.DataFrame:
    """Stored drift rows, one per day and column, oldest first (from `since` if given)."""
    return store.fetch_df("monitor_drift_read", {"since": since}, store_path)


def read_snapshot_json(as_of: date, store_path: StorePath = None) -> str | None:
    """The stored Evidently snapshot JSON of a day, or None when there is none."""
    found = store.fetch_df("monitor_snapshot_read", {"as_of": as_of}, store_path)
    if found.empty or pd.isna(found.loc[0, "snapshot_json"]):
        return None
    return str(found.loc[0, "snapshot_json"])


def snapshot_days(store_path: StorePath = None) -> list[date]:
    """The days whose Evidently snapshot is stored (their report can be rendered), newest first."""
    found = store.fetch_df("monitor_snapshot_days", {}, store_path)
    return [pd.Timestamp(day).date() for day in found["as_of"]]


def drift_records(result: DriftResult) -> list[dict[str, Any]]:
    """The per-column table as plain JSON-safe dicts (NaN becomes None)."""
    records = json.loads(result.columns.to_json(orient="records"))
    return [dict(r) for r in records]
