"""Jobs started from the dashboard: detached, one at a time, a double start is the same run, progress."""

from __future__ import annotations

import json
import os
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core import store
from core.jobs import queue, runs
from core.jobs.queue import JobStartError
from core.monitor import drift
from core.monitor.drift_store import store_drift

DAY = date(2026, 3, 2)


def insert_run(
    path: Path,
    run_id: str,
    kind: str,
    status: str,
    started: datetime,
    seconds: float | None,
    pid: int = 1,
    figures: dict | None = None,
) -> None:
    """A job_runs row written by hand (finished runs need no live process)."""
    with store.transaction(path) as con:
        con.execute(
            "insert into job_runs (run_id, kind, status, params, pid, host, started_at, ended_at, error, figures) "
            "values ($run_id, $kind, $status, '{}', $pid, 'elsewhere', $started, $ended, $error, $figures)",
            {
                "run_id": run_id,
                "kind": kind,
                "status": status,
                "pid": pid,
                "started": started,
                "ended": None if seconds is None else started + timedelta(seconds=seconds),
                "error": "ValueError: boom" if status == "failed" else None,
                "figures": json.dumps(figures) if figures is not None else None,
            },
        )


def drift_store(path: Path) -> Path:
    """A store holding one day's drift rows and Evidently snapshot (a small, realistic batch)."""
    rng = np.random.default_rng(1)
    reference = pd.DataFrame({"elapsed_h": rng.lognormal(3.5, 0.8, 600), "carrier": rng.choice(["a", "b"], 600)})
    current = pd.DataFrame({"elapsed_h": rng.lognormal(4.0, 0.8, 400), "carrier": rng.choice(["a", "b"], 400)})
    result = drift.attach_report(drift.compute_drift(reference, current, ["elapsed_h", "carrier"]))
    store_drift(result, DAY, path, model_version="forecaster-v1")
    return path


def test_report_progress_writes_the_running_row_only(store_file):
    with runs.job_run("retrain", {}, store_file) as run:
        run.figures["rows"] = 10
        runs.report_progress(run, 1.7, "fitting", store_file)
        status = queue.job_status(run.run_id, store_file)
        assert (status.status, status.fraction, status.message) == ("running", 1.0, "fitting")
        runs.report_progress(run, 0.25, "scoring", store_file)
        assert queue.job_status(run.run_id, store_file).fraction == 0.25
        assert queue.job_status(run.run_id, store_file).figures == {
            "rows": 10,
            "progress": 0.25,
            "progress_message": "scoring",
        }
    runs.report_progress(run, 0.5, "late", store_file)  # after the end: the run keeps its own figures
    done = queue.job_status(run.run_id, store_file)
    assert (done.status, done.fraction, done.message, done.figures) == ("succeeded", 1.0, "done", {"rows": 10})


def test_progress_is_estimated_from_the_typical_duration_of_the_kind(store_file):
    start = datetime(2026, 3, 2, 8, 0)
    insert_run(store_file, "a", "retrain", "succeeded", start, 100)
    insert_run(store_file, "b", "retrain", "succeeded", start + timedelta(hours=1), 300)
    insert_run(store_file, "c", "retrain", "failed", start + timedelta(hours=2), 5)
    insert_run(store_file, "d", "retrain", "running", start + timedelta(hours=3), None)
    status = queue.job_status("d", store_file, now=start + timedelta(hours=3, seconds=100))
    assert status.running and status.fraction == pytest.approx(0.5)  # median of 100 s and 300 s: 200 s
    assert status.message == "running for 100 s (a retrain run usually takes 200 s)"
    late = queue.job_status("d", store_file, now=start + timedelta(hours=4))
    assert late.fraction == queue.ESTIMATE_CAP
    failed = queue.job_status("c", store_file)
    assert (failed.status, failed.fraction, failed.message) == ("failed", 0.0, "ValueError: boom")
    with pytest.raises(JobStartError, match="no job run zzz in the store"):
        queue.job_status("zzz", store_file)


