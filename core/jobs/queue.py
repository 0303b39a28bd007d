"""Jobs started from the dashboard: a detached subprocess running the same code as the CLI.

The page never trains or renders in its own thread. `enqueue_*` starts `python -m core ...` in a new
session and returns the id of the run that holds the job's lock; `core.jobs.runs.job_run`'s lock makes a
second start a no-op, and a start while a run is going returns that run's id (a double click is the
same job). The page polls `job_status` for progress.
Run a job by hand: `python -m core.jobs.queue drift-report --store S --as-of 2026-03-10`.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from core import config, store
from core.config import StorePath
from core.errors import JourneyOpsError
from core.jobs import runs
from core.monitor import drift_evidently, drift_store

START_TIMEOUT_S = 60.0
POLL_S = 0.1
# Before a kind has a finished run to time itself by, progress is estimated against this many seconds.
DEFAULT_DURATION_S = 60.0
ESTIMATE_CAP = 0.95


_HOST = socket.gethostname()


class JobStartError(JourneyOpsError):
    """A job's process ended (or hung) before it recorded a run."""


@dataclass(frozen=True)
class JobStatus:
    """Where a run stands: status, progress 0..1 (reported by the job, else estimated), a message."""

    run_id: str
    kind: str
    status: str
    fraction: float
    message: str
    started_at: datetime
    ended_at: datetime | None
    error: str | None
    figures: dict[str, Any]

    @property
    def running(self) -> bool:
        """Whether the run is still going."""
        return self.status == "running"


def log_path(kind: str, store_path: StorePath = None) -> Path:
    """Where a dashboard-started job of `kind` writes its output (beside the store)."""
    path = config.store_path(store_path)
    return path.parent / f"{path.stem}_jobs" / f"{kind}.log"


def drift_report_path(as_of: date, store_path: StorePath = None) -> Path:
    """Where the Evidently HTML report of a day's drift snapshot is kept (beside the store)."""
    path = config.store_path(store_path)
    return path.parent / f"{path.stem}_reports" / f"drift_{as_of:%Y-%m-%d}.html"


def _runs(
    store_path: StorePath, *, run_id: str | None = None, kind: str | None = None, pid: int | None = None
) -> pd.DataFrame:
    return store.fetch_df("operations_job_run", {"run_id": run_id, "kind": kind, "pid": pid}, store_path)


def running_run(kind: str, store_path: StorePath = None) -> str | None:
    """The id of the run of `kind` holding the lock (its process alive), or None."""
    running = store.fetch_df("jobs_running", {"kind": kind}, store_path)
    for row in running.itertuples():
        # a run whose process died on this host no longer holds the lock (the next claim abandons it)
        if row.host != _HOST or runs._process_alive(int(row.pid)):
            return str(row.run_id)
    return None


def _reap(process: subprocess.Popen[bytes]) -> None:
    # The dashboard never waits for its jobs; a thread collects each one's exit so none stays a zombie
    # (a zombie's pid still answers, and the lock would look held).
    threading.Thread(target=process.wait, daemon=True).start()


def enqueue(kind: str, argv: list[str], store_path: StorePath = None, timeout_s: float = START_TIMEOUT_S) -> str:
    """Start `python -m <argv>` detached unless a `kind` run is going; the id of the run holding the lock."""
    path = config.store_path(store_path)
    held = running_run(kind, path)
    if held is not None:
        return held
    log = log_path(kind, path)
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", *argv],
            cwd=config.REPO_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "JOURNEYOPS_STORE": str(path)},
        )
    _reap(process)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        held = running_run(kind, path)
        if held is not None:
            return held  # ours, or one that claimed the lock first (ours then exits as a no-op)
        mine = _runs(path, kind=kind, pid=process.pid)
        if not mine.empty:
            return str(mine.loc[0, "run_id"])  # ours, already finished
        if process.poll() is not None:
            tail = log.read_text(errors="replace").strip().splitlines()[-1:] or ["no output"]
            raise JobStartError(
                f"the {kind} job exited with code {process.returncode} before it started: {tail[0]} "
                f"(full output in {log})"
            )
        time.sleep(POLL_S)
    raise JobStartError(f"the {kind} job did not record a run within {timeout_s:.0f} s; see {log}")


