"""Backup and restore: the store and its model artifacts together, consistent, with a manifest.

A backup holds the store's write lock while it copies: it opens a write connection (no other process
can write, or even open the file, meanwhile), CHECKPOINTs so the write-ahead log is folded into the
file, and copies the store file, the model artifacts (the registry rows and the files they name
cannot disagree) and the simulated world's state, if any. It is written to a hidden staging folder
and renamed into place last, with `manifest.json` holding the sha256 and size of every file, the
schema version, the row count of every table, the champions and `status`; a folder without a
manifest is an incomplete backup.

A restore verifies everything before it touches the current store: the manifest, every file's size
and sha256, the schema version, and the row counts of the staged copy opened by DuckDB. Only then
does it swap the staged store in with one atomic rename; the previous store and models are kept in
a `pre-restore-<stamp>` folder beside the store.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import socket
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from core import config, logs, store
from core.config import StorePath
from core.errors import JourneyOpsError, StoreMissingError
from core.jobs import runs
from core.ops.backup_manifest import (
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    STORE_NAME,
    BackupError,
    sha256_file,
    verify_backup,
)

__all__ = ["BackupError", "create_backup", "restore_backup", "sha256_file", "verify_backup"]

STAMP_PREFIX = "backup-"
_STAMPED = re.compile(r"backup-\d{8}T\d{6}Z")
log = logs.get_logger("backup")


class BackupSpaceError(BackupError):
    """The backup's folder ran out of space (or hit a file-size limit) while it was written."""

    exit_code = 74  # like StoreWriteError: retrying without freeing space will not help


# A full disk, a file-size limit (RLIMIT_FSIZE), a quota.
_NO_SPACE = (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)


def _stamp(now: datetime) -> str:
    return now.strftime("%Y%m%dT%H%M%SZ")


def _world_state(store_file: Path) -> Path:
    # Same place as core.jobs.closed_loop.world_state_file, without importing the simulator here.
    return store_file.with_name(f"{store_file.stem}_world.npz")


def _visible_files(folder: Path) -> Iterator[Path]:
    """Files under `folder`, skipping hidden names (staged artifacts of a retrain in progress)."""
    if not folder.is_dir():
        return
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if path.is_file() and not any(part.startswith(".") for part in relative.parts):
            yield path


def table_counts(con: Any) -> dict[str, int]:
    """Row count of every table of the store's main schema."""
    tables = con.execute(store.load_sql("backup_tables")).df()["table_name"].tolist()
    return {
        name: int(con.execute(store.load_sql("backup_count_rows"), {"table_name": name}).df()["row_count"].iloc[0])
        for name in tables
    }


def _champions(con: Any) -> dict[str, str]:
    rows = con.execute(store.load_sql("backup_champions")).df()
    return dict(zip(rows["kind"], rows["version_id"], strict=True))


def _copy_into(source: Path, target: Path) -> dict[str, Any]:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    return {"bytes": target.stat().st_size, "sha256": sha256_file(target)}


def _target_folder(out: Path, stamped: bool, now: datetime) -> Path:
    if stamped and out.exists() and not out.is_dir():
        raise BackupError(f"{out} is a file, not a folder; give --out a folder for the dated backups")
    target = out / f"{STAMP_PREFIX}{_stamp(now)}" if stamped else out
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BackupError(
            f"backup folder {target} already exists and is not empty; give a new folder "
            "(or use --stamp for a dated folder inside it)"
        )
    return target


