"""Ingestion and the data contract: landing files (CSV/Parquet) and real event logs (CSV/Parquet/XES).

How the contract is enforced:
- a Parquet file whose contract columns already carry the contract's types (text, float/int,
  zoned timestamps) is read by DuckDB straight into the batch, checked from its schema first;
  any other file is read and typed completely (pyarrow, vectorised, in threads) before any write.
  A file that cannot be read, lacks a required column or has the wrong types raises
  `ContractError` ("<file>: <problem>; <fix>") and writes nothing;
- bad rows (missing id, unknown stage, unparseable or future timestamp, stage out of order,
  conflicting duplicate) go to `quarantine` with the raw record as JSON and the reason; the rest loads;
- files of one kind are checked and inserted set-based in DuckDB, a batch of files in ONE
  transaction (`core/sql/ingest_check_*.sql` keep only the exceptions; the insert anti-joins them),
  and recorded in `ingested_files` by sha256, so the same file again is a no-op and the same rows
  again are skipped. Each batch writes in one short transaction, so readers (the dashboard) are
  locked out only while a batch is read (DuckDB reads Parquet in parallel) and written.

Timestamp rule: everything is stored as UTC `TIMESTAMP`. Zoned values are converted to UTC. In a
landing CSV a timestamp without an offset is ambiguous, so the file is rejected (write `Z` or
`+00:00`); a typed Parquet timestamp without a zone is taken as UTC, as the landing contract says its
columns are UTC. An imported log's naive timestamps are read in `tz` (default UTC).
Extra columns in a landing file are accepted and ignored (they stay in quarantined raw records).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import os
import re
import time
import zlib
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from tqdm import tqdm

from core import domain, store
from core.config import StorePath
from core.errors import ConfigError, ContractError
from core.ingest import xes

PathLike = str | os.PathLike[str]

# A clock on the producer's side may run a little ahead of ours; later than this is "in the future".
CLOCK_SKEW = timedelta(minutes=5)
# Files of one kind are checked together up to this many rows (one transaction); bounds memory.
# Rows DuckDB reads into its own batch table cost far less than rows typed in Arrow (4.3M events
# of direct Parquet peak at ≈ 1.1 GB, 2M Arrow rows at ≈ 1.3 GB), and every batch re-reads the
# stored events of its orders, so direct rows get the larger budget.
MAX_BATCH_ROWS = 5_000_000
MAX_ARROW_BATCH_ROWS = 2_000_000
# Reading and typing files runs in threads (pyarrow releases the GIL); files handed out per round.
READ_THREADS = 4
READ_CHUNK_FILES = 32
KINDS: tuple[str, ...] = ("orders", "events", "contacts")
# Contract columns of each landing file kind and the type each must carry.
LANDING_COLUMNS: dict[str, dict[str, str]] = {
    "orders": {
        "order_id": "text",
        "placed_at": "timestamp",
        "channel": "text",
        "region": "text",
        "customer_tier": "text",
        "category": "text",
        "order_value": "float",
        "items": "int",
        "payment_method": "text",
        "ship_mode": "text",
        "warehouse": "text",
        "carrier": "text",
        "promised_at": "timestamp",
    },
    "events": {"event_id": "text", "order_id": "text", "stage": "text", "event_ts": "timestamp"},
    "contacts": {"contact_id": "text", "order_id": "text", "contact_at": "timestamp", "reason": "text"},
}
LANDING_SUFFIXES: tuple[str, ...] = (".parquet", ".csv", ".csv.gz")
LOG_SUFFIXES: tuple[str, ...] = (".xes", ".xes.gz", ".csv", ".csv.gz", ".parquet")
# Default mapping of an imported log: the XES keys first, then plain names.
DEFAULT_CASE_COLS: tuple[str, ...] = ("case:concept:name", "case_id", "case")
DEFAULT_ACTIVITY_COLS: tuple[str, ...] = ("concept:name", "activity")
DEFAULT_TIME_COLS: tuple[str, ...] = ("time:timestamp", "timestamp")
LIFECYCLE_COLS: tuple[str, ...] = ("lifecycle:transition", "lifecycle")
CASE_ATTRIBUTE_PREFIXES: tuple[str, ...] = ("case:", "(case)_")
# An event attribute with one value in at least this share of cases is read as a case attribute.
CASE_ATTRIBUTE_MIN_SHARE = 0.98

_NUMBER = r"^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$"
_INTEGER = r"^\s*[-+]?\d+(\.0*)?\s*$"
_FILE_DAY = re.compile(r"_(\d{4}-\d{2}-\d{2})\.")
# An offset at the end of a time of day: "…10:00Z", "…10:00:00.5+02:00", "… 10:00 +0100".
_OFFSET = r"(?i)\d:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:z|utc|gmt|[+-]\d{2}(?::?\d{2})?)$"


# ----------------------------------------------------------------------------------------------
# reading files


def _file_problem(path: Path, problem: str, fix: str) -> ContractError:
    # One line, always: values quoted from a file must not break the CLI's single-line message.
    text = f"{path}: {problem}; {fix}".replace("\r", " ").replace("\n", " ")
    return ContractError(text)


def _has_suffix(path: Path, suffixes: Iterable[str]) -> bool:
    name = path.name.lower()
    return any(name.endswith(s) for s in suffixes)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _read_csv_header(path: Path) -> list[str]:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8-sig", newline="") as f:  # type: ignore[operator]
            first_line = f.readline()
    except (gzip.BadGzipFile, EOFError, zlib.error, OSError) as exc:
        raise _file_problem(path, f"the gzip stream is damaged or not gzip at all ({exc})", "copy the file again") from exc
    except UnicodeDecodeError as exc:
        raise _file_problem(path, "the file is not UTF-8 text (binary data?)", "write it as UTF-8 CSV") from exc
    if not first_line.strip():
        raise _file_problem(path, "the file is empty (no header line)", "write a header row and the data")
    return next(csv.reader([first_line]))


def read_csv_text(path: PathLike) -> pa.Table:
    """Read a comma-separated file (plain or gzip) with every column as text; only '' is null."""
    source = Path(path)
    names = _read_csv_header(source)
    try:
        return pacsv.read_csv(
            source,
            read_options=pacsv.ReadOptions(use_threads=True, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(delimiter=","),
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.string() for name in names},
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )
    except (pa.ArrowInvalid, OSError, EOFError, zlib.error) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if source.name.lower().endswith(".gz") and any(w in detail.lower() for w in ("compress", "gzip", "zlib")):
            raise _file_problem(source, f"the gzip stream is damaged or cut short ({detail})", "copy the file again") from exc
        raise _file_problem(source, f"cannot be parsed as CSV ({detail})", "write a valid comma-separated file") from exc


def read_parquet(path: PathLike) -> pa.Table:
    """Read a Parquet file; raises ContractError if it is not one."""
    source = Path(path)
    if source.stat().st_size == 0:
        raise _file_problem(source, "the file is empty (0 bytes)", "write the Parquet file again")
    try:
        return pq.read_table(source)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as exc:
        raise _file_problem(
            source, f"not a readable Parquet file ({str(exc).splitlines()[0]})", "write it with a Parquet writer"
        ) from exc


# Arrow types DuckDB reads into exactly the values the Arrow path would produce; a file whose
# contract columns all have one of these is read by DuckDB directly. Exactly the store's types:
# one read over many files takes the first file's types, so a float32 first would narrow a float64.
def _is_direct_type(kind_of_column: str, value_type: pa.DataType) -> bool:
    if kind_of_column == "text":
        return pa.types.is_string(value_type) or pa.types.is_large_string(value_type)
    if kind_of_column == "float":
        return value_type == pa.float64()
    if kind_of_column == "int":
        return value_type == pa.int32()
    # Zoned only (UTC instants, read as TIMESTAMPTZ whatever the unit); naive or nanosecond ones
    # take the Arrow path.
    return pa.types.is_timestamp(value_type) and value_type.tz is not None and value_type.unit != "ns"


def _direct_parquet_rows(path: Path, kind: str) -> int | None:
    """Rows of a Parquet file DuckDB can read straight into the batch, from its footer; None: use Arrow."""
    if not path.name.lower().endswith(".parquet"):
        return None
    try:
        parquet = pq.ParquetFile(path)
        schema = parquet.schema_arrow
        rows = parquet.metadata.num_rows
    except (pa.ArrowException, OSError, ValueError):
        return None  # the Arrow path reads it again and says what is wrong
    names = schema.names
    if len(names) != len(set(names)):
        return None
    for name, kind_of_column in LANDING_COLUMNS[kind].items():
        if name not in names or not _is_direct_type(kind_of_column, schema.field(name).type):
            return None
    return int(rows)


def _read_table(path: Path) -> pa.Table:
    if path.name.lower().endswith(".parquet"):
        return read_parquet(path)
    return read_csv_text(path)


# ----------------------------------------------------------------------------------------------
# typing columns (vectorised; a wrongly typed column rejects the file)


def _first_violation(values: pa.Array, pattern: str) -> str | None:
    text = values.cast(pa.string())
    bad = pc.and_(pc.is_valid(text), pc.invert(pc.match_substring_regex(text, pattern)))
    position = pc.index(pc.fill_null(bad, False), True).as_py()
    if position < 0:
        return None
    return f"row {position + 1}: {str(text[position].as_py())[:40]!r}"


def _to_number(path: Path, name: str, values: pa.ChunkedArray, kind: str) -> pa.ChunkedArray:
    target = pa.float64() if kind == "float" else pa.int32()
    if pa.types.is_null(values.type):
        return values.cast(target)
    if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
        violation = _first_violation(values.combine_chunks(), _INTEGER if kind == "int" else _NUMBER)
        if violation:
            raise _file_problem(
                path, f"column {name} has text where a number is expected ({violation})", "write plain numbers only"
            )
        values = pc.utf8_trim_whitespace(values).cast(pa.float64())
    elif not (pa.types.is_integer(values.type) or pa.types.is_floating(values.type)):
        raise _file_problem(path, f"column {name} is of type {values.type}, not a number", "write numbers")
    if kind == "int" and pa.types.is_floating(values.type):
        if pc.any(pc.not_equal(values, pc.floor(values))).as_py():
            raise _file_problem(path, f"column {name} has fractional values", "write whole numbers")
    try:
        return values.cast(target)  # a safe cast: an integer out of range is an error, not a wrap-around
    except pa.ArrowInvalid as exc:
        raise _file_problem(path, f"column {name} has values out of range ({exc})", f"write {kind}s that fit") from exc


def parse_text_timestamps(values: pa.ChunkedArray | pa.Array, tz: str = "UTC") -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """Parse ISO-8601 text to naive UTC timestamps: (values, is_naive, is_unparseable); naive text is read in tz."""
    text = pd.Series(values.to_pandas(), dtype="object").str.strip().replace("", None)
    has_offset = text.str.contains(_OFFSET, regex=True, na=False).to_numpy()
    parsed = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns, UTC]")
    if has_offset.any():
        parsed[has_offset] = pd.to_datetime(text[has_offset], format="ISO8601", errors="coerce", utc=True)
    naive = ~has_offset & text.notna().to_numpy()
    if naive.any():
        local = pd.to_datetime(text[naive], format="ISO8601", errors="coerce")
        parsed[naive] = local.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT").dt.tz_convert("UTC")
    present = text.notna().to_numpy()
    is_bad = present & parsed.isna().to_numpy()
    utc_naive = parsed.dt.tz_localize(None).astype("datetime64[us]")
    return pa.array(utc_naive, type=pa.timestamp("us")), naive & ~is_bad, is_bad


def _to_timestamp(path: Path, name: str, values: pa.ChunkedArray, *, naive_ok: bool, tz: str) -> tuple[pa.Array, pa.Array]:
    """(UTC timestamps, unparseable flags) of a column; naive text rejects the file unless naive_ok."""
    if pa.types.is_timestamp(values.type):
        if values.type.tz is not None:
            values = values.cast(pa.timestamp("us", tz="UTC"), safe=False)
        utc = values.cast(pa.timestamp("us"), safe=False).combine_chunks()
        return utc, pa.nulls(len(utc), pa.bool_()).fill_null(False)
    if pa.types.is_date(values.type) or pa.types.is_null(values.type):
        utc = values.cast(pa.timestamp("us")).combine_chunks()
        return utc, pa.nulls(len(utc), pa.bool_()).fill_null(False)
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        raise _file_problem(
            path, f"column {name} is of type {values.type}, not a timestamp", "write ISO-8601 timestamps with an offset"
        )
    parsed, is_naive, is_bad = parse_text_timestamps(values, tz)
    if is_naive.any() and not naive_ok:
        position = int(np.argmax(is_naive))
        raise _file_problem(
            path,
            f"column {name} has timestamps without a time zone (row {position + 1}: "
            f"{str(values[position].as_py())[:40]!r}), which are ambiguous",
            "write offsets, e.g. 2026-03-01T10:00:00Z or +00:00",
        )
    return parsed, pa.array(is_bad, type=pa.bool_())


def _delimiter_hint(names: Sequence[str]) -> str:
    if len(names) == 1:
        for delimiter, label in ((";", "semicolon"), ("\t", "tab"), ("|", "pipe")):
            if delimiter in names[0]:
                return f" — the header looks {label}-separated"
    return ""


def _require_columns(path: Path, found: Sequence[str], required: Iterable[str], fix: str) -> None:
    missing = [c for c in required if c not in found]
    if missing:
        shown = ", ".join(str(c)[:60] for c in found[:20]) or "none"
        raise _file_problem(
            path,
            f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
            f"(found: {shown}){_delimiter_hint(list(found))}",
            fix,
        )


def landing_kind(path: PathLike) -> str:
    """The kind of a landing file from its name prefix: orders, events or contacts."""
    source = Path(path)
    name = source.name.lower()
    for kind in KINDS:
        if name.startswith(kind + "_") and _has_suffix(source, LANDING_SUFFIXES):
            return kind
    raise _file_problem(
        source,
        "not a landing file name",
        "name it orders_<day>, events_<day> or contacts_<day> with .parquet, .csv or .csv.gz",
    )


def normalise_landing(path: PathLike, raw: pa.Table, kind: str) -> pa.Table:
    """The contract columns of a landing table with their types, plus row_number and <ts>_bad flags."""
    source = Path(path)
    columns = LANDING_COLUMNS[kind]
    _require_columns(source, raw.column_names, columns, f"write every column of the {kind} contract: {', '.join(columns)}")
    if raw.num_columns != len(set(raw.column_names)):
        raise _file_problem(source, "the header repeats a column name", "write each column once")
    arrays: dict[str, pa.Array | pa.ChunkedArray] = {
        "row_number": pa.array(np.arange(1, raw.num_rows + 1, dtype=np.int64))
    }
    for name, kind_of_column in columns.items():
        values = raw.column(name)
        if kind_of_column == "text":
            if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)
                    or pa.types.is_integer(values.type) or pa.types.is_dictionary(values.type)
                    or pa.types.is_null(values.type)):
                raise _file_problem(source, f"column {name} is of type {values.type}, not text", "write it as text")
            arrays[name] = values.cast(pa.string())
        elif kind_of_column in ("float", "int"):
            arrays[name] = _to_number(source, name, values, kind_of_column)
        else:
            parsed, is_bad = _to_timestamp(source, name, values, naive_ok=False, tz="UTC")
            arrays[name] = parsed
            arrays[f"{name}_bad"] = is_bad
    return pa.table(arrays)


# ----------------------------------------------------------------------------------------------
# writing checked batches


@dataclass(frozen=True)
class _PreparedFile:
    """A landing file ready to be checked in the store: typed by Arrow, or (batch None) read by DuckDB."""

    path: Path
    kind: str
    sha256: str
    num_rows: int
    raw: pa.Table | None = None
    batch: pa.Table | None = None


class _DirectReadFailed(Exception):
    """DuckDB could not read a Parquet file its schema promised; the batch is retried through Arrow."""


def _latest_allowed(now: datetime | None) -> datetime:
    moment = now if now is not None else store.utcnow()
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment + CLOCK_SKEW


def _contract_params(kind: str, latest_allowed_at: datetime) -> dict[str, Any]:
    if kind != "events":
        return {"latest_allowed_at": latest_allowed_at}
    return {
        "known_stages": sorted(domain.KNOWN_STAGES),
        "ranked_stages": list(domain.STAGES),
        "terminal_stages": list(domain.TERMINAL),
        "latest_allowed_at": latest_allowed_at,
    }


def _quarantine_rejected(
    con: Any, raw_by_file: Sequence[pd.DataFrame | pa.Table | Path], sources: Sequence[str], at: datetime
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
                raw = read_parquet(raw)  # a file DuckDB read: its raw records are needed only now
            except ContractError as exc:
                raise _DirectReadFailed(str(exc)) from exc  # retried through Arrow, which rejects it
        picked = raw.take(pa.array(positions)).to_pandas() if isinstance(raw, pa.Table) else raw.iloc[positions]
        records = picked.to_json(orient="records", lines=True, date_format="iso", default_handler=str)
        parts.append(rows.assign(source=sources[int(file_index)], record=records.splitlines()))
    quarantine_rows = pd.concat(parts, ignore_index=True)
    con.register("ingest_quarantine_rows", quarantine_rows)
    con.execute(store.load_sql("ingest_insert_quarantine"), {"quarantined_at": at})
    con.unregister("ingest_quarantine_rows")


def _checked_counts(con: Any, rows_per_file: Sequence[int]) -> list[tuple[int, int, int]]:
    """(loaded, quarantined, duplicate) per file of the checked batch; the checks keep only exceptions."""
    exceptions = [(0, 0)] * len(rows_per_file)
    for file_index, quarantined, duplicate in con.execute(store.load_sql("ingest_checked_counts")).fetchall():
        exceptions[int(file_index)] = (int(quarantined), int(duplicate))
    return [(n - q - d, q, d) for n, (q, d) in zip(rows_per_file, exceptions, strict=True)]


def _record_files(con: Any, files: Sequence[tuple[str, str, str, int, int]], at: datetime) -> None:
    file_rows = pd.DataFrame(files, columns=["sha256", "path", "kind", "rows_loaded", "rows_quarantined"])
    con.register("ingest_file_rows", file_rows)
    con.execute(store.load_sql("ingest_record_files"), {"loaded_at": at})
    con.unregister("ingest_file_rows")


def _seen_hashes(con: Any, hashes: Sequence[str]) -> dict[str, str]:
    if not hashes:
        return {}
    seen = con.execute(store.load_sql("ingest_files_seen"), {"sha256s": list(hashes)}).fetchall()
    return {sha: str(at) for sha, at in seen}


def _file_summary(path: Path, kind: str, **counts: Any) -> dict[str, Any]:
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


def _load_landing_batch(
    store_path: StorePath, kind: str, prepared: Sequence[_PreparedFile], latest_allowed_at: datetime
) -> list[dict[str, Any]]:
    """Check and insert prepared files of one kind in ONE short write transaction; per-file summaries."""
    with store.transaction(store_path) as con:
        # Checked again inside the transaction: another process may have loaded a file meanwhile.
        seen = _seen_hashes(con, [f.sha256 for f in prepared])
        files = [f for f in prepared if f.sha256 not in seen]
        if files:
            counts = _check_and_insert(con, kind, files, latest_allowed_at)
    done = {f.path: c for f, c in zip(files, counts, strict=True)} if files else {}
    return [
        _file_summary(
            f.path,
            kind,
            rows_read=f.num_rows,
            rows_loaded=done[f.path][0],
            rows_quarantined=done[f.path][1],
            rows_duplicate=done[f.path][2],
            warnings=["the file has no data rows"] if f.num_rows == 0 else [],
        )
        if f.path in done
        else _file_summary(f.path, kind, status="already loaded", first_loaded_at=seen[f.sha256])
        for f in prepared
    ]


def _check_and_insert(
    con: Any, kind: str, files: Sequence[_PreparedFile], latest_allowed_at: datetime
) -> list[tuple[int, int, int]]:
    """Inside an open transaction: check the files' rows, insert the good ones, quarantine the bad."""
    loaded_at = store.utcnow()
    _fill_batch(con, kind, files)
    sources = [f.path.name for f in files]
    con.execute(store.load_sql(f"ingest_check_{kind}"), _contract_params(kind, latest_allowed_at))
    con.execute(store.load_sql(f"ingest_insert_{kind}"), {"sources": sources, "loaded_at": loaded_at})
    _quarantine_rejected(con, [f.raw if f.raw is not None else f.path for f in files], sources, loaded_at)
    counts = _checked_counts(con, [f.num_rows for f in files])
    _record_files(
        con, [(f.sha256, str(f.path), kind, c[0], c[1]) for f, c in zip(files, counts, strict=True)], loaded_at
    )
    con.execute("drop table ingest_checked")
    con.execute("drop table ingest_batch")
    return counts