def test_a_second_start_while_a_run_holds_the_lock_is_the_same_run(store_file, monkeypatch):
    spawned: list[list[str]] = []
    monkeypatch.setattr(queue.subprocess, "Popen", lambda argv, **_: spawned.append(argv))
    with runs.job_run("retrain", {}, store_file) as run:
        assert queue.running_run("retrain", store_file) == run.run_id
        assert queue.enqueue_retrain(store_file, actor="ana") == run.run_id
        assert queue.enqueue_retrain(store_file, actor="ana") == run.run_id  # the double click
    assert spawned == []
    assert queue.running_run("retrain", store_file) is None


def test_a_run_whose_process_died_does_not_hold_the_lock(store_file):
    insert_run(store_file, "ghost", "retrain", "running", datetime(2026, 3, 2), None, pid=2**22 + 7)
    with store.transaction(store_file) as con:
        con.execute("update job_runs set host = $host", {"host": queue._HOST})
    assert queue.running_run("retrain", store_file) is None


def test_enqueue_starts_a_detached_job_that_records_its_run(store_file):
    store.connect(store_file).__enter__().close()  # an empty store: no snapshot to render
    run_id = queue.enqueue_drift_report(DAY, store_file)
    deadline = time.monotonic() + 60
    while (status := queue.job_status(run_id, store_file)).running and time.monotonic() < deadline:
        time.sleep(0.2)
    assert status.status == "failed"
    assert status.error == (
        "JobStartError: no drift snapshot for 2026-03-02: a daily run keeps one, a backfill for its last "
        "days only; re-run `python -m core daily --as-of` for that day to keep its report"
    )
    assert status.kind == "drift_report"
    # The run records its failure, then the process prints it to its log on the way out: wait for that.
    log = queue.log_path("drift_report", store_file)
    while "no drift snapshot" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "error: JobStartError" not in log.read_text()
    assert "error: no drift snapshot for 2026-03-02" in log.read_text()


def test_a_job_that_cannot_start_says_so(store_file, tmp_path):
    store.connect(store_file).__enter__().close()
    with pytest.raises(JobStartError, match=r"the broken job exited with code 1 before it started: .*No module"):
        queue.enqueue("broken", ["core.no_such_module"], store_file)


def test_the_drift_report_job_renders_the_stored_snapshot(store_file):
    drift_store(store_file)
    path = queue.render_drift_report(DAY, store_file)
    assert path == queue.drift_report_path(DAY, store_file)
    assert path.name == "drift_2026-03-02.html" and path.read_text()[:300].lower().count("<html") == 1
    assert not path.with_suffix(".partial").exists()
    run = runs.recent_runs("drift_report", 1, store_file).iloc[0]
    assert run["status"] == "succeeded"
    assert json.loads(run["figures"]) == {"as_of": "2026-03-02", "bytes": path.stat().st_size}


def test_the_job_entry_point_reports_errors_in_one_line(store_file, capsys):
    store.connect(store_file).__enter__().close()
    code = queue.main(["drift-report", "--store", str(store_file), "--as-of", "2026-03-05"])
    assert code == 2
    assert capsys.readouterr().err == (
        "error: no drift snapshot for 2026-03-05: a daily run keeps one, a backfill for its last days only; "
        "re-run `python -m core daily --as-of` for that day to keep its report\n"
    )


def test_logs_and_reports_live_beside_the_store(tmp_path):
    store_path = tmp_path / "x.duckdb"
    assert queue.log_path("retrain", store_path) == tmp_path / "x_jobs" / "retrain.log"
    assert queue.drift_report_path(DAY, store_path) == tmp_path / "x_reports" / "drift_2026-03-02.html"
    assert os.fspath(queue.drift_report_path(DAY, store_path)).endswith(".html")