def create_backup(
    out: str | os.PathLike[str],
    store_path: StorePath = None,
    *,
    stamped: bool = False,
    keep: int | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Write a consistent backup of the store, its models and world state to `out` (or a dated folder
    in it when `stamped`); returns the manifest plus `path`. `keep` prunes older dated backups."""
    store_file = config.store_path(store_path)
    if not store_file.exists():
        raise StoreMissingError(f"no store at {store_file} to back up; pass --store PATH")
    now = now or datetime.now(UTC)
    target = _target_folder(Path(out), stamped, now)
    staging = target.parent / f".{target.name}.partial-{uuid.uuid4().hex[:8]}"
    staging.mkdir(parents=True)
    try:
        with runs.job_run("backup", {"out": str(target)}, store_file) as run:
            files, schema_version, counts, champions = _copy_store(store_file, staging)
            status = store.read_status(staging / STORE_NAME)
            manifest = {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "created_at": now.replace(tzinfo=None).isoformat(timespec="seconds"),
                "host": socket.gethostname(),
                "run_id": run.run_id,
                "source_store": str(store_file),
                "schema_version": schema_version,
                "counts": counts,
                "champions": champions,
                "status": status,
                "files": files,
            }
            _write_json(staging / MANIFEST, manifest)
            os.replace(staging, target)
            run.figures.update(files=len(files), bytes=sum(f["bytes"] for f in files.values()), path=str(target))
    except BaseException as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(exc, OSError) and exc.errno in _NO_SPACE:
            raise BackupSpaceError(
                f"the backup could not be written to {target.parent} ({exc.strerror}); nothing of it was kept: "
                "free space there (or pass another --out) and run the backup again"
            ) from exc
        raise
    log.info(
        "backup written",
        extra={"path": str(target), "files": len(files), "bytes": run.figures["bytes"], "job_run_id": run.run_id},
    )
    pruned = prune_backups(Path(out), keep) if stamped and keep else []
    return {**manifest, "path": str(target), "pruned": [str(p) for p in pruned]}


def _copy_store(store_file: Path, staging: Path) -> tuple[dict[str, dict[str, Any]], int, Any, Any]:
    """Copy the store, its models and world state into `staging`: (files, schema version, row counts,
    champions)."""
    models_dir = config.models_dir(store_file)
    files: dict[str, dict[str, Any]] = {}
    # Holding a write connection is holding DuckDB's file lock: nobody writes while we copy.
    with store.connect(store_file) as con:
        con.execute("checkpoint")
        schema_version = int(con.execute(store.load_sql("backup_schema_version")).df()["schema_version"].iloc[0])
        counts = table_counts(con)
        champions = _champions(con)
        files[STORE_NAME] = _copy_into(store_file, staging / STORE_NAME)
        logs.pause_point("backup:copying")
        for path in _visible_files(models_dir):
            name = str(PurePosixPath("models", *path.relative_to(models_dir).parts))
            files[name] = _copy_into(path, staging / name)
        world = _world_state(store_file)
        if world.exists():
            files["world/world.npz"] = _copy_into(world, staging / "world" / "world.npz")
    return files, schema_version, counts, champions


def _write_json(path: Path, payload: dict[str, Any]) -> None:
    path.write_text(json.dumps(payload, indent=2, sort_keys=True, default=str))


def prune_backups(folder: Path, keep: int) -> list[Path]:
    """Delete the oldest dated backups in `folder` beyond the newest `keep`; the deleted folders."""
    if keep < 1:
        raise BackupError(f"--keep {keep}: keep at least one backup")
    dated = sorted(p for p in folder.iterdir() if p.is_dir() and _STAMPED.fullmatch(p.name))
    doomed = dated[:-keep]
    for path in doomed:
        shutil.rmtree(path)
        log.info("old backup deleted", extra={"path": str(path)})
    return doomed


def _stage(manifest: dict[str, Any], backup: Path, store_file: Path, models_dir: Path, tag: str) -> tuple[Path, Path]:
    """Copy the backup's store and models next to their targets (same file system: renames are atomic)
    and check the copies again; (staged store, staged models folder)."""
    staged_store = store_file.with_name(f".{store_file.name}.restore-{tag}")
    staged_models = models_dir.with_name(f".{models_dir.name}.restore-{tag}")
    staged_models.mkdir(parents=True)
    for name, entry in manifest["files"].items():
        if name == STORE_NAME:
            copied = _copy_into(backup / name, staged_store)
        elif name.startswith("models/"):
            copied = _copy_into(backup / name, staged_models.joinpath(*PurePosixPath(name).parts[1:]))
        else:
            continue
        if copied["sha256"] != entry["sha256"]:
            raise BackupError(f"copying {name} from {backup} changed its bytes (disk trouble?); nothing was restored")
    return staged_store, staged_models


def _check_staged(staged_store: Path, manifest: dict[str, Any], backup: Path) -> None:
    """Open the staged copy with DuckDB and compare every table's rows with the manifest."""
    try:
        with store.connect(staged_store, read_only=True) as con:
            counts = table_counts(con)
    except JourneyOpsError:
        raise
    except Exception as exc:
        raise BackupError(f"the store in {backup} does not open ({exc}); use another backup") from exc
    expected = {k: int(v) for k, v in manifest["counts"].items()}
    if counts != expected:
        differing = sorted(k for k in set(counts) | set(expected) if counts.get(k) != expected.get(k))
        raise BackupError(
            f"the store in {backup} does not hold what its manifest says (tables {', '.join(differing)}); "
            "use another backup"
        )


def _refuse_if_busy(store_file: Path, force: bool) -> None:
    """Refuse to replace a store while its runs are in progress (unless forced); fold its WAL in."""
    with store.connect(store_file) as con:
        running = con.execute(store.load_sql("backup_running_jobs")).df()
        con.execute("checkpoint")
    if len(running) and not force:
        first = running.iloc[0]
        raise BackupError(
            f"{len(running)} job run(s) are marked running in {store_file} (e.g. {first['kind']} "
            f"{first['run_id']}, pid {first['pid']} on {first['host']}); stop the scheduler and jobs first, "
            "or pass --force if they are dead"
        )


def restore_backup(
    path: str | os.PathLike[str],
    store_path: StorePath = None,
    *,
    force: bool = False,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Verify a backup, then put its store, models and world state in place of the current ones.

    Refuses a damaged or incomplete backup before touching anything, and refuses to replace an
    existing store without `force`. The previous store and models are kept in `pre-restore-<stamp>`.
    """
    backup = Path(path)
    manifest = verify_backup(backup)
    store_file = config.store_path(store_path)
    models_dir = config.models_dir(store_file)
    if store_file.exists() and not force:
        raise BackupError(
            f"a store already exists at {store_file}; stop the dashboard, API and scheduler, then pass "
            "--force to replace it (the current store is kept in a pre-restore folder beside it)"
        )
    now = now or datetime.now(UTC)
    tag = uuid.uuid4().hex[:8]
    store_file.parent.mkdir(parents=True, exist_ok=True)
    models_dir.parent.mkdir(parents=True, exist_ok=True)
    staged_store, staged_models = _stage(manifest, backup, store_file, models_dir, tag)
    kept: Path | None = None
    try:
        _check_staged(staged_store, manifest, backup)
        # Runs in progress when the backup was taken are not running now; their locks must not block.
        with store.transaction(staged_store) as con:
            con.execute(store.load_sql("backup_abandon_running"), {"at": store.utcnow()})
        with store.connect(staged_store) as con:
            con.execute("checkpoint")
        if store_file.exists():
            _refuse_if_busy(store_file, force)
            kept = _keep_previous(store_file, models_dir, now)
        logs.pause_point("restore:staged")
        os.replace(staged_store, store_file)
        logs.pause_point("restore:swapping")
        if models_dir.exists():
            shutil.rmtree(models_dir)  # a copy is in the pre-restore folder
        os.replace(staged_models, models_dir)
    finally:
        staged_store.unlink(missing_ok=True)
        staged_store.with_name(staged_store.name + ".wal").unlink(missing_ok=True)
        shutil.rmtree(staged_models, ignore_errors=True)
    if manifest["files"].get("world/world.npz") is not None:
        _restore_world(backup, store_file, tag)
    status = store.read_status(store_file)
    log.info(
        "store restored", extra={"backup": str(backup), "store": str(store_file), "kept": str(kept) if kept else None}
    )
    return {
        "restored_from": str(backup),
        "store": str(store_file),
        "models": str(models_dir),
        "previous_kept_in": str(kept) if kept else None,
        "status": status,
        "champions": manifest.get("champions", {}),
        "schema_version": manifest["schema_version"],
    }


def _restore_world(backup: Path, store_file: Path, tag: str) -> None:
    world = _world_state(store_file)
    staged_world = world.with_name(f".{world.name}.restore-{tag}")
    shutil.copyfile(backup / "world" / "world.npz", staged_world)
    os.replace(staged_world, world)


def _keep_previous(store_file: Path, models_dir: Path, now: datetime) -> Path:
    """Copy the current store, its models and world state into a pre-restore folder beside the store."""
    kept = store_file.parent / f"pre-restore-{_stamp(now)}-{uuid.uuid4().hex[:4]}"
    kept.mkdir(parents=True)
    shutil.copy2(store_file, kept / store_file.name)
    wal = store_file.with_name(store_file.name + ".wal")
    if wal.exists():  # a WAL left beside the new store would be replayed into it
        os.replace(wal, kept / wal.name)
    if models_dir.exists():
        shutil.copytree(models_dir, kept / "models")
    world = _world_state(store_file)
    if world.exists():
        shutil.copy2(world, kept / world.name)
    return kept
