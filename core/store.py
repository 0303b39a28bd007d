"""The journey store: the only module that opens DuckDB.

DuckDB allows one writing process or several reading ones, never both, so connections here are
short-lived, write transactions are short, and a lock held by another process is retried with a
bounded backoff before a calm `StoreBusyError`. Read-only connections have external file access
disabled and their configuration locked, so no query can reach files on the server.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from core import config
from core.config import StorePath
from core.errors import StoreBusyError, StoreDamagedError, StoreInvalidError, StoreMissingError, StoreWriteError

SQL_DIR = Path(__file__).parent / "sql"
_MIGRATION = re.compile(r"schema_(\d{3})\.sql")
_LOCK_MESSAGES = ("Could not set lock", "Conflicting lock", "database is locked")
_WAL_DAMAGE_MESSAGES = ("Failure while replaying WAL", "Corrupt WAL file")
# errno texts of a full disk, a file-size limit (RLIMIT_FSIZE) and a quota, as DuckDB reports them.
_DISK_FULL_MESSAGES = ("No space left on device", "File too large", "Disk quota exceeded")
_NOT_A_DATABASE = "is not a valid DuckDB database file"
_READ_ONLY_CONFIG = {"enable_external_access": False, "lock_configuration": True}


@cache
def load_sql(name: str) -> str:
    """The text of core/sql/<name>.sql."""
    return (SQL_DIR / f"{name}.sql").read_text()


def migrations() -> list[tuple[int, str]]:
    """(version, file name) of every schema migration, in order."""
    found = [(int(m.group(1)), p.name) for p in SQL_DIR.iterdir() if (m := _MIGRATION.fullmatch(p.name))]
    return sorted(found)


def schema_version() -> int:
    """The schema version this code expects."""
    return migrations()[-1][0]


def _is_lock_error(exc: Exception) -> bool:
    return any(m in str(exc) for m in _LOCK_MESSAGES)


def _config(base: dict[str, Any]) -> dict[str, Any]:
    limit = config.duckdb_memory_limit()
    return {**base, "memory_limit": limit} if limit else dict(base)


def _open_with_retry(path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + config.lock_wait_seconds()
    delay = 0.02
    while True:
        try:
            if read_only:
                return duckdb.connect(str(path), read_only=True, config=_config(_READ_ONLY_CONFIG))
            return duckdb.connect(str(path), config=_config({}))
        except duckdb.IOException as exc:
            if _is_disk_full(exc):
                raise _write_error(path, exc) from exc
            if path.is_dir() or _NOT_A_DATABASE in str(exc):
                raise _not_a_store(path, exc) from exc
            if not _is_lock_error(exc):
                raise
            if time.monotonic() + delay > deadline:
                raise StoreBusyError(
                    f"the store {path} is locked by another process (a job writing to it); "
                    "try again when it has finished"
                ) from exc
            time.sleep(delay)
            delay = min(delay * 2, 0.5)
        except duckdb.Error as exc:
            if any(m in str(exc) for m in _WAL_DAMAGE_MESSAGES):
                raise _damaged_wal_error(path, exc) from exc
            raise


def _damaged_wal_error(path: Path, exc: Exception) -> StoreDamagedError:
    # Never moved aside here: the log may hold committed transactions a person may want to rescue.
    wal = path.with_name(path.name + ".wal")
    detail = str(exc).splitlines()[0].split(": ", 1)[-1][:200]
    return StoreDamagedError(
        f"the store's write-ahead log {wal} is damaged ({detail}), so the store was not opened; "
        f"move the log aside (mv {wal} {wal}.damaged) to open the store as of its last checkpoint, "
        "losing the transactions committed after it, or restore a backup (python -m core restore)"
    )


def _is_disk_full(exc: Exception) -> bool:
    return any(m in str(exc) for m in _DISK_FULL_MESSAGES)


def _write_error(path: Path, exc: Exception) -> StoreWriteError:
    detail = str(exc).splitlines()[0][-200:]
    return StoreWriteError(
        f"the store {path} could not be written ({detail}); the write was rolled back and what was "
        "stored before is intact: free disk space (or raise the file-size limit) and run the command again"
    )


def _not_a_store(path: Path, exc: Exception) -> StoreInvalidError:
    if path.is_dir():
        return StoreInvalidError(f"{path} is a folder, not a store file; pass --store PATH of a .duckdb file")
    detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return StoreInvalidError(
        f"{path} cannot be opened as a store ({detail}); pass --store PATH of a JourneyOps .duckdb file"
    )


def _migrate(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create table if not exists schema_version (version integer not null, applied_at timestamp not null)")
    # Apply every migration not yet recorded (not just those above the highest), so a migration
    # numbered into a gap by a parallel branch still runs.
    applied = {int(v) for (v,) in con.execute("select version from schema_version").fetchall()}
    for version, name in migrations():
        if version in applied:
            continue
        con.execute("begin transaction")
        try:
            con.execute(load_sql(name.removesuffix(".sql")))
            con.execute("insert into schema_version values ($v, $at)", {"v": version, "at": utcnow()})
            con.execute("commit")
        except Exception:
            con.execute("rollback")
            raise


def utcnow() -> datetime:
    """Now in UTC, without tzinfo: the form every timestamp in the store takes."""
    return datetime.now(UTC).replace(tzinfo=None)


@contextmanager
def connect(path: StorePath = None, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short-lived connection; a writer creates and migrates the store, a reader needs it to exist."""
    store = config.store_path(path)
    if read_only and not store.exists():
        raise StoreMissingError(
            f"no store at {store}; create one with `python -m core init --store {store}`, build the demo "
            "with `python -m core demo`, or pass --store PATH"
        )
    if not read_only:
        store.parent.mkdir(parents=True, exist_ok=True)
    con = _open_with_retry(store, read_only)
    try:
        if not read_only:
            _migrate(con)
        yield con
    except duckdb.Error as exc:
        # A full disk or a file-size limit, met by a commit, a checkpoint or a migration: one calm line.
        if _is_disk_full(exc):
            raise _write_error(store, exc) from exc
        raise
    finally:
        con.close()


@contextmanager
def transaction(path: StorePath = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A write connection inside one transaction: all of it commits, or none of it."""
    with connect(path) as con:
        con.execute("begin transaction")
        try:
            yield con
        except BaseException:
            con.execute("rollback")
            raise
        con.execute("commit")


def fetch_df(sql_name: str, params: Mapping[str, Any] | None = None, path: StorePath = None) -> pd.DataFrame:
    """Run core/sql/<sql_name>.sql read-only with bound parameters and return a DataFrame."""
    with connect(path, read_only=True) as con:
        return con.execute(load_sql(sql_name), dict(params or {})).df()


def read_status(path: StorePath = None) -> dict[str, Any]:
    """Counts and time range of what the store holds."""
    row = fetch_df("status", path=path).iloc[0]
    status: dict[str, Any] = {k: int(row[k]) for k in ("orders", "events", "open_orders", "quarantined_rows")}
    for key in ("first_event_at", "last_event_at"):
        status[key] = None if pd.isna(row[key]) else pd.Timestamp(row[key]).isoformat()
    return status
