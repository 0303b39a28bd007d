"""Loading landing files and folders (`ingest_paths`): find the files, skip those already loaded,
read and type the rest in threads, and load them kind by kind in batches.

Files of one kind are checked and inserted set-based in DuckDB, a batch of files in ONE
transaction (see `batches`), and recorded in `ingested_files` by sha256, so the same file again is
a no-op and the same rows again are skipped. Each batch writes in one short transaction, so
readers (the dashboard) are locked out only while a batch is read (DuckDB reads Parquet in
parallel) and written. The contract itself is in `contract`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from pathlib import Path
from typing import Any

from tqdm import tqdm

from core import store
from core.config import StorePath
from core.errors import ContractError
from core.ingest import batches, checked
from core.ingest.contract import KINDS, PathLike, file_problem, landing_kind, latest_allowed

# Files of one kind are checked together up to this many rows (one transaction); bounds memory.
# Rows DuckDB reads into its own batch table cost far less than rows typed in Arrow (4.3M events
# of direct Parquet peak at ≈ 1.1 GB, 2M Arrow rows at ≈ 1.3 GB), and every batch re-reads the
# stored events of its orders, so direct rows get the larger budget.
MAX_BATCH_ROWS = 5_000_000
MAX_ARROW_BATCH_ROWS = 2_000_000
# Reading and typing files runs in threads (pyarrow releases the GIL); files handed out per round.
READ_THREADS = 4
READ_CHUNK_FILES = 32

_COPY_IT = "copy the real file into the folder"
_FILE_DAY = re.compile(r"_(\d{4}-\d{2}-\d{2})\.")


def _is_linked(path: Path, root: Path) -> bool:
    """Whether a file found under root is, or lies under, a symbolic link below root."""
    if path.is_symlink():
        return True
    return path.resolve() != root.resolve() / path.relative_to(root)


def find_landing_files(paths: Iterable[PathLike]) -> tuple[list[Path], list[Path], list[Path]]:
    """(landing files to load, in order; other files found in folders; symbolic links refused).

    A symbolic link is never followed: a landing folder holds files the producer wrote, and a link
    could point anywhere on the server (its target is neither read nor quoted).
    """
    files: list[Path] = []
    ignored: list[Path] = []
    links: list[Path] = []
    for item in map(Path, paths):
        if item.is_symlink():
            links.append(item)
        elif item.is_dir():
            for child in sorted(p for p in item.rglob("*") if p.is_file() or p.is_symlink()):
                try:
                    landing_kind(child)
                except ContractError:
                    if child.name != "manifest.json" and not child.name.startswith("."):
                        ignored.append(child)
                    continue
                (links if _is_linked(child, item) else files).append(child)
        elif item.is_file():
            files.append(item)
        else:
            raise file_problem(item, "no such file or folder", "check the path")
    # Orders first, so an order exists before its events; files of one kind in name (day) order.
    rank = {kind: i for i, kind in enumerate(KINDS)}

    def load_order(p: Path) -> tuple[int, str]:
        name = p.name.lower()
        return (next((rank[k] for k in KINDS if name.startswith(k + "_")), len(KINDS)), name)

    return sorted(dict.fromkeys(files), key=load_order), ignored, links


def landing_files(paths: Iterable[PathLike]) -> tuple[list[Path], list[Path]]:
    """(landing files to load, in order, and other files found in folders); orders, events,
    contacts. Symbolic links are left out (see find_landing_files)."""
    files, ignored, _ = find_landing_files(paths)
    return files, ignored


def _file_day(path: Path) -> date | None:
    """The day in a landing file's name (orders_2026-03-02.parquet), if there is one."""
    found = _FILE_DAY.search(path.name)
    if found is None:
        return None
    try:
        return date.fromisoformat(found.group(1))
    except ValueError:
        return None


def _files_to_load(
    files: Sequence[Path],
    hashes: Sequence[str],
    seen: dict[str, str],
    per_file: list[dict[str, Any]],
    rejected: list[dict[str, str]],
    progress: Any,
) -> list[tuple[Path, str, str]]:
    """(path, sha256, kind) of the files to load; badly named and already loaded ones are
    summarised into `rejected` and `per_file` instead."""
    todo: list[tuple[Path, str, str]] = []
    for path, sha256 in zip(files, hashes, strict=True):
        kind = batches.guarded(landing_kind, path)
        if isinstance(kind, ContractError):
            rejected.append({"path": str(path), "error": str(kind)})
            progress.update()
        elif sha256 in seen:
            per_file.append(batches.file_summary(path, kind, status="already loaded", first_loaded_at=seen[sha256]))
            progress.update()
        else:
            seen[sha256] = "this run"  # the same content under two names loads once
            todo.append((path, sha256, kind))
    return todo


