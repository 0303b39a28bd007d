"""Stored views on disk: `<store dir>/views/<view>/<key>/` holding one parquet file per frame (and per one-row record)
and `manifest.json` (fingerprint, params, computed_at, seconds, what each part is). A folder is written under a
temporary name and renamed into place, so a reader sees a whole view or none. Files only a view of this package wrote
are trusted, and only parquet and json are read (no pickle). A view is current while nothing it was computed from has
changed (`inputs_fingerprint`).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from core import config, logs, store
from core.config import StorePath

log = logs.get_logger("views")

# Bump when the computation behind a view changes: files of an older version are then stale.
VIEWS_VERSION = 2  # 2: segments carry adjusted p-values; benefits their intervals


# Keys kept per view name: the daily defaults (five accuracy segments) and a few other days or windows.
KEEP_PER_VIEW = 12


MANIFEST = "manifest.json"


VIEW_NAMES = ("today", "accuracy", "segments", "benefits", "process")


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
        kept = sorted(
            (p for p in entries if not p.name.startswith(".")),
            key=lambda p: p.stat().st_mtime,
            reverse=True,
        )
        for path in stale_tmp + kept[keep:]:
            shutil.rmtree(path, ignore_errors=True)
    except OSError:
        return


def _manifest(view: str, params: Mapping[str, Any], fingerprint: str, seconds: float) -> dict[str, Any]:
    return {
        "view": view,
        "version": VIEWS_VERSION,
        "params": dict(params),
        "fingerprint": fingerprint,
        "computed_at": datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds"),
        "seconds": round(seconds, 3),
    }


def store_view(
    view: str,
    params: Mapping[str, Any],
    parts: Mapping[str, Any],
    fingerprint: str,
    seconds: float,
    store_path: StorePath,
) -> bool:
    """Write a computed view with its manifest and prune the oldest keys of that view; whether it was written."""
    written = write_view(view_path(view, params, store_path), parts, _manifest(view, params, fingerprint, seconds))
    prune(view, store_path)
    return written


def materialised(
    view: str,
    params: Mapping[str, Any],
    compute: Callable[[str], dict[str, Any]],
    store_path: StorePath = None,
) -> dict[str, Any]:
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
    store_view(view, params, parts, fingerprint, time.perf_counter() - started, store_path)
    return parts


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
