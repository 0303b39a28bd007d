"""Feature validity: a batch's data-contract results, as counts per reason with examples.

The ingest contract writes every rejected row to `quarantine` (raw record as JSON, reason) and
every file to `ingested_files` (rows loaded and quarantined). A *batch* is the files one daily run
ingested, named by file, or everything loaded in a time window.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import PurePath
from typing import Any

import duckdb
import pandas as pd

from core import store
from core.config import StorePath

MAX_EXAMPLES = 3


def summarise_validity(quarantined: pd.DataFrame, rows_total: int, max_examples: int = MAX_EXAMPLES) -> dict[str, Any]:
    """Counts per reason (most frequent first) with a few example records, for a batch of `rows_total` rows.

    `quarantined` has one row per rejected record: `reason`, and optionally `source`, `row_number`,
    `record` (JSON text); `rows_total` counts every row read, valid or not.
    """
    rows_quarantined = len(quarantined)
    rows_total = max(int(rows_total), rows_quarantined)
    reasons: list[dict[str, Any]] = []
    if rows_quarantined:
        frame = quarantined.copy()
        for column in ("source", "row_number", "record"):
            if column not in frame.columns:
                frame[column] = None
        counts = frame.groupby("reason", sort=False).size().rename("rows_quarantined").reset_index()
        counts = counts.sort_values(["rows_quarantined", "reason"], ascending=[False, True], kind="stable")
        examples = frame.groupby("reason", sort=False).head(max_examples)
        by_reason = {
            reason: [_example(row) for row in group[["source", "row_number", "record"]].to_dict("records")]
            for reason, group in examples.groupby("reason", sort=False)
        }
        reasons = [
            {
                "reason": str(row.reason),
                "rows_quarantined": int(row.rows_quarantined),
                "share": row.rows_quarantined / rows_total,
                "examples": by_reason[row.reason],
            }
            for row in counts.itertuples(index=False)
        ]
    return {
        "rows_total": rows_total,
        "rows_valid": rows_total - rows_quarantined,
        "rows_quarantined": rows_quarantined,
        "quarantined_share": rows_quarantined / rows_total if rows_total else 0.0,
        "reasons": reasons,
    }


def _example(row: dict[str, Any]) -> dict[str, Any]:
    record = row["record"]
    if isinstance(record, str):
        try:
            record = json.loads(record)
        except ValueError:
            pass  # keep the raw text: an example must show what arrived, parseable or not
    row_number = row["row_number"]
    return {
        "source": None if pd.isna(row["source"]) else str(row["source"]),
        "row_number": None if pd.isna(row_number) else int(row_number),
        "record": record,
    }


def _batch_params(
    sources: Iterable[str | os.PathLike[str]] | None, since: datetime | None, until: datetime | None
) -> dict[str, Any]:
    # Quarantine rows carry the file name, ingested_files the full path: match on the name.
    names = None if sources is None else sorted({PurePath(s).name for s in sources})
    return {"sources": names, "since": since, "until": until}


def read_batch_validity(
    store_path: StorePath = None,
    *,
    sources: Iterable[str | os.PathLike[str]] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    max_examples: int = MAX_EXAMPLES,
) -> dict[str, Any]:
    """The validity summary of one batch: the files in `sources`, or what was loaded in [since, until)."""
    params = _batch_params(sources, since, until)
    with store.connect(store_path, read_only=True) as con:
        quarantined = con.execute(store.load_sql("monitor_quarantine_batch"), params).df()
        totals = con.execute(store.load_sql("monitor_ingested_batch"), params).df().iloc[0]
    summary = summarise_validity(quarantined, int(totals["rows_loaded"] + totals["rows_quarantined"]), max_examples)
    summary["files"] = int(totals["files"])
    return summary


def store_validity(summary: dict[str, Any], as_of: date, store_path: StorePath = None) -> None:
    """Replace the day's validity rows with this summary (re-running a day changes nothing)."""
    with store.transaction(store_path) as con:
        write_validity(con, summary, as_of, store.utcnow())


def write_validity(con: duckdb.DuckDBPyConnection, summary: dict[str, Any], as_of: date, computed_at: datetime) -> None:
    """Replace the day's validity rows with this summary on `con`, inside the caller's transaction."""
    reason_rows = pd.DataFrame(
        [
            {
                "reason": r["reason"],
                "rows_quarantined": r["rows_quarantined"],
                "share": r["share"],
                "examples": json.dumps(r["examples"], default=str),
            }
            for r in summary["reasons"]
        ],
        columns=["reason", "rows_quarantined", "share", "examples"],
    )
    con.execute(store.load_sql("monitor_validity_delete"), {"as_of": as_of})
    con.execute(store.load_sql("monitor_validity_reasons_delete"), {"as_of": as_of})
    con.execute(
        store.load_sql("monitor_validity_insert"),
        {
            "as_of": as_of,
            "rows_total": summary["rows_total"],
            "rows_quarantined": summary["rows_quarantined"],
            "quarantined_share": summary["quarantined_share"],
            "computed_at": computed_at,
        },
    )
    con.register("validity_reason_rows", reason_rows)
    try:
        con.execute(store.load_sql("monitor_validity_reasons_insert"), {"as_of": as_of})
    finally:
        con.unregister("validity_reason_rows")


def read_validity(since: date | None = None, store_path: StorePath = None) -> pd.DataFrame:
    """Stored validity, one row per day and reason (a day without failures has one row, reason null)."""
    return store.fetch_df("monitor_validity_read", {"since": since}, store_path)