def _fill_batch(con: Any, kind: str, files: Sequence[_PreparedFile]) -> None:
    """The temp table ingest_batch: every row of the files, typed, with file_index and row_number."""
    con.execute(store.load_sql(f"ingest_batch_{kind}"))
    direct = [(i, str(f.path)) for i, f in enumerate(files) if f.batch is None]
    if direct:
        try:
            con.execute(
                store.load_sql(f"ingest_read_{kind}"),
                {"paths": [p for _, p in direct], "file_indexes": [i for i, _ in direct]},
            )
        except duckdb.Error as exc:
            raise _DirectReadFailed(str(exc)) from exc
    typed = [
        f.batch.append_column("file_index", pa.array(np.full(f.batch.num_rows, i, dtype=np.int32)))
        for i, f in enumerate(files)
        if f.batch is not None
    ]
    if typed:
        con.register("ingest_arrow_batch", pa.concat_tables(typed))
        con.execute(store.load_sql("ingest_batch_from_arrow"))
        con.unregister("ingest_arrow_batch")


def _prepare_landing(path: Path, sha256: str, direct_ok: bool = True) -> _PreparedFile:
    kind = landing_kind(path)
    if direct_ok and (rows := _direct_parquet_rows(path, kind)) is not None:
        return _PreparedFile(path, kind, sha256, rows)
    raw = _read_table(path)
    return _PreparedFile(path, kind, sha256, raw.num_rows, raw, normalise_landing(path, raw, kind))


