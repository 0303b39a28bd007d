"""What the Operations page shows: job runs per kind, the store's size on disk, and a sample of quarantine."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from core import config, store
from core.config import StorePath

QUARANTINE_SAMPLE = 200


def _folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else 0


def store_size(store_path: StorePath = None) -> dict[str, Any]:
    """Bytes on disk of the store file, its write-ahead log and its model artifacts, and rows per table."""
    path = config.store_path(store_path)
    wal = Path(str(path) + ".wal")
    tables = store.fetch_df("operations_table_rows", {}, path)
    return {
        "store_bytes": path.stat().st_size if path.exists() else 0,
        "wal_bytes": wal.stat().st_size if wal.exists() else 0,
        "models_bytes": _folder_bytes(config.models_dir(path)),
        "tables": tables.astype({"estimated_rows": "int64", "column_count": "int64"}),
    }


def job_summary(store_path: StorePath = None, since: datetime | None = None) -> pd.DataFrame:
    """Grain: job kind — runs, succeeded, failed, abandoned, running, median/max duration (s), latest run."""
    summary = store.fetch_df("operations_job_summary", {"since": since}, store_path)
    counts = ["runs", "succeeded", "failed", "abandoned", "running"]
    return summary.astype(dict.fromkeys(counts, "int64"))


def quarantined_rows(
    store_path: StorePath = None, since: datetime | None = None, limit: int = QUARANTINE_SAMPLE
) -> pd.DataFrame:
    """Grain: quarantined row — source file, row number, reason and the record, newest first (at most `limit`)."""
    return store.fetch_df("operations_quarantine_rows", {"since": since, "limit": limit}, store_path)


def format_bytes(size: float) -> str:
    """A byte count for people: 1.5 MB, 320 kB, 12 B."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{int(size)} B"
