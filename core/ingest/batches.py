"""Checking and writing a batch of landing files of one kind in ONE short transaction.

Each file is prepared first (typed by Arrow, or left for DuckDB to read when its Parquet schema
already has the contract's types); the batch goes into the temp table `ingest_batch`, is checked
set-based (`core/sql/ingest_check_*.sql` keep only the exceptions; the insert anti-joins them), and
its files are recorded. If DuckDB cannot read a file its schema promised, the transaction rolls
back and the batch is retried through Arrow.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from core import logs, store
from core.config import StorePath
from core.errors import ContractError
from core.ingest import checked, readers
from core.ingest.columns import normalise_landing
from core.ingest.contract import contract_params, direct_parquet_rows, landing_kind


@dataclass(frozen=True)
class PreparedFile:
    """A landing file ready to be checked in the store: typed by Arrow, or (batch None) read by
    DuckDB."""

    path: Path
    kind: str
    sha256: str
    num_rows: int
    raw: pa.Table | None = None
    batch: pa.Table | None = None


def guarded(work: Any, *args: Any) -> Any:
    """Run work(*args) in a worker thread, handing a ContractError back as a value."""
    try:
        return work(*args)
    except ContractError as exc:
        return exc


def prepare_landing(path: Path, sha256: str, direct_ok: bool = True) -> PreparedFile:
    """Read and type a landing file, or (direct_ok) only count the rows DuckDB will read itself."""
    kind = landing_kind(path)
    if direct_ok and (rows := direct_parquet_rows(path, kind)) is not None:
        return PreparedFile(path, kind, sha256, rows)
    raw = readers.read_table(path)
    return PreparedFile(path, kind, sha256, raw.num_rows, raw, normalise_landing(path, raw, kind))


def file_summary(path: Path, kind: str, **counts: Any) -> dict[str, Any]:
    """The summary of one landing file: zero counts, status loaded, unless counts say otherwise."""
    summary: dict[str, Any] = {
        "path": str(path),
        "kind": kind,
        "status": "loaded",
        "rows_read": 0,
        "rows_loaded": 0,
        "rows_quarantined": 0,
        "rows_duplicate": 0,
        "warnings": [],
    }
    summary.update(counts)
    return summary


def _fill_batch(con: Any, kind: str, files: Sequence[PreparedFile]) -> None:
    """Fill the temp table ingest_batch: every row of the files, typed, with file_index and
    row_number."""
    con.execute(store.load_sql(f"ingest_batch_{kind}"))
    direct = [(i, str(f.path)) for i, f in enumerate(files) if f.batch is None]
    if direct:
        try:
            con.execute(
                store.load_sql(f"ingest_read_{kind}"),
                {"paths": [p for _, p in direct], "file_indexes": [i for i, _ in direct]},
            )
        except duckdb.Error as exc:
            raise checked.DirectReadFailed(str(exc)) from exc
    typed = [
        f.batch.append_column("file_index", pa.array(np.full(f.batch.num_rows, i, dtype=np.int32)))
        for i, f in enumerate(files)
        if f.batch is not None
    ]
    if typed:
        con.register("ingest_arrow_batch", pa.concat_tables(typed))
        con.execute(store.load_sql("ingest_batch_from_arrow"))
        con.unregister("ingest_arrow_batch")


def _check_and_insert(
    con: Any, kind: str, files: Sequence[PreparedFile], latest_allowed_at: datetime
) -> list[tuple[int, int, int]]:
    """Inside an open transaction: check the files' rows, insert the good ones, quarantine the
    bad."""
    loaded_at = store.utcnow()
    _fill_batch(con, kind, files)
    sources = [f.path.name for f in files]
    con.execute(store.load_sql(f"ingest_check_{kind}"), contract_params(kind, latest_allowed_at))
    con.execute(store.load_sql(f"ingest_insert_{kind}"), {"sources": sources, "loaded_at": loaded_at})
    raw_by_file = [f.raw if f.raw is not None else f.path for f in files]
    checked.quarantine_rejected(con, raw_by_file, sources, loaded_at)
    counts = checked.checked_counts(con, [f.num_rows for f in files])
    checked.record_files(
        con,
        [(f.sha256, str(f.path), kind, c[0], c[1]) for f, c in zip(files, counts, strict=True)],
        loaded_at,
    )
    con.execute("drop table ingest_checked")
    con.execute("drop table ingest_batch")
    return counts


def _load_landing_batch(
    store_path: StorePath, kind: str, prepared: Sequence[PreparedFile], latest_allowed_at: datetime
) -> list[dict[str, Any]]:
    """Check and insert prepared files of one kind in ONE short write transaction; per-file
    summaries."""
    with store.transaction(store_path) as con:
        # Checked again inside the transaction: another process may have loaded a file meanwhile.
        seen = checked.seen_hashes(con, [f.sha256 for f in prepared])
        files = [f for f in prepared if f.sha256 not in seen]
        if files:
            counts = _check_and_insert(con, kind, files, latest_allowed_at)
            logs.pause_point(f"ingest:{kind}:in_transaction")
    logs.pause_point(f"ingest:{kind}:after_commit")
    done = {f.path: c for f, c in zip(files, counts, strict=True)} if files else {}
    return [
        file_summary(
            f.path,
            kind,
            rows_read=f.num_rows,
            rows_loaded=done[f.path][0],
            rows_quarantined=done[f.path][1],
            rows_duplicate=done[f.path][2],
            warnings=["the file has no data rows"] if f.num_rows == 0 else [],
        )
        if f.path in done
        else file_summary(f.path, kind, status="already loaded", first_loaded_at=seen[f.sha256])
        for f in prepared
    ]


def load_landing_batch(
    store_path: StorePath,
    kind: str,
    prepared: Sequence[PreparedFile],
    latest_allowed_at: datetime,
    rejected: list[dict[str, str]],
) -> list[dict[str, Any]]:
    """Load a batch of prepared files of one kind; per-file summaries.

    If DuckDB cannot read a file its schema promised, all go through Arrow, and the files Arrow
    cannot read either are added to `rejected`.
    """
    try:
        return _load_landing_batch(store_path, kind, prepared, latest_allowed_at)
    except checked.DirectReadFailed:
        pass  # rolled back: nothing of the batch was written
    retyped: list[PreparedFile] = []
    for f in prepared:
        again = f if f.batch is not None else guarded(prepare_landing, f.path, f.sha256, False)
        if isinstance(again, ContractError):
            rejected.append({"path": str(f.path), "error": str(again)})
        else:
            retyped.append(again)
    if not retyped:
        return []
    return _load_landing_batch(store_path, kind, retyped, latest_allowed_at)