def _load_landing_batch_safely(
    store_path: StorePath,
    kind: str,
    prepared: Sequence[_PreparedFile],
    latest_allowed_at: datetime,
    rejected: list[dict[str, str]],
) -> list[dict[str, Any]]:
    """_load_landing_batch; if DuckDB cannot read a file its schema promised, all go through Arrow."""
    try:
        return _load_landing_batch(store_path, kind, prepared, latest_allowed_at)
    except _DirectReadFailed:
        pass  # rolled back: nothing of the batch was written
    retyped: list[_PreparedFile] = []
    for f in prepared:
        again = f if f.batch is not None else _guarded(_prepare_landing, f.path, f.sha256, False)
        if isinstance(again, ContractError):
            rejected.append({"path": str(f.path), "error": str(again)})
        else:
            retyped.append(again)
    return _load_landing_batch(store_path, kind, retyped, latest_allowed_at) if retyped else []


def landing_files(paths: Iterable[PathLike]) -> tuple[list[Path], list[Path]]:
    """(landing files to load, in order, and other files found in folders); orders, events, contacts."""
    files: list[Path] = []
    ignored: list[Path] = []
    for item in map(Path, paths):
        if item.is_dir():
            for child in sorted(p for p in item.rglob("*") if p.is_file()):
                try:
                    landing_kind(child)
                except ContractError:
                    if child.name != "manifest.json" and not child.name.startswith("."):
                        ignored.append(child)
                    continue
                files.append(child)
        elif item.is_file():
            files.append(item)
        else:
            raise _file_problem(item, "no such file or folder", "check the path")
    # Orders first, so an order exists before its events; files of one kind in name (day) order.
    rank = {kind: i for i, kind in enumerate(KINDS)}

    def load_order(p: Path) -> tuple[int, str]:
        name = p.name.lower()
        return (next((rank[k] for k in KINDS if name.startswith(k + "_")), len(KINDS)), name)

    return sorted(dict.fromkeys(files), key=load_order), ignored


