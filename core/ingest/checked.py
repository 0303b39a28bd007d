"""What a checked batch leaves besides its rows, for landing files and imported logs alike: the
rejected rows in `quarantine` (raw record as JSON, with the reason), the per-file counts, and the
files-seen record in `ingested_files` by sha256, so the same file again is a no-op."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from core import store
from core.errors import ContractError
from core.ingest import readers


class DirectReadFailed(Exception):
    """DuckDB could not read a Parquet file its schema promised; the batch is retried through
    Arrow."""


def sha256_of(path: Path) -> str:
    """The sha256 of a file's bytes, the key of the files-seen record."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def seen_hashes(con: Any, hashes: Sequence[str]) -> dict[str, str]:
    """The hashes among these already recorded, with when each was first loaded."""
    if not hashes:
        return {}
    seen = con.execute(store.load_sql("ingest_files_seen"), {"sha256s": list(hashes)}).fetchall()
    return {sha: str(at) for sha, at in seen}


def quarantine_rejected(
    con: Any,
    raw_by_file: Sequence[pd.DataFrame | pa.Table | Path],
    sources: Sequence[str],
    at: datetime,
) -> None:
    """Copy the rejected rows of the checked batch, with their raw record as JSON, to quarantine."""
    rejected = con.execute(store.load_sql("ingest_rejected_rows")).df()
    if rejected.empty:
        return
    parts = []
    for file_index, rows in rejected.groupby("file_index", sort=True):
        positions = rows["row_number"].to_numpy() - 1
        raw = raw_by_file[int(file_index)]
        if isinstance(raw, Path):
            try:
                # A file DuckDB read: its raw records are needed only now.
                raw = readers.read_parquet(raw)
            except ContractError as exc:
                # Retried through Arrow, which rejects it.
                raise DirectReadFailed(str(exc)) from exc
        if isinstance(raw, pa.Table):
            picked = raw.take(pa.array(positions)).to_pandas()
        else:
            picked = raw.iloc[positions]
        records = picked.to_json(orient="records", lines=True, date_format="iso", default_handler=str)
        parts.append(rows.assign(source=sources[int(file_index)], record=records.splitlines()))
    quarantine_rows = pd.concat(parts, ignore_index=True)
    con.register("ingest_quarantine_rows", quarantine_rows)
    con.execute(store.load_sql("ingest_insert_quarantine"), {"quarantined_at": at})
    con.unregister("ingest_quarantine_rows")


def checked_counts(con: Any, rows_per_file: Sequence[int]) -> list[tuple[int, int, int]]:
    """(loaded, quarantined, duplicate) per file of the checked batch.

    The checks keep only the exceptions, so loaded is the rest.
    """
    exceptions = [(0, 0)] * len(rows_per_file)
    counted = con.execute(store.load_sql("ingest_checked_counts")).fetchall()
    for file_index, quarantined, duplicate in counted:
        exceptions[int(file_index)] = (int(quarantined), int(duplicate))
    return [(n - q - d, q, d) for n, (q, d) in zip(rows_per_file, exceptions, strict=True)]


def record_files(con: Any, files: Sequence[tuple[str, str, str, int, int]], at: datetime) -> None:
    """Record files as loaded: (sha256, path, kind, rows_loaded, rows_quarantined) each."""
    file_rows = pd.DataFrame(files, columns=["sha256", "path", "kind", "rows_loaded", "rows_quarantined"])
    con.register("ingest_file_rows", file_rows)
    con.execute(store.load_sql("ingest_record_files"), {"loaded_at": at})
    con.unregister("ingest_file_rows")
