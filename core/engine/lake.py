"""The lake: the store's events as Parquet partitioned by event date (``events/event_date=…/``) and
its orders as Parquet (``orders/``), in a folder (or, on a cluster, an object store such as
``s3a://bucket/journeyops``, which Spark reads the same way)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

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
            reader = con.sql(store.load_sql(f"lake_export_{table}")).to_arrow_reader(_BATCH_ROWS)
            partitioned = table == "events"
            ds.write_dataset(
                reader,
                target,
                format="parquet",
                partitioning=[PARTITION_COLUMN] if partitioned else None,
                partitioning_flavor="hive" if partitioned else None,
                existing_data_behavior="error",
                max_partitions=MAX_DAYS,
            )
            counts[table] = int(ds.dataset(target, format="parquet", partitioning="hive").count_rows())
    return {"lake": str(root), "rows": counts}