def _file_day(path: Path) -> date | None:
    """The day in a landing file's name (orders_2026-03-02.parquet), if there is one."""
    found = _FILE_DAY.search(path.name)
    if found is None:
        return None
    try:
        return date.fromisoformat(found.group(1))
    except ValueError:
        return None


def _guarded(work: Any, *args: Any) -> Any:
    """Run work(*args) in a worker thread, handing a ContractError back as a value."""
    try:
        return work(*args)
    except ContractError as exc:
        return exc


def ingest_paths(
    paths: Sequence[PathLike],
    *,
    store_path: StorePath = None,
    now: datetime | None = None,
    raise_on_reject: bool = True,
    through: date | None = None,
) -> dict[str, Any]:
    """Load landing files or folders: files already loaded are skipped, bad files rejected, the rest loaded.

    Files are checked in batches of one kind (up to MAX_BATCH_ROWS rows, of which at most
    MAX_ARROW_BATCH_ROWS typed by Arrow; one transaction each). A rejected file writes nothing;
    with raise_on_reject (the CLI) it raises ContractError after the other files are loaded,
    carrying the summary as `.summary`.
    `now` is the instant after which a timestamp is "in the future" (a daily job passes the end of
    its as-of day); with `through`, files whose name carries a later day (`events_2026-03-02`) are
    left for a later run instead of having their events quarantined as future ones.
    """
    started = time.perf_counter()
    files, ignored = landing_files(paths)
    not_yet_due: list[Path] = []
    if through is not None:
        not_yet_due = [p for p in files if (day := _file_day(p)) is not None and day > through]
        files = [p for p in files if p not in set(not_yet_due)]
    latest_allowed_at = _latest_allowed(now)
    per_file: list[dict[str, Any]] = []
    rejected: list[dict[str, str]] = []
    progress = tqdm(total=len(files), desc="ingest", unit="file", disable=None, leave=False)
    with ThreadPoolExecutor(max_workers=READ_THREADS) as pool:
        hashes = list(pool.map(_sha256, files))
        # Short connections only (a reader is locked out while one is open): a quick look here,
        # then one transaction per batch of files.
        with store.connect(store_path) as con:
            seen = _seen_hashes(con, hashes)
        todo: list[tuple[Path, str, str]] = []
        for path, sha256 in zip(files, hashes, strict=True):
            kind = _guarded(landing_kind, path)
            if isinstance(kind, ContractError):
                rejected.append({"path": str(path), "error": str(kind)})
                progress.update()
            elif sha256 in seen:
                per_file.append(_file_summary(path, kind, status="already loaded", first_loaded_at=seen[sha256]))
                progress.update()
            else:
                seen[sha256] = "this run"  # the same content under two names loads once
                todo.append((path, sha256, kind))
        for kind in KINDS:
            kind_files = [(p, s) for p, s, k in todo if k == kind]
            pending: list[_PreparedFile] = []
            pending_rows = pending_arrow_rows = 0
            for start in range(0, len(kind_files), READ_CHUNK_FILES):
                chunk = kind_files[start : start + READ_CHUNK_FILES]
                prepared_chunk = pool.map(lambda item: _guarded(_prepare_landing, *item), chunk)
                for (path, _), prepared in zip(chunk, prepared_chunk, strict=True):
                    progress.update()
                    if isinstance(prepared, ContractError):
                        rejected.append({"path": str(path), "error": str(prepared)})
                        continue
                    pending.append(prepared)
                    pending_rows += prepared.num_rows
                    pending_arrow_rows += prepared.num_rows if prepared.batch is not None else 0
                    if pending_rows >= MAX_BATCH_ROWS or pending_arrow_rows >= MAX_ARROW_BATCH_ROWS:
                        per_file.extend(
                            _load_landing_batch_safely(store_path, kind, pending, latest_allowed_at, rejected)
                        )
                        pending, pending_rows, pending_arrow_rows = [], 0, 0
            if pending:
                per_file.extend(_load_landing_batch_safely(store_path, kind, pending, latest_allowed_at, rejected))
    progress.close()
    loaded = [f for f in per_file if f["status"] == "loaded"]
    summary: dict[str, Any] = {
        "files_loaded": len(loaded),
        "files_already_loaded": len(per_file) - len(loaded),
        "files_rejected": len(rejected),
        "rows_loaded": {kind: sum(f["rows_loaded"] for f in loaded if f["kind"] == kind) for kind in KINDS},
        "rows_quarantined": sum(f["rows_quarantined"] for f in loaded),
        "rows_duplicate": sum(f["rows_duplicate"] for f in loaded),
        "files": per_file,
        "rejected": rejected,
        "ignored_files": [str(p) for p in ignored],
        "not_yet_due_files": [str(p) for p in not_yet_due],
        "seconds": round(time.perf_counter() - started, 3),
    }
    if rejected and raise_on_reject:
        more = f" (and {len(rejected) - 1} more rejected files)" if len(rejected) > 1 else ""
        error = ContractError(rejected[0]["error"] + more)
        error.summary = summary  # type: ignore[attr-defined]
        raise error
    return summary


