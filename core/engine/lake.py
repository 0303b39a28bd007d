"""The lake: the store's events as Parquet partitioned by event date (``events/event_date=…/``) and
its orders as Parquet (``orders/``), in a folder (or, on a cluster, an object store such as
``s3a://bucket/journeyops``, which Spark reads the same way).

It is written from the store, so it holds exactly the rows the data contract let in: ``export``
writes a whole store, ``append_loaded`` adds the rows one ingest run loaded (``ingest --to-lake``).
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.dataset as ds

from core import store
from core.config import StorePath
from core.errors import ConfigError

TABLES: tuple[str, ...] = ("events", "orders")
PARTITION_COLUMN = "event_date"
_BATCH_ROWS = 500_000
# One folder per event day: a hundred years of history.
MAX_DAYS = 36_600


def table_path(lake_path: str | Path, table: str) -> str:
    """Where a table of the lake lives (a folder or an object-store prefix)."""
    return f"{str(lake_path).rstrip('/')}/{table}"


def _write(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any], target: Path, table: str) -> int:
    """Write one query's rows into a table folder as new files (existing files stay); the row count."""
    reader = con.sql(sql, params=params).to_arrow_reader(_BATCH_ROWS)
    partitioned = table == "events"
    written = 0

    def count(file: Any) -> None:
        nonlocal written
        written += int(file.metadata.num_rows) if file.metadata is not None else 0

    ds.write_dataset(
        reader,
        target,
        format="parquet",
        partitioning=[PARTITION_COLUMN] if partitioned else None,
        partitioning_flavor="hive" if partitioned else None,
        basename_template=f"part-{uuid.uuid4().hex}-{{i}}.parquet",
        existing_data_behavior="overwrite_or_ignore",
        max_partitions=MAX_DAYS,
        file_visitor=count,
    )
    return written


# `lake_events` / `lake_orders` with every row: the run filter is off.
WHOLE_STORE: dict[str, Any] = {"whole": True, "sources": [""], "since": datetime(1970, 1, 1)}


def export(store_path: StorePath, lake_path: str | Path, *, replace: bool = False) -> dict[str, Any]:
    """Write the store's events and orders to a lake folder; refuses to mix with an existing lake."""
    root = Path(lake_path)
    existing = [t for t in TABLES if (root / t).exists()]
    if existing and not replace:
        held = ", ".join(existing)
        raise ConfigError(f"the lake {root} already holds {held}; run again with --replace to write it anew")
    counts: dict[str, int] = {}
    with store.connect(store_path, read_only=True) as con:
        for table in TABLES:
            target = root / table
            if target.exists():
                shutil.rmtree(target)
            counts[table] = _write(con, store.load_sql(f"lake_{table}"), WHOLE_STORE, target, table)
    return {"lake": str(root), "rows": counts}


def append_loaded(
    store_path: StorePath, lake_path: str | Path, sources: Sequence[str], since: datetime
) -> dict[str, Any]:
    """Add to the lake the rows that files named `sources` loaded into the store at or after `since`
    (one ingest run): the same rows, never the quarantined ones."""
    root = Path(lake_path)
    counts = dict.fromkeys(TABLES, 0)
    if sources:
        params = {"whole": False, "sources": sorted(set(sources)), "since": since}
        with store.connect(store_path, read_only=True) as con:
            for table in TABLES:
                counts[table] = _write(con, store.load_sql(f"lake_{table}"), params, root / table, table)
    return {"lake": str(root), "rows": counts}
