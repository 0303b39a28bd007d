"""Job run records and locks: every run is recorded, and one job of a kind runs at a time.

The lock is a `running` row in `job_runs`, claimed in one transaction (DuckDB's single writer makes
the claim atomic across processes). A run whose process died is found by its pid on this host and
marked `abandoned`, so a killed job never blocks the next one.
"""

from __future__ import annotations

import json
import os
import socket
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from core import store
from core.config import StorePath
from core.errors import JourneyOpsError


class JobAlreadyRunningError(JourneyOpsError):
    """Another run of the same kind holds the lock."""

    exit_code = 75


@dataclass
class JobRun:
    """A run in progress; `figures` are stored with it when it ends."""

    run_id: str
    kind: str
    figures: dict[str, Any] = field(default_factory=dict)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _lease_hours() -> float:
    return float(os.environ.get("JOURNEYOPS_JOB_LEASE_H", "6"))


def _claim(kind: str, params: Mapping[str, Any], store_path: StorePath) -> JobRun:
    host = socket.gethostname()
    with store.transaction(store_path) as con:
        running = con.execute(store.load_sql("jobs_running"), {"kind": kind}).df()
        now = store.utcnow()
        for row in running.itertuples():
            # A dead process on this host, or a run older than the lease on any host (a killed pod
            # elsewhere leaves a row we cannot check by pid), no longer holds the lock.
            dead_here = row.host == host and not _process_alive(int(row.pid))
            expired = (now - row.started_at).total_seconds() > _lease_hours() * 3600
            if dead_here or expired:
                why = (
                    "the process ended without finishing"
                    if dead_here
                    else (f"no end recorded within the {_lease_hours():g} h lease")
                )
                con.execute(store.load_sql("jobs_abandon"), {"at": now, "run_id": row.run_id, "why": why})
                continue
            raise JobAlreadyRunningError(
                f"a {kind} job is already running (run {row.run_id}, pid {row.pid} on {row.host}, "
                f"started {row.started_at:%Y-%m-%d %H:%M} UTC); wait for it to finish"
            )
        run = JobRun(run_id=uuid.uuid4().hex[:12], kind=kind)
        con.execute(
            store.load_sql("jobs_start"),
            {
                "run_id": run.run_id,
                "kind": kind,
                "params": json.dumps(dict(params), default=str),
                "pid": os.getpid(),
                "host": host,
                "at": store.utcnow(),
            },
        )
    return run


def _finish(run: JobRun, status: str, error: str | None, store_path: StorePath) -> None:
    with store.transaction(store_path) as con:
        con.execute(
            store.load_sql("jobs_finish"),
            {
                "status": status,
                "at": store.utcnow(),
                "error": error,
                "figures": json.dumps(run.figures, default=str),
                "run_id": run.run_id,
            },
        )


@contextmanager
def job_run(kind: str, params: Mapping[str, Any] | None = None, store_path: StorePath = None) -> Iterator[JobRun]:
    """Claim the lock of `kind`, record the run, and record how it ended (succeeded or failed)."""
    run = _claim(kind, params or {}, store_path)
    try:
        yield run
    except BaseException as exc:
        _finish(run, "failed", f"{type(exc).__name__}: {exc}"[:2000], store_path)
        raise
    _finish(run, "succeeded", None, store_path)


def recent_runs(kind: str | None = None, limit: int = 50, store_path: StorePath = None) -> pd.DataFrame:
    """The latest job runs, newest first, with their duration in seconds."""
    return store.fetch_df("jobs_recent", {"kind": kind, "limit": limit}, store_path)


def report_progress(run: JobRun, fraction: float, message: str, store_path: StorePath = None) -> None:
    """Record how far a running job is (0..1) and what it is doing, for a page polling its row."""
    clamped = min(max(float(fraction), 0.0), 1.0)
    # Kept in figures so no schema change is needed; the run's own figures replace it when it ends.
    figures = {**run.figures, "progress": clamped, "progress_message": message}
    with store.transaction(store_path) as con:
        con.execute(
            store.load_sql("operations_report_progress"),
            {"figures": json.dumps(figures, default=str), "run_id": run.run_id},
        )