def ingest_file(path: PathLike, *, store_path: StorePath = None, now: datetime | None = None) -> dict[str, Any]:
    """Load one landing file in one transaction; raises ContractError (writing nothing) if it breaks the contract."""
    source = Path(path)
    landing_kind(source)
    summary = ingest_paths([source], store_path=store_path, now=now)
    return summary["files"][0]


# ----------------------------------------------------------------------------------------------
# real event logs


def _pick_column(path: Path, found: Sequence[str], wanted: str | None, defaults: Sequence[str], role: str, option: str) -> str:
    if wanted is not None:
        if wanted not in found:
            _require_columns(path, found, [wanted], f"name the {role} column with {option}")
        return wanted
    for name in defaults:
        if name in found:
            return name
    _require_columns(path, found, [defaults[0]], f"name the {role} column with {option}")
    raise AssertionError("unreachable")


def read_log_rows(path: PathLike) -> tuple[pd.DataFrame, str]:
    """The rows of a log file (one per event, every column as given) and its format: xes, csv or parquet."""
    source = Path(path)
    if not source.is_file():
        raise _file_problem(source, "no such file", "check the path")
    if not _has_suffix(source, LOG_SUFFIXES):
        raise _file_problem(source, "not a log file name", "give a .xes, .xes.gz, .csv, .csv.gz or .parquet file")
    if source.stat().st_size == 0:
        raise _file_problem(source, "the file is empty (0 bytes)", "export the log again")
    if _has_suffix(source, (".xes", ".xes.gz")):
        return xes.read_xes(source).events, "xes"
    fmt = "parquet" if _has_suffix(source, (".parquet",)) else "csv"
    table = _read_table(source)
    if table.num_rows == 0:
        raise _file_problem(source, "the log has no rows", "export a log with events")
    return table.to_pandas(), fmt


