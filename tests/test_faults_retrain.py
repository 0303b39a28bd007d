"""Concurrent retrain clicks, with real processes: of several `retrain` processes started at once
exactly one claims the job, the others say which run holds it; clicks while it runs are that run;
a killed retrain does not block the next click. (Racing promotions and kills mid-retrain and
mid-promote: tests/test_registry_crash.py.)"""

from __future__ import annotations

import re
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from core import store
from core.jobs import queue, runs
from tests.conftest import REPO_ROOT
from tests.test_registry_crash import cli, subprocess_env

PAUSED = "journeyops: paused at retrain:claimed"


def wait_for(condition, what: str, timeout_s: float = 90.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def test_racing_retrains_and_clicks_share_one_job_and_a_killed_one_blocks_nothing(store_file: Path, tmp_path: Path):
    with store.connect(store_file):
        pass  # an empty store: a retrain that gets past its claim fails at once, saying why
    env = {**subprocess_env(store_file, "retrain:claimed"), "JOURNEYOPS_PAUSE_S": "120"}
    errs = [tmp_path / f"retrain{i}.err" for i in range(3)]
    procs = [
        subprocess.Popen(
            cli("retrain", "--store", str(store_file)),
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=f.open("w"),
        )
        for f in errs
    ]
    try:
        wait_for(
            lambda: sum(p.poll() is not None for p in procs) == 2 and any(PAUSED in f.read_text() for f in errs),
            "the race",
        )
        (winner,) = [p for p in procs if p.poll() is None]
        holder = store.fetch_df("jobs_running", {"kind": "retrain"}, store_file)
        assert holder["pid"].tolist() == [winner.pid]
        assert runs.recent_runs("retrain", store_path=store_file)["status"].tolist() == ["running"]
        run_id = str(holder.loc[0, "run_id"])
        for proc, err in zip(procs, errs, strict=True):
            if proc is not winner:
                assert proc.returncode == runs.JobAlreadyRunningError.exit_code == 75
                assert re.fullmatch(
                    rf"error: a retrain job is already running \(run {run_id}, pid {winner.pid} on .+, started "
                    r"\d{4}-\d\d-\d\d \d\d:\d\d UTC\); wait for it to finish\n",
                    err.read_text(),
                ), err.read_text()
        # two sessions clicking Retrain at the same moment while it runs: both are that run, nothing new starts
        with ThreadPoolExecutor(2) as pool:
            clicks = list(pool.map(lambda _: queue.enqueue_retrain(store_file, actor="ana"), range(2)))
        assert clicks == [run_id, run_id]
        assert len(runs.recent_runs("retrain", store_path=store_file)) == 1
        winner.send_signal(signal.SIGKILL)
        winner.wait(timeout=30)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=30)
    # the killed run's lock is dead: the next click starts a new job, which records how it ended
    fresh = queue.enqueue_retrain(store_file, actor="ana")
    assert fresh != run_id
    wait_for(lambda: not queue.job_status(fresh, store_file).running, "the new retrain to end")
    done = queue.job_status(fresh, store_file)
    assert (done.status, done.error) == (
        "failed",
        "ConfigError: the store holds no events; import a log or build the demo first",
    )
    statuses = runs.recent_runs("retrain", store_path=store_file).set_index("run_id")["status"].to_dict()
    assert statuses == {run_id: "abandoned", fresh: "failed"}