def enqueue_retrain(store_path: StorePath = None, actor: str = "dashboard") -> str:
    """Start `python -m core retrain --store S --actor USER` unless a retrain runs; the run id."""
    path = config.store_path(store_path)
    return enqueue("retrain", ["core", "retrain", "--store", str(path), "--actor", actor], path)


def enqueue_drift_report(as_of: date, store_path: StorePath = None) -> str:
    """Render the day's stored Evidently snapshot to HTML in a background job; the run id."""
    path = config.store_path(store_path)
    argv = ["core.jobs.queue", "drift-report", "--store", str(path), "--as-of", as_of.isoformat()]
    return enqueue("drift_report", argv, path)


def _typical_duration_s(kind: str, store_path: StorePath) -> float:
    done = _runs(store_path, kind=kind)
    done = done.loc[done["status"] == "succeeded", "duration_s"].dropna()
    return float(done.median()) if len(done) else DEFAULT_DURATION_S


def job_status(run_id: str, store_path: StorePath = None, now: datetime | None = None) -> JobStatus:
    """The run's status and progress: the job's own figure when it reports one, else elapsed ÷ typical."""
    found = _runs(store_path, run_id=run_id)
    if found.empty:
        raise JobStartError(f"no job run {run_id} in the store")
    row = found.iloc[0]
    figures = json.loads(row["figures"]) if isinstance(row["figures"], str) else {}
    started = pd.Timestamp(row["started_at"]).to_pydatetime()
    ended = None if pd.isna(row["ended_at"]) else pd.Timestamp(row["ended_at"]).to_pydatetime()
    error = None if pd.isna(row["error"]) else str(row["error"])
    status = str(row["status"])
    if status != "running":
        fraction, message = (1.0, "done") if status == "succeeded" else (0.0, error or status)
    elif "progress" in figures:
        fraction, message = float(figures["progress"]), str(figures.get("progress_message", ""))
    else:
        elapsed = ((now or store.utcnow()) - started).total_seconds()
        typical = _typical_duration_s(str(row["kind"]), store_path)
        fraction = min(elapsed / typical, ESTIMATE_CAP) if typical > 0 else 0.0
        message = f"running for {elapsed:.0f} s (a {row['kind']} run usually takes {typical:.0f} s)"
    return JobStatus(
        run_id=run_id,
        kind=str(row["kind"]),
        status=status,
        fraction=fraction,
        message=message,
        started_at=started,
        ended_at=ended,
        error=error,
        figures=figures,
    )


def render_drift_report(as_of: date, store_path: StorePath = None) -> Path:
    """The drift-report job: write the day's Evidently HTML from its stored snapshot, as a recorded run."""

    path = config.store_path(store_path)
    with runs.job_run("drift_report", {"as_of": as_of}, path) as run:
        runs.report_progress(run, 0.1, "reading the stored snapshot", path)
        snapshot = drift_store.read_snapshot_json(as_of, path)
        if snapshot is None:
            raise JobStartError(
                f"no drift snapshot for {as_of}: a daily run keeps one, a backfill for its last "
                "days only; re-run `python -m core daily --as-of` for that day to keep its report"
            )
        runs.report_progress(run, 0.4, "rendering Evidently's report", path)
        # written aside, then moved: a page never shows a half-written file
        target = drift_report_path(as_of, path)
        partial = drift_evidently.render_drift_html(snapshot, target.with_suffix(".partial"))
        partial.replace(target)
        run.figures.update({"as_of": as_of.isoformat(), "bytes": target.stat().st_size})
    return target


def main(argv: list[str] | None = None) -> int:
    """`python -m core.jobs.queue drift-report --store S --as-of DAY`: the background jobs' entry point."""
    parser = argparse.ArgumentParser(prog="python -m core.jobs.queue")
    sub = parser.add_subparsers(dest="command", required=True)
    report = sub.add_parser("drift-report", help="render a day's Evidently drift report to HTML")
    report.add_argument("--store", required=True)
    report.add_argument("--as-of", required=True, type=date.fromisoformat)
    args = parser.parse_args(argv)
    try:
        print(render_drift_report(args.as_of, args.store))
    except JourneyOpsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return getattr(exc, "exit_code", 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
