"""Materialised views of the heavy dashboard pages (Forecast accuracy, Segments & bias, Benefits,
Process insights).

Each of these pages re-derives its figures from the whole history, which takes many seconds on a
store of a million orders. The daily job (`refresh`) leaves the views of the latest day ready as
files beside the store; a page reads them back when nothing they were computed from has changed
since (`inputs_fingerprint`), and otherwise computes live, as before, and writes the result back.

Layout: `<store dir>/views/<view>/<key>/` holding one parquet file per frame (and per one-row
record) and `manifest.json` (fingerprint, params, computed_at, seconds, what each part is). A folder
is written under a temporary name and renamed into place, so a reader sees a whole view or none.
Files only a view of this module wrote are trusted, and only parquet and json are read (no pickle).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from core import config, logs, store
from core.config import StorePath
from core.domain import SEGMENT_COLUMNS
from core.monitor import accuracy, assumptions, benefits, segments
from core.views import insights, today

log = logs.get_logger("views")

# Bump when the computation behind a view changes: files of an older version are then stale.
VIEWS_VERSION = 1
# Keys kept per view name: the daily defaults (five accuracy segments) and a few other days or windows.
KEEP_PER_VIEW = 12
MANIFEST = "manifest.json"
VIEW_NAMES = ("today", "accuracy", "segments", "benefits", "process")


# ---------------------------------------------------------------- live computations


def _realised(summary: pd.DataFrame) -> dict[str, Any]:
    rows = summary.loc[~summary["estimated"].astype(bool)] if len(summary) else summary
    return rows.iloc[0].to_dict() if len(rows) else {}


def _as_days(frame: pd.DataFrame, column: str = "as_of_date") -> pd.DataFrame:
    return frame.assign(**{column: pd.to_datetime(frame[column]).dt.date}) if len(frame) else frame


def load_outcomes(as_of: date, store_path: StorePath = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The scored forecasts and listings as of the end of a day (what accuracy and segments read)."""
    at = accuracy.resolve_as_of(as_of, store_path)
    return (accuracy.load_forecast_outcomes(store_path, as_of=at),
            accuracy.load_listing_outcomes(store_path, as_of=at))


def compose_accuracy(scored: pd.DataFrame, listings: pd.DataFrame, segment: str) -> dict[str, Any]:
    """The Forecast accuracy page's view from scored forecasts and listings, broken down by `segment`."""
    return {
        "forecasts": len(scored),
        "forecast": _realised(accuracy.summarise_forecasts(scored)),
        "triage": _realised(accuracy.summarise_listings(listings)),
        # mornings as days: a table shows 2026-03-02, not 2026-03-02 00:00:00
        "daily": _as_days(accuracy.summarise_forecasts(scored, by=["as_of_date"])),
        "triage_daily": _as_days(accuracy.summarise_listings(listings, by=["as_of_date"])),
        "by_segment": accuracy.summarise_forecasts(scored, by=[segment]),
    }


def compute_today_view(as_of: date, store_path: StorePath = None) -> dict[str, Any]:
    """The Today page's figures of a run day as a record (core.views.today.load_today, live); {} without a run."""
    figures = today.load_today(as_of, store_path)
    return {"figures": {} if figures is None else asdict(figures)}


def compute_accuracy_view(as_of: date, segment: str, store_path: StorePath = None) -> dict[str, Any]:
    """Forecast and triage accuracy as of a day: overall, per morning, per level of `segment` (live)."""
    return compose_accuracy(*load_outcomes(as_of, store_path), segment)


def compute_segment_view(as_of: date, store_path: StorePath = None) -> pd.DataFrame:
    """The segment table as of a day (core.monitor.segments.segment_table, live)."""
    return segments.segment_table(store_path, as_of=as_of)


def compute_benefits_view(as_of: date, store_path: StorePath = None) -> dict[str, Any]:
    """The ledger, the holdout comparison, go-live and the cost assumption history as of a day (live)."""
    ledger, holdout = benefits.ledger_and_holdout(store_path, as_of=as_of)
    return {"go_live": benefits.go_live_date(store_path), "ledger": ledger, "holdout": holdout,
            "history": assumptions.assumption_history("costs", store_path)}