def _case_attributes(
    rows: pd.DataFrame, case_col: str, event_cols: Sequence[str], skip: Iterable[str]
) -> tuple[pd.DataFrame, list[str]]:
    """One row per case with its attributes as a JSON object, and their names.

    Case attributes are the trace's (case:X), event attributes marked (case)_X, and event
    attributes that keep one value within nearly every case (customer, product, ...: a few
    corrections happen in real logs); the value kept is the case's first, known when it starts.
    """
    skipped = set(skip)
    lifted: dict[str, str] = {}
    for column in rows.columns:
        if column == case_col or column in skipped:
            continue
        for prefix in CASE_ATTRIBUTE_PREFIXES:
            if column.startswith(prefix) and column[len(prefix):] and column[len(prefix):] not in lifted:
                lifted[column[len(prefix):]] = column
    constant_candidates = [c for c in event_cols if c not in skipped and c not in lifted.values()]
    by_case = rows.groupby(case_col, sort=False, dropna=True)
    if constant_candidates:
        distinct_per_case = by_case[constant_candidates].nunique(dropna=True)
        for column in constant_candidates:
            present = distinct_per_case[column][distinct_per_case[column] > 0]
            if len(present) and (present == 1).mean() >= CASE_ATTRIBUTE_MIN_SHARE and column not in lifted:
                lifted[column] = column
    if not lifted:
        return pd.DataFrame({"case_id": pd.Series([], dtype="object"), "attrs": pd.Series([], dtype="object")}), []
    firsts = by_case[list(dict.fromkeys(lifted.values()))].first()
    case_attrs = pd.DataFrame({key: firsts[column] for key, column in lifted.items()}, index=firsts.index)
    cases = pd.DataFrame({"case_id": firsts.index.astype(str)})
    cases["attrs"] = case_attrs.to_json(orient="records", lines=True, date_format="iso", default_handler=str).splitlines()
    return cases, sorted(lifted)


