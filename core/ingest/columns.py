"""Typing the columns of a read file to the contract's types, vectorised: numbers, text and UTC
timestamps (with a flag per unparseable value). A wrongly typed column rejects the whole file."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from core.ingest.contract import LANDING_COLUMNS, PathLike, file_problem, require_columns

_NUMBER = r"^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$"
_INTEGER = r"^\s*[-+]?\d+(\.0*)?\s*$"
# An offset at the end of a time of day: "…10:00Z", "…10:00:00.5+02:00", "… 10:00 +0100".
_OFFSET = r"(?i)\d:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:z|utc|gmt|[+-]\d{2}(?::?\d{2})?)$"


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
        pattern = _INTEGER if kind == "int" else _NUMBER
        violation = _first_violation(values.combine_chunks(), pattern)
        if violation:
            raise file_problem(
                path,
                f"column {name} has text where a number is expected ({violation})",
                "write plain numbers only",
            )
        values = pc.utf8_trim_whitespace(values).cast(pa.float64())
    elif not (pa.types.is_integer(values.type) or pa.types.is_floating(values.type)):
        raise file_problem(path, f"column {name} is of type {values.type}, not a number", "write numbers")
    if kind == "int" and pa.types.is_floating(values.type):
        if pc.any(pc.not_equal(values, pc.floor(values))).as_py():
            raise file_problem(path, f"column {name} has fractional values", "write whole numbers")
    try:
        # A safe cast: an integer out of range is an error, not a wrap-around.
        return values.cast(target)
    except pa.ArrowInvalid as exc:
        raise file_problem(path, f"column {name} has values out of range ({exc})", f"write {kind}s that fit") from exc


def parse_text_timestamps(
    values: pa.ChunkedArray | pa.Array, tz: str = "UTC"
) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """Parse ISO-8601 text to naive UTC timestamps: (values, is_naive, is_unparseable).

    Naive text is read in tz.
    """
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
    utc_naive = parsed.dt.tz_localize(None).to_numpy().astype("datetime64[us]")
    for position in np.flatnonzero(is_bad):
        # pandas parses in nanoseconds (years 1678-2261): a valid date outside them (2999, 0001)
        # is kept, so the row checks call it "in the future" or "implausibly old", not unparseable.
        beyond = _parse_beyond_nanoseconds(str(text.iloc[position]), tz)
        if beyond is not None:
            utc_naive[position] = np.datetime64(beyond, "us")
            is_bad[position] = False
    values_us = pa.array(utc_naive, type=pa.timestamp("us"), from_pandas=True)
    return values_us, naive & ~is_bad, is_bad


def _parse_beyond_nanoseconds(text: str, tz: str) -> datetime | None:
    """A valid ISO-8601 timestamp pandas cannot hold, as naive UTC; None if it is not one."""
    try:
        moment = datetime.fromisoformat(text.replace(" UTC", "Z").replace(" GMT", "Z"))
    except ValueError:
        return None
    if pd.Timestamp.min.year < moment.year < pd.Timestamp.max.year:
        return None  # pandas could hold it: it failed for another reason (e.g. a time a DST change skips)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(tz))
    try:
        return moment.astimezone(UTC).replace(tzinfo=None)
    except (OverflowError, ValueError):
        # year 0001 with a positive offset, or 9999 with a negative one: outside every range
        return datetime.min if moment.year < 1000 else datetime.max


def to_timestamp(
    path: Path, name: str, values: pa.ChunkedArray, *, naive_ok: bool, tz: str
) -> tuple[pa.Array, pa.Array]:
    """(UTC timestamps, unparseable flags) of a column; naive text rejects the file unless
    naive_ok."""
    if pa.types.is_timestamp(values.type):
        if values.type.tz is not None:
            values = values.cast(pa.timestamp("us", tz="UTC"), safe=False)
        utc = values.cast(pa.timestamp("us"), safe=False).combine_chunks()
        return utc, pa.nulls(len(utc), pa.bool_()).fill_null(False)
    if pa.types.is_date(values.type) or pa.types.is_null(values.type):
        utc = values.cast(pa.timestamp("us")).combine_chunks()
        return utc, pa.nulls(len(utc), pa.bool_()).fill_null(False)
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        raise file_problem(
            path,
            f"column {name} is of type {values.type}, not a timestamp",
            "write ISO-8601 timestamps with an offset",
        )
    parsed, is_naive, is_bad = parse_text_timestamps(values, tz)
    if is_naive.any() and not naive_ok:
        position = int(np.argmax(is_naive))
        raise file_problem(
            path,
            f"column {name} has timestamps without a time zone (row {position + 1}: "
            f"{str(values[position].as_py())[:40]!r}), which are ambiguous",
            "write offsets, e.g. 2026-03-01T10:00:00Z or +00:00",
        )
    return parsed, pa.array(is_bad, type=pa.bool_())


def _is_text_like(value_type: pa.DataType) -> bool:
    return (
        pa.types.is_string(value_type)
        or pa.types.is_large_string(value_type)
        or pa.types.is_integer(value_type)
        or pa.types.is_dictionary(value_type)
        or pa.types.is_null(value_type)
    )


def _valid_text(path: Path, name: str, values: pa.ChunkedArray) -> pa.ChunkedArray:
    """The text column, if every value is valid UTF-8 (a Parquet writer may store any bytes)."""
    for chunk in values.chunks:
        try:
            chunk.validate(full=True)
        except pa.ArrowInvalid as exc:
            raise file_problem(
                path, f"column {name} holds bytes that are not UTF-8 text", "write the text as UTF-8"
            ) from exc
    return values


def normalise_landing(path: PathLike, raw: pa.Table, kind: str) -> pa.Table:
    """The contract columns of a landing table with their types, plus row_number and <ts>_bad
    flags."""
    source = Path(path)
    columns = LANDING_COLUMNS[kind]
    require_columns(
        source,
        raw.column_names,
        columns,
        f"write every column of the {kind} contract: {', '.join(columns)}",
    )
    if raw.num_columns != len(set(raw.column_names)):
        raise file_problem(source, "the header repeats a column name", "write each column once")
    arrays: dict[str, pa.Array | pa.ChunkedArray] = {
        "row_number": pa.array(np.arange(1, raw.num_rows + 1, dtype=np.int64))
    }
    for name, kind_of_column in columns.items():
        values = raw.column(name)
        if kind_of_column == "text":
            if not _is_text_like(values.type):
                raise file_problem(source, f"column {name} is of type {values.type}, not text", "write it as text")
            arrays[name] = _valid_text(source, name, values.cast(pa.string()))
        elif kind_of_column in ("float", "int"):
            arrays[name] = _to_number(source, name, values, kind_of_column)
        else:
            parsed, is_bad = to_timestamp(source, name, values, naive_ok=False, tz="UTC")
            arrays[name] = parsed
            arrays[f"{name}_bad"] = is_bad
    return pa.table(arrays)
