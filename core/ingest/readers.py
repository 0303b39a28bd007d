"""Reading CSV (plain or gzip, inflated as a capped stream) and Parquet files into Arrow tables, with
a ContractError that says what is wrong with a file that cannot be read."""

from __future__ import annotations

import csv
import gzip
import io
import zlib
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from core.ingest.compressed import check_inflated_size, is_gzip, open_capped
from core.ingest.contract import PathLike, file_problem


def _read_csv_header(path: Path) -> list[str]:
    try:
        with io.TextIOWrapper(open_capped(path), encoding="utf-8-sig", newline="") as f:
            # bounded: a header is short, and a "line" of a bomb would never end
            first_line = f.readline(1 << 20)
    except (gzip.BadGzipFile, EOFError, zlib.error, OSError) as exc:
        raise file_problem(
            path, f"the gzip stream is damaged or not gzip at all ({exc})", "copy the file again"
        ) from exc
    except UnicodeDecodeError as exc:
        raise file_problem(path, "the file is not UTF-8 text (binary data?)", "write it as UTF-8 CSV") from exc
    if not first_line.strip():
        raise file_problem(path, "the file is empty (no header line)", "write a header row and the data")
    return next(csv.reader([first_line]))


def read_csv_text(path: PathLike) -> pa.Table:
    """Read a comma-separated file (plain or gzip) with every column as text; only '' is null."""
    source = Path(path)
    names = _read_csv_header(source)
    try:
        if not is_gzip(source):
            return _read_csv(source, names)
        # The caps are checked on a first pass in Python; then Arrow inflates the file natively. Had
        # Arrow's read-ahead thread pulled from our capped stream, the cap's exception would end the
        # read with that thread still running, and the process could abort at exit.
        check_inflated_size(source)
        with pa.input_stream(str(source), compression="gzip") as data:
            return _read_csv(data, names)
    except (pa.ArrowInvalid, OSError, EOFError, zlib.error) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if source.name.lower().endswith(".gz") and any(w in detail.lower() for w in ("compress", "gzip", "zlib")):
            raise file_problem(
                source, f"the gzip stream is damaged or cut short ({detail})", "copy the file again"
            ) from exc
        raise file_problem(source, f"cannot be parsed as CSV ({detail})", "write a valid comma-separated file") from exc


def _read_csv(data: Any, names: list[str]) -> pa.Table:
    return pacsv.read_csv(
        data,
        read_options=pacsv.ReadOptions(use_threads=True, block_size=1 << 24),
        parse_options=pacsv.ParseOptions(delimiter=","),
        convert_options=pacsv.ConvertOptions(
            column_types={name: pa.string() for name in names},
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
        ),
    )


def read_parquet(path: PathLike) -> pa.Table:
    """Read a Parquet file; raises ContractError if it is not one."""
    source = Path(path)
    if source.stat().st_size == 0:
        raise file_problem(source, "the file is empty (0 bytes)", "write the Parquet file again")
    try:
        return pq.read_table(source)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as exc:
        raise file_problem(
            source,
            f"not a readable Parquet file ({str(exc).splitlines()[0]})",
            "write it with a Parquet writer",
        ) from exc


def read_table(path: Path) -> pa.Table:
    """Read a Parquet file as it is typed, any other file as CSV text."""
    if path.name.lower().endswith(".parquet"):
        return read_parquet(path)
    return read_csv_text(path)