def _load_kind(
    pool: ThreadPoolExecutor,
    store_path: StorePath,
    kind: str,
    kind_files: Sequence[tuple[Path, str]],
    latest_allowed_at: datetime,
    rejected: list[dict[str, str]],
    progress: Any,
) -> list[dict[str, Any]]:
    """Prepare the files of one kind in threads and load them in batches bounded by rows;
    per-file summaries, rejected files added to `rejected`."""
    per_file: list[dict[str, Any]] = []
    pending: list[batches.PreparedFile] = []
    pending_rows = pending_arrow_rows = 0
    for start in range(0, len(kind_files), READ_CHUNK_FILES):
        chunk = kind_files[start : start + READ_CHUNK_FILES]
        prepared_chunk = pool.map(lambda item: batches.guarded(batches.prepare_landing, *item), chunk)
        for (path, _), prepared in zip(chunk, prepared_chunk, strict=True):
            progress.update()
            if isinstance(prepared, ContractError):
                rejected.append({"path": str(path), "error": str(prepared)})
                continue
            pending.append(prepared)
            pending_rows += prepared.num_rows
            pending_arrow_rows += prepared.num_rows if prepared.batch is not None else 0
            if pending_rows >= MAX_BATCH_ROWS or pending_arrow_rows >= MAX_ARROW_BATCH_ROWS:
                per_file.extend(batches.load_landing_batch(store_path, kind, pending, latest_allowed_at, rejected))
                pending, pending_rows, pending_arrow_rows = [], 0, 0
    if pending:
        per_file.extend(batches.load_landing_batch(store_path, kind, pending, latest_allowed_at, rejected))
    return per_file


def _run_summary(
    per_file: list[dict[str, Any]],
    rejected: list[dict[str, str]],
    ignored: Sequence[Path],
    not_yet_due: Sequence[Path],
    started: float,
) -> dict[str, Any]:
    loaded = [f for f in per_file if f["status"] == "loaded"]
    return {
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


def ingest_paths(
    paths: Sequence[PathLike],
    *,
    store_path: StorePath = None,
    now: datetime | None = None,
    raise_on_reject: bool = True,
    through: date | None = None,
) -> dict[str, Any]:
    """Load landing files or folders: files already loaded are skipped, bad files rejected, the
    rest loaded.

    Files are checked in batches of one kind (up to MAX_BATCH_ROWS rows, of which at most
    MAX_ARROW_BATCH_ROWS typed by Arrow; one transaction each). A rejected file writes nothing;
    with raise_on_reject (the CLI) it raises ContractError after the other files are loaded,
    carrying the summary as `.summary`.
    `now` is the instant after which a timestamp is "in the future" (a daily job passes the end of
    its as-of day); with `through`, files whose name carries a later day (`events_2026-03-02`) are
    left for a later run instead of having their events quarantined as future ones.
    """
    started = time.perf_counter()
    files, ignored, links = find_landing_files(paths)
    not_yet_due: list[Path] = []
    if through is not None:
        not_yet_due = [p for p in files if (day := _file_day(p)) is not None and day > through]
        files = [p for p in files if p not in set(not_yet_due)]
    latest_allowed_at = latest_allowed(now)
    per_file: list[dict[str, Any]] = []
    rejected: list[dict[str, str]] = [
        {"path": str(link), "error": str(file_problem(link, "is a symbolic link", _COPY_IT))} for link in links
    ]
    progress = tqdm(total=len(files), desc="ingest", unit="file", disable=None, leave=False)
    with ThreadPoolExecutor(max_workers=READ_THREADS) as pool:
        hashes = list(pool.map(checked.sha256_of, files))
        # Short connections only (a reader is locked out while one is open): a quick look here,
        # then one transaction per batch of files.
        with store.connect(store_path) as con:
            seen = checked.seen_hashes(con, hashes)
        todo = _files_to_load(files, hashes, seen, per_file, rejected, progress)
        for kind in KINDS:
            kind_files = [(p, s) for p, s, k in todo if k == kind]
            per_file.extend(_load_kind(pool, store_path, kind, kind_files, latest_allowed_at, rejected, progress))
    progress.close()
    summary = _run_summary(per_file, rejected, ignored, not_yet_due, started)
    if rejected and raise_on_reject:
        more = f" (and {len(rejected) - 1} more rejected files)" if len(rejected) > 1 else ""
        error = ContractError(rejected[0]["error"] + more)
        error.summary = summary  # type: ignore[attr-defined]
        raise error
    return summary


def ingest_file(path: PathLike, *, store_path: StorePath = None, now: datetime | None = None) -> dict[str, Any]:
    """Load one landing file in one transaction; raises ContractError (writing nothing) if it
    breaks the contract."""
    source = Path(path)
    landing_kind(source)
    summary = ingest_paths([source], store_path=store_path, now=now)
    return summary["files"][0]