def _as_text(values: pd.Series) -> pa.Array:
    # Ids may arrive as numbers; the store keeps them as text.
    text = values.astype("string").str.strip().replace("", pd.NA)
    return pa.array(text, type=pa.string(), from_pandas=True)


def import_log(
    path: PathLike,
    *,
    store_path: StorePath = None,
    case_col: str | None = None,
    activity_col: str | None = None,
    time_col: str | None = None,
    lifecycle: str | None = None,
    tz: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Import a real event log (XES, CSV, Parquet) in one transaction; a case becomes an order.

    Event ids are a hash of case, activity, timestamp, lifecycle and the occurrence of that
    combination in the case, so importing the same log again changes nothing.
    """
    started = time.perf_counter()
    source = Path(path)
    if tz is not None:
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigError(f"unknown time zone {tz!r}; give an IANA name such as Europe/Amsterdam or UTC") from exc
    sha256 = _sha256(source) if source.is_file() else ""

    def already_loaded(first_loaded_at: str) -> dict[str, Any]:
        return {
            "path": str(source), "kind": "log", "status": "already loaded", "first_loaded_at": first_loaded_at,
            "events_loaded": 0, "cases_loaded": 0, "rows_quarantined": 0, "rows_duplicate": 0,
            "warnings": [], "seconds": round(time.perf_counter() - started, 3),
        }

    if sha256:
        # A quick look first, so importing the same log again does not even parse it.
        with store.connect(store_path) as con:
            seen = _seen_hashes(con, [sha256])
        if seen:
            return already_loaded(seen[sha256])
    rows, fmt = read_log_rows(source)
    columns = [str(c) for c in rows.columns]
    rows.columns = columns
    case_col = _pick_column(source, columns, case_col, DEFAULT_CASE_COLS, "case id", "--case-col")
    activity_col = _pick_column(source, columns, activity_col, DEFAULT_ACTIVITY_COLS, "activity", "--activity-col")
    time_col = _pick_column(source, columns, time_col, DEFAULT_TIME_COLS, "timestamp", "--time-col")
    lifecycle_col = next((c for c in LIFECYCLE_COLS if c in columns), None)
    rows_read = len(rows)
    warnings: list[str] = []
    if lifecycle is not None:
        if lifecycle_col is None:
            warnings.append(f"no lifecycle column, every event is kept as '{lifecycle}'")
        else:
            # Events without a transition are atomic, which XES reads as complete.
            transition = rows[lifecycle_col].astype("string").str.strip().str.lower()
            keep = transition.isna() | (transition == lifecycle.strip().lower())
            rows = rows.loc[keep.to_numpy()].reset_index(drop=True)
    if rows.empty:
        raise _file_problem(source, f"no events left after the lifecycle filter '{lifecycle}'", "drop --lifecycle or pick another transition")

    mapped = {case_col, activity_col, time_col}
    event_cols = [c for c in columns if c not in mapped and not c.startswith("case:")]
    times = pa.chunked_array([pa.Array.from_pandas(rows[time_col])]) if rows[time_col].dtype.kind == "M" else None
    if times is not None:
        event_ts, event_ts_bad = _to_timestamp(source, time_col, times, naive_ok=True, tz=tz or "UTC")
    else:
        text = pa.array(rows[time_col].astype("string"), type=pa.string(), from_pandas=True)
        parsed, _, is_bad = parse_text_timestamps(text, tz or "UTC")
        event_ts, event_ts_bad = parsed, pa.array(is_bad, type=pa.bool_())
    if event_cols:
        attrs_json = rows[event_cols].to_json(orient="records", lines=True, date_format="iso", default_handler=str)
        attrs = pa.array(attrs_json.splitlines(), type=pa.string())
    else:
        attrs = pa.nulls(len(rows), pa.string())
    batch = pa.table(
        {
            "row_number": pa.array(np.arange(1, len(rows) + 1, dtype=np.int64)),
            "case_id": _as_text(rows[case_col]),
            "activity": _as_text(rows[activity_col]),
            "lifecycle": _as_text(rows[lifecycle_col]) if lifecycle_col else pa.nulls(len(rows), pa.string()),
            "event_ts": event_ts,
            "event_ts_bad": event_ts_bad,
            "attrs": attrs,
        }
    )
    case_rows = rows.assign(**{case_col: batch.column("case_id").to_pandas()})
    cases, case_attribute_names = _case_attributes(case_rows, case_col, event_cols, skip={activity_col, time_col, lifecycle_col or ""})
    source_name = f"log:{source.name}"
    loaded_at = store.utcnow()
    with store.transaction(store_path) as con:
        seen = _seen_hashes(con, [sha256])
        if seen:
            return already_loaded(seen[sha256])
        con.register("ingest_batch", batch)
        con.execute(store.load_sql("ingest_check_log"), {"latest_allowed_at": _latest_allowed(now)})
        con.unregister("ingest_batch")
        con.register("ingest_case_attrs", cases)
        params = {"source": source_name, "loaded_at": loaded_at}
        inserted = con.execute(store.load_sql("ingest_insert_log_cases"), params).fetchone()
        cases_loaded = int(inserted[0]) if inserted else 0
        con.execute(store.load_sql("ingest_update_log_cases"))
        con.unregister("ingest_case_attrs")
        con.execute(store.load_sql("ingest_insert_log_events"), params)
        _quarantine_rejected(con, [rows], [source_name], loaded_at)
        events_loaded, quarantined, rows_duplicate = _checked_counts(con, [batch.num_rows])[0]
        _record_files(con, [(sha256, str(source), "log", events_loaded, quarantined)], loaded_at)
        con.execute("drop table ingest_checked")
    return {
        "path": str(source),
        "kind": "log",
        "format": fmt,
        "status": "loaded",
        "mapping": {"case": case_col, "activity": activity_col, "time": time_col, "lifecycle": lifecycle_col},
        "rows_read": rows_read,
        "rows_after_lifecycle_filter": len(rows),
        "cases_loaded": cases_loaded,
        "events_loaded": events_loaded,
        "rows_quarantined": quarantined,
        "rows_duplicate": rows_duplicate,
        "event_attributes": [c for c in event_cols if c != lifecycle_col],
        "case_attributes": case_attribute_names,
        "warnings": warnings,
        "seconds": round(time.perf_counter() - started, 3),
    }


# ----------------------------------------------------------------------------------------------
# reporting


def format_summary(summary: dict[str, Any]) -> str:
    """A short human-readable account of an ingest or import-log summary."""
    lines: list[str] = []
    if summary.get("kind") == "log":
        if summary["status"] == "already loaded":
            return f"{summary['path']}: already loaded on {summary['first_loaded_at']}; nothing changed"
        lines.append(
            f"{summary['path']}: {summary['events_loaded']:,} events and {summary['cases_loaded']:,} new cases loaded, "
            f"{summary['rows_quarantined']:,} rows quarantined, {summary['rows_duplicate']:,} already stored "
            f"({summary['seconds']:.1f} s)"
        )
        if summary.get("case_attributes"):
            lines.append(f"case attributes kept: {', '.join(summary['case_attributes'])}")
    else:
        loaded = summary["rows_loaded"]
        lines.append(
            f"{summary['files_loaded']} files loaded, {summary['files_already_loaded']} already loaded, "
            f"{summary['files_rejected']} rejected: {loaded['orders']:,} orders, {loaded['events']:,} events, "
            f"{loaded['contacts']:,} contacts; {summary['rows_quarantined']:,} rows quarantined, "
            f"{summary['rows_duplicate']:,} duplicates skipped ({summary['seconds']:.1f} s)"
        )
        for item in summary.get("rejected", []):
            lines.append(f"rejected {item['error']}")
        if summary.get("ignored_files"):
            lines.append(f"ignored (not landing files): {', '.join(summary['ignored_files'])}")
        for item in summary.get("files", []):
            for warning in item.get("warnings", []):
                lines.append(f"{item['path']}: {warning}")
    for warning in summary.get("warnings", []):
        lines.append(f"warning: {warning}")
    return "\n".join(lines)