def compute_process_view(start: date, as_of: date, store_path: StorePath = None) -> dict[str, Any]:
    """Everything the Process insights page shows for one window (core.views.insights, live)."""
    return insights.load_process_view(start, as_of, store_path)


# ---------------------------------------------------------------- fingerprint and files


def inputs_fingerprint(store_path: StorePath = None) -> str:
    """A short hash of the state of every table the views read (one cheap read-only query)."""
    with store.connect(store_path, read_only=True) as con:
        row = con.execute(store.load_sql("views_fingerprint")).fetchone()
    return hashlib.sha256(json.dumps([VIEWS_VERSION, *(row or ())], default=str).encode()).hexdigest()[:32]


def views_dir(store_path: StorePath = None) -> Path:
    """The folder holding a store's materialised views (beside the store)."""
    return config.store_path(store_path).parent / "views"


def view_key(view: str, params: Mapping[str, Any], store_path: StorePath = None) -> str:
    """The folder name of one view with its params (the store's file name too: stores may share a folder)."""
    payload = json.dumps([view, config.store_path(store_path).name, dict(params)], default=str, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:20]


def view_path(view: str, params: Mapping[str, Any], store_path: StorePath = None) -> Path:
    """Where one view with its params is stored."""
    return views_dir(store_path) / view / view_key(view, params, store_path)


