"""Importing a real event log (XES, CSV, Parquet) in one transaction: a case becomes an order, an
activity a stage; case attributes are kept with the case, event attributes with the event. The
log's rows are checked set-based (`core/sql/ingest_check_log.sql`), bad ones quarantined, and the
file recorded by sha256, so importing the same log again changes nothing."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd
import pyarrow as pa

from core import store
from core.config import StorePath
from core.errors import ConfigError
from core.ingest import checked, readers, xes
from core.ingest import lifecycle as lifecycle_rule
from core.ingest.columns import parse_text_timestamps, to_timestamp
from core.ingest.contract import (
    PathLike,
    file_problem,
    has_suffix,
    latest_allowed,
    require_columns,
    row_limits,
)

LOG_SUFFIXES: tuple[str, ...] = (".xes", ".xes.gz", ".csv", ".csv.gz", ".parquet")
# Default mapping of an imported log: the XES keys first, then plain names.
DEFAULT_CASE_COLS: tuple[str, ...] = ("case:concept:name", "case_id", "case")
DEFAULT_ACTIVITY_COLS: tuple[str, ...] = ("concept:name", "activity")
DEFAULT_TIME_COLS: tuple[str, ...] = ("time:timestamp", "timestamp")
LIFECYCLE_COLS: tuple[str, ...] = ("lifecycle:transition", "lifecycle")
CASE_ATTRIBUTE_PREFIXES: tuple[str, ...] = ("case:", "(case)_")
# An event attribute with one value in at least this share of cases is read as a case attribute.
CASE_ATTRIBUTE_MIN_SHARE = 0.98


@dataclass(frozen=True)
class LogMapping:
    """Which column of a log holds the case id, the activity, the timestamp and the lifecycle."""

    case: str
    activity: str
    time: str
    lifecycle: str | None


def _pick_column(
    path: Path,
    found: Sequence[str],
    wanted: str | None,
    defaults: Sequence[str],
    role: str,
    option: str,
) -> str:
    if wanted is not None:
        if wanted not in found:
            require_columns(path, found, [wanted], f"name the {role} column with {option}")
        return wanted
    for name in defaults:
        if name in found:
            return name
    require_columns(path, found, [defaults[0]], f"name the {role} column with {option}")
    raise AssertionError("unreachable")


def _pick_mapping(
    path: Path,
    columns: Sequence[str],
    case_col: str | None,
    activity_col: str | None,
    time_col: str | None,
) -> LogMapping:
    return LogMapping(
        case=_pick_column(path, columns, case_col, DEFAULT_CASE_COLS, "case id", "--case-col"),
        activity=_pick_column(path, columns, activity_col, DEFAULT_ACTIVITY_COLS, "activity", "--activity-col"),
        time=_pick_column(path, columns, time_col, DEFAULT_TIME_COLS, "timestamp", "--time-col"),
        lifecycle=next((c for c in LIFECYCLE_COLS if c in columns), None),
    )


def read_log_rows(path: PathLike) -> tuple[pd.DataFrame, str]:
    """The rows of a log file (one per event, every column as given) and its format: xes, csv or
    parquet."""
    source = Path(path)
    if not source.is_file():
        raise file_problem(source, "no such file", "check the path")
    if not has_suffix(source, LOG_SUFFIXES):
        raise file_problem(
            source,
            "not a log file name",
            "give a .xes, .xes.gz, .csv, .csv.gz or .parquet file",
        )
    if source.stat().st_size == 0:
        raise file_problem(source, "the file is empty (0 bytes)", "export the log again")
    if has_suffix(source, (".xes", ".xes.gz")):
        return xes.read_xes(source).events, "xes"
    fmt = "parquet" if has_suffix(source, (".parquet",)) else "csv"
    table = readers.read_table(source)
    if table.num_rows == 0:
        raise file_problem(source, "the log has no rows", "export a log with events")
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
            key = column[len(prefix) :]
            if column.startswith(prefix) and key and key not in lifted:
                lifted[key] = column
    constant_candidates = [c for c in event_cols if c not in skipped and c not in lifted.values()]
    by_case = rows.groupby(case_col, sort=False, dropna=True)
    if constant_candidates:
        distinct_per_case = by_case[constant_candidates].nunique(dropna=True)
        for column in constant_candidates:
            present = distinct_per_case[column][distinct_per_case[column] > 0]
            if len(present) and (present == 1).mean() >= CASE_ATTRIBUTE_MIN_SHARE and column not in lifted:
                lifted[column] = column
    if not lifted:
        no_cases = {
            "case_id": pd.Series([], dtype="object"),
            "attrs": pd.Series([], dtype="object"),
        }
        return pd.DataFrame(no_cases), []
    firsts = by_case[list(dict.fromkeys(lifted.values()))].first()
    case_attrs = pd.DataFrame({key: firsts[column] for key, column in lifted.items()}, index=firsts.index)
    cases = pd.DataFrame({"case_id": firsts.index.astype(str)})
    cases["attrs"] = case_attrs.to_json(
        orient="records", lines=True, date_format="iso", default_handler=str
    ).splitlines()
    return cases, sorted(lifted)


def _as_text(values: pd.Series) -> pa.Array:
    # Ids may arrive as numbers; the store keeps them as text.
    text = values.astype("string").str.strip().replace("", pd.NA)
    return pa.array(text, type=pa.string(), from_pandas=True)


def _check_time_zone(tz: str | None) -> None:
    if tz is None:
        return
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:  # OSError: a name too long for a file
        raise ConfigError(f"unknown time zone {tz[:80]!r}; give an IANA name such as Europe/Amsterdam or UTC") from exc


def _keep_lifecycle(
    source: Path,
    rows: pd.DataFrame,
    mapping: LogMapping,
    lifecycle: str | None,
) -> tuple[pd.DataFrame, str]:
    """The rows that end an activity under `lifecycle` (auto, all or a word; see
    core/ingest/lifecycle.py) and the rule applied; none left rejects the log."""
    choice = lifecycle_rule.choose(
        rows,
        mapping.lifecycle,
        lifecycle,
        case_col=mapping.case,
        activity_col=mapping.activity,
        time_col=mapping.time,
    )
    rows = rows.loc[choice.keep.to_numpy()].reset_index(drop=True)
    if rows.empty:
        raise file_problem(
            source,
            f"no events left after the lifecycle filter '{lifecycle}'",
            "drop --lifecycle (the default 'auto' picks the events that end an activity) or pick another transition",
        )
    return rows, choice.rule


def _log_batch(source: Path, rows: pd.DataFrame, mapping: LogMapping, event_cols: Sequence[str], tz: str) -> pa.Table:
    """The table ingest_check_log.sql checks: one row per event, its attributes as JSON."""
    if rows[mapping.time].dtype.kind == "M":
        typed = rows[mapping.time]
        not_local = pd.Series(False, index=typed.index)
        if typed.dt.tz is None:
            # Naive typed times (Parquet without a zone) are wall-clock times in tz, like naive text;
            # a time skipped or repeated by a DST change is not guessed but quarantined.
            localised = typed.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
            not_local = localised.isna() & typed.notna()
            typed = localised
        times = pa.chunked_array([pa.Array.from_pandas(typed)])
        event_ts, event_ts_bad = to_timestamp(source, mapping.time, times, naive_ok=True, tz=tz)
        event_ts_bad = pa.array(event_ts_bad.to_numpy(zero_copy_only=False) | not_local.to_numpy(), type=pa.bool_())
    else:
        text = pa.array(rows[mapping.time].astype("string"), type=pa.string(), from_pandas=True)
        parsed, _, is_bad = parse_text_timestamps(text, tz)
        event_ts, event_ts_bad = parsed, pa.array(is_bad, type=pa.bool_())
    if event_cols:
        attrs_json = rows[list(event_cols)].to_json(
            orient="records", lines=True, date_format="iso", default_handler=str
        )
        attrs = pa.array(attrs_json.splitlines(), type=pa.string())
    else:
        attrs = pa.nulls(len(rows), pa.string())
    no_lifecycle = pa.nulls(len(rows), pa.string())
    return pa.table(
        {
            "row_number": pa.array(np.arange(1, len(rows) + 1, dtype=np.int64)),
            "case_id": _as_text(rows[mapping.case]),
            "activity": _as_text(rows[mapping.activity]),
            "lifecycle": _as_text(rows[mapping.lifecycle]) if mapping.lifecycle else no_lifecycle,
            "event_ts": event_ts,
            "event_ts_bad": event_ts_bad,
            "attrs": attrs,
        }
    )


def _insert_log(
    con: Any,
    source: Path,
    sha256: str,
    rows: pd.DataFrame,
    batch: pa.Table,
    cases: pd.DataFrame,
    now: datetime | None,
) -> tuple[int, int, int, int]:
    """Inside an open transaction: check and insert the log's cases and events, quarantine the
    bad rows, record the file; (cases, events, quarantined, duplicate)."""
    source_name = f"log:{source.name}"
    loaded_at = store.utcnow()
    con.register("ingest_batch", batch)
    con.execute(store.load_sql("ingest_check_log"), {"latest_allowed_at": latest_allowed(now), **row_limits()})
    con.unregister("ingest_batch")
    con.register("ingest_case_attrs", cases)
    params = {"source": source_name, "loaded_at": loaded_at}
    inserted = con.execute(store.load_sql("ingest_insert_log_cases"), params).fetchone()
    cases_loaded = int(inserted[0]) if inserted else 0
    con.execute(store.load_sql("ingest_update_log_cases"))
    con.unregister("ingest_case_attrs")
    con.execute(store.load_sql("ingest_insert_log_events"), params)
    checked.quarantine_rejected(con, [rows], [source_name], loaded_at)
    events_loaded, quarantined, rows_duplicate = checked.checked_counts(con, [batch.num_rows])[0]
    checked.record_files(con, [(sha256, str(source), "log", events_loaded, quarantined)], loaded_at)
    con.execute("drop table ingest_checked")
    return cases_loaded, events_loaded, quarantined, rows_duplicate


def _first_loaded_at(store_path: StorePath, sha256: str) -> str | None:
    """When a file with this sha256 was first loaded, if it was (a short read connection)."""
    with store.connect(store_path) as con:
        seen = checked.seen_hashes(con, [sha256])
    return seen.get(sha256)


def _already_loaded(source: Path, first_loaded_at: str, started: float) -> dict[str, Any]:
    return {
        "path": str(source),
        "kind": "log",
        "status": "already loaded",
        "first_loaded_at": first_loaded_at,
        "events_loaded": 0,
        "cases_loaded": 0,
        "rows_quarantined": 0,
        "rows_duplicate": 0,
        "warnings": [],
        "seconds": round(time.perf_counter() - started, 3),
    }


def import_log(
    path: PathLike,
    *,
    store_path: StorePath = None,
    case_col: str | None = None,
    activity_col: str | None = None,
    time_col: str | None = None,
    lifecycle: str | None = lifecycle_rule.AUTO,
    tz: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Import a real event log (XES, CSV, Parquet) in one transaction; a case becomes an order.

    Event ids are a hash of case, activity, timestamp, lifecycle and the occurrence of that
    combination in the case, so importing the same log again changes nothing.
    """
    started = time.perf_counter()
    source = Path(path)
    _check_time_zone(tz)
    sha256 = checked.sha256_of(source) if source.is_file() else ""
    # A quick look first, so importing the same log again does not even parse it.
    if sha256 and (first_loaded_at := _first_loaded_at(store_path, sha256)):
        return _already_loaded(source, first_loaded_at, started)
    rows, fmt = read_log_rows(source)
    columns = [str(c) for c in rows.columns]
    rows.columns = columns
    mapping = _pick_mapping(source, columns, case_col, activity_col, time_col)
    rows_read = len(rows)
    warnings: list[str] = []
    rows, rule = _keep_lifecycle(source, rows, mapping, lifecycle)
    mapped = {mapping.case, mapping.activity, mapping.time}
    event_cols = [c for c in columns if c not in mapped and not c.startswith("case:")]
    batch = _log_batch(source, rows, mapping, event_cols, tz or "UTC")
    case_rows = rows.assign(**{mapping.case: batch.column("case_id").to_pandas()})
    skip = {mapping.activity, mapping.time, mapping.lifecycle or ""}
    cases, case_attribute_names = _case_attributes(case_rows, mapping.case, event_cols, skip)
    with store.transaction(store_path) as con:
        seen = checked.seen_hashes(con, [sha256])
        if seen:
            return _already_loaded(source, seen[sha256], started)
        counts = _insert_log(con, source, sha256, rows, batch, cases, now)
    cases_loaded, events_loaded, quarantined, rows_duplicate = counts
    return {
        "path": str(source),
        "kind": "log",
        "format": fmt,
        "status": "loaded",
        "mapping": asdict(mapping),
        "rows_read": rows_read,
        "lifecycle_rule": rule,
        "rows_after_lifecycle_filter": len(rows),
        "cases_loaded": cases_loaded,
        "events_loaded": events_loaded,
        "rows_quarantined": quarantined,
        "rows_duplicate": rows_duplicate,
        "event_attributes": [c for c in event_cols if c != mapping.lifecycle],
        "case_attributes": case_attribute_names,
        "warnings": warnings,
        "seconds": round(time.perf_counter() - started, 3),
    }