def _to_json(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, datetime):
        return {"datetime": value.isoformat()}
    if isinstance(value, date):
        return {"date": value.isoformat()}
    if isinstance(value, list | tuple):
        return [_to_json(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"cannot store {type(value).__name__} in a view manifest")


def _from_json(value: Any) -> Any:
    if isinstance(value, dict) and "date" in value:
        return date.fromisoformat(value["date"])
    if isinstance(value, dict) and "datetime" in value:
        return datetime.fromisoformat(value["datetime"])
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    return value


def write_view(folder: Path, parts: Mapping[str, Any], manifest: Mapping[str, Any]) -> bool:
    """Write a view's parts (frames and one-row records as parquet, the rest in the manifest) into a
    temporary folder and rename it to `folder`. False (nothing written) when the folder cannot be
    written or another process got there first."""
    tmp: Path | None = None
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
        kinds: dict[str, str] = {}
        values: dict[str, Any] = {}
        for name, value in parts.items():
            if isinstance(value, pd.DataFrame):
                value.to_parquet(tmp / f"{name}.parquet")
                kinds[name] = "frame"
            elif isinstance(value, dict):
                # a one-row frame keeps each figure's type (a NaN stays a NaN, a count an integer)
                pd.DataFrame([value] if value else []).to_parquet(tmp / f"{name}.parquet")
                kinds[name] = "record"
            else:
                values[name] = _to_json(value)
                kinds[name] = "value"
        (tmp / MANIFEST).write_text(json.dumps({**manifest, "parts": kinds, "values": values}, default=str))
        old = folder.with_name(f".{folder.name}-old-{os.getpid()}-{time.monotonic_ns()}")
        if folder.exists():
            folder.rename(old)
        tmp.rename(folder)  # fails when a concurrent writer renamed its own folder in first
        tmp = None
        shutil.rmtree(old, ignore_errors=True)
        return True
    except (OSError, TypeError, ValueError, ImportError) as exc:
        # best effort: a read-only folder, a race or an unstorable part leaves the page live
        log.info("view %s not written: %s", folder, exc)
        return False
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def _record(frame: pd.DataFrame) -> dict[str, Any]:
    # column by column: a row of mixed columns would turn every count into a float
    if frame.empty:
        return {}
    values = {column: frame[column].iloc[0] for column in frame.columns}
    return {k: v.item() if isinstance(v, np.generic) else v for k, v in values.items()}


def read_view(folder: Path, fingerprint: str) -> dict[str, Any] | None:
    """The stored parts of a view when its manifest carries `fingerprint`; None when it is missing,
    stale, partial or unreadable."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
        if manifest.get("fingerprint") != fingerprint or manifest.get("version") != VIEWS_VERSION:
            return None
        parts: dict[str, Any] = {}
        for name, kind in manifest["parts"].items():
            if kind == "value":
                parts[name] = _from_json(manifest["values"][name])
                continue
            frame = pd.read_parquet(folder / f"{name}.parquet")
            if kind == "frame":
                parts[name] = frame
            elif kind == "record":
                parts[name] = _record(frame)
            else:
                return None
        return parts
    except Exception as exc:  # noqa: BLE001 - anything wrong with the files means: compute live
        log.info("view %s not read: %s", folder, exc)
        return None


def prune(view: str, store_path: StorePath = None, keep: int = KEEP_PER_VIEW) -> None:
    """Delete all but the `keep` most recently written keys of a view (and left-over temp folders)."""
    root = views_dir(store_path) / view
    try:
        entries = [p for p in root.iterdir() if p.is_dir()]
        stale_tmp = [p for p in entries if p.name.startswith(".") and time.time() - p.stat().st_mtime > 3600]
        kept = sorted((p for p in entries if not p.name.startswith(".")), key=lambda p: p.stat().st_mtime,
                      reverse=True)
        for path in stale_tmp + kept[keep:]:
            shutil.rmtree(path, ignore_errors=True)
    except OSError:
        return


def _manifest(view: str, params: Mapping[str, Any], fingerprint: str, seconds: float) -> dict[str, Any]:
    return {"view": view, "version": VIEWS_VERSION, "params": dict(params), "fingerprint": fingerprint,
            "computed_at": datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds"),
            "seconds": round(seconds, 3)}


def _store(view: str, params: Mapping[str, Any], parts: Mapping[str, Any], fingerprint: str, seconds: float,
           store_path: StorePath) -> bool:
    written = write_view(view_path(view, params, store_path), parts,
                         _manifest(view, params, fingerprint, seconds))
    prune(view, store_path)
    return written


def materialised(view: str, params: Mapping[str, Any], compute: Callable[[str], dict[str, Any]],
                 store_path: StorePath = None) -> dict[str, Any]:
    """The stored view when it is current, else `compute(fingerprint)` (written back, best effort)."""
    # The fingerprint is read before computing: if data arrives meanwhile, the written view is
    # labelled with the older state and the next read recomputes it.
    try:
        fingerprint = inputs_fingerprint(store_path)
    except duckdb.Error:
        # a store from before some table the views read: nothing to key a stored view on
        return compute("")
    stored = read_view(view_path(view, params, store_path), fingerprint)
    if stored is not None:
        return stored
    started = time.perf_counter()
    parts = compute(fingerprint)
    _store(view, params, parts, fingerprint, time.perf_counter() - started, store_path)
    return parts


# ---------------------------------------------------------------- the views pages read


def _today_figures(record: Mapping[str, Any]) -> today.TodayFigures | None:
    if not record:
        return None
    last_event_at = record["last_event_at"]
    if last_event_at is not None and not isinstance(last_event_at, datetime):
        last_event_at = None if pd.isna(last_event_at) else pd.Timestamp(last_event_at).to_pydatetime()
    elif isinstance(last_event_at, pd.Timestamp):
        last_event_at = last_event_at.to_pydatetime()
    fields = {k: None if isinstance(v, float) and np.isnan(v) else v for k, v in record.items()}
    return today.TodayFigures(**{**fields, "last_event_at": last_event_at})


def today_view(as_of: date, store_path: StorePath = None) -> today.TodayFigures | None:
    """The Today page's figures of a run day (as `core.views.today.load_today`), stored when current."""
    view = materialised("today", {"as_of": as_of}, lambda _: compute_today_view(as_of, store_path), store_path)
    return _today_figures(view["figures"])


def accuracy_view(as_of: date, segment: str, store_path: StorePath = None) -> dict[str, Any]:
    """The Forecast accuracy page's view (as `compute_accuracy_view`), stored when current."""
    def compute(fingerprint: str) -> dict[str, Any]:
        # the outcomes are the expensive part: store the view of every segment from one read
        started = time.perf_counter()
        scored, listings = load_outcomes(as_of, store_path)
        views = {s: compose_accuracy(scored, listings, s) for s in {*SEGMENT_COLUMNS, segment}}
        seconds = time.perf_counter() - started
        for other, parts in views.items():
            if other != segment and fingerprint:
                _store("accuracy", {"as_of": as_of, "segment": other}, parts, fingerprint, seconds, store_path)
        return views[segment]

    return materialised("accuracy", {"as_of": as_of, "segment": segment}, compute, store_path)


def segment_view(as_of: date, store_path: StorePath = None) -> pd.DataFrame:
    """The Segments & bias page's table (as `compute_segment_view`), stored when current."""
    view = materialised("segments", {"as_of": as_of},
                        lambda _: {"table": compute_segment_view(as_of, store_path)}, store_path)
    return view["table"]


def benefits_view(as_of: date, store_path: StorePath = None) -> dict[str, Any]:
    """The Benefits page's view (as `compute_benefits_view`), stored when current."""
    return materialised("benefits", {"as_of": as_of}, lambda _: compute_benefits_view(as_of, store_path),
                        store_path)


def process_view(start: date, as_of: date, store_path: StorePath = None) -> dict[str, Any]:
    """The Process insights page's view (as `compute_process_view`), stored when current."""
    return materialised("process", {"start": start, "as_of": as_of},
                        lambda _: compute_process_view(start, as_of, store_path), store_path)


# ---------------------------------------------------------------- refresh (the daily job's part)


def default_views(as_of: date | None = None, store_path: StorePath = None) -> list[tuple[str, dict[str, Any]]]:
    """(view, params) of every view a page opens with by default, as of `as_of` (default: the
    latest day with events, the pages' default); empty for a store without events."""
    span = insights.load_event_span(store_path)
    if span is None:
        return []
    first_day, last_day = span
    day = as_of or last_day
    wanted: list[tuple[str, dict[str, Any]]] = []
    # Today opens on the newest run day (here: on or before as_of)
    run_days = [d for d in today.run_days(store_path) if d <= day]
    if run_days:
        wanted.append(("today", {"as_of": max(run_days)}))
    wanted += [("accuracy", {"as_of": day, "segment": s}) for s in SEGMENT_COLUMNS]
    wanted += [("segments", {"as_of": day}), ("benefits", {"as_of": day}),
               # Process insights opens on the whole history: the first day with events up to as-of
               ("process", {"start": first_day, "as_of": day})]
    return wanted


def refresh(store_path: StorePath = None, as_of: date | None = None, *, progress: bool = False) -> dict[str, float]:
    """Compute and store every default view as of a day (default: the latest); seconds per view."""
    from tqdm import tqdm

    wanted = default_views(as_of, store_path)
    fingerprint = inputs_fingerprint(store_path)
    seconds: dict[str, float] = {}
    outcomes: tuple[pd.DataFrame, pd.DataFrame] | None = None
    for view, params in tqdm(wanted, desc="views", unit="view", file=sys.stderr, disable=not progress):
        started = time.perf_counter()
        day = params["as_of"]
        if view in ("accuracy", "segments"):
            # both read the same outcomes: load them once for all of them
            if outcomes is None:
                outcomes = load_outcomes(day, store_path)
            scored, listings = outcomes
            parts = (compose_accuracy(scored, listings, params["segment"]) if view == "accuracy"
                     else {"table": segments.segment_metrics(scored, listings)})
        elif view == "benefits":
            parts = compute_benefits_view(day, store_path)
        elif view == "today":
            parts = compute_today_view(day, store_path)
        else:
            parts = compute_process_view(params["start"], day, store_path)
        took = time.perf_counter() - started
        _store(view, params, parts, fingerprint, took, store_path)
        label = f"{view}:{params['segment']}" if view == "accuracy" else view
        seconds[label] = round(took, 3)
    return seconds


def refresh_quietly(store_path: StorePath = None, as_of: date | None = None, *,
                    progress: bool = False) -> dict[str, float] | None:
    """`refresh` for the end of a daily job: a failure is logged, never raised (pages then compute live)."""
    try:
        return refresh(store_path, as_of, progress=progress)
    except Exception:  # noqa: BLE001 - the views are a cache; the daily job must not fail on them
        log.exception("refreshing the page views failed; the pages will compute live")
        return None


def stored_views(store_path: StorePath = None, names: Iterable[str] = VIEW_NAMES) -> list[dict[str, Any]]:
    """The manifests of the stored views (view, params, fingerprint, computed_at, seconds)."""
    found = []
    for name in names:
        for manifest in sorted((views_dir(store_path) / name).glob(f"[!.]*/{MANIFEST}")):
            try:
                found.append(json.loads(manifest.read_text()))
            except (OSError, ValueError):
                continue
    return found
