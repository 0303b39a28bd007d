from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap

import pytest

from core.jobs import runs as jobs
from tests.conftest import REPO_ROOT


def test_a_run_is_recorded_with_its_figures(store_file):
    with jobs.job_run("daily", {"as_of": "2026-03-01"}, store_file) as run:
        run.figures["scored"] = 12
    runs = jobs.recent_runs(store_path=store_file)
    assert runs[["kind", "status", "error"]].to_dict("records") == [
        {"kind": "daily", "status": "succeeded", "error": None}
    ]
    assert json.loads(runs.loc[0, "figures"]) == {"scored": 12}
    assert json.loads(runs.loc[0, "params"]) == {"as_of": "2026-03-01"}


def test_a_failed_run_keeps_its_error(store_file):
    with pytest.raises(ValueError):
        with jobs.job_run("daily", store_path=store_file):
            raise ValueError("no data for 2026-03-01")
    runs = jobs.recent_runs(store_path=store_file)
    assert runs.loc[0, "status"] == "failed"
    assert runs.loc[0, "error"] == "ValueError: no data for 2026-03-01"


def test_one_job_of_a_kind_at_a_time(store_file):
    with jobs.job_run("retrain", store_path=store_file):
        with pytest.raises(jobs.JobAlreadyRunningError, match="a retrain job is already running"):
            with jobs.job_run("retrain", store_path=store_file):
                pass
        with jobs.job_run("daily", store_path=store_file):
            pass
    statuses = sorted(jobs.recent_runs(store_path=store_file)["status"])
    assert statuses == ["succeeded", "succeeded"]


def test_a_killed_run_does_not_block_the_next(store_file):
    script = textwrap.dedent(f"""
        import time
        from core.jobs import runs as jobs
        with jobs.job_run("daily", store_path={str(store_file)!r}):
            print("claimed", flush=True)
            time.sleep(60)
    """)
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=REPO_ROOT)
    assert child.stdout.readline().strip() == "claimed"
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    with jobs.job_run("daily", store_path=store_file):
        pass
    runs = jobs.recent_runs(store_path=store_file)
    assert sorted(runs["status"]) == ["abandoned", "succeeded"]


def test_a_run_from_another_host_past_the_lease_does_not_block(store_file, monkeypatch):
    with jobs.job_run("daily", store_path=store_file):
        pass
    from core import store

    with store.transaction(store_file) as con:
        con.execute(
            "update job_runs set status = 'running', host = 'other-pod', ended_at = null, "
            "started_at = started_at - interval 7 hour"
        )
    with pytest.raises(jobs.JobAlreadyRunningError, match="other-pod"):
        monkeypatch.setenv("JOURNEYOPS_JOB_LEASE_H", "8")
        with jobs.job_run("daily", store_path=store_file):
            pass
    monkeypatch.setenv("JOURNEYOPS_JOB_LEASE_H", "6")
    with jobs.job_run("daily", store_path=store_file):
        pass
    runs = jobs.recent_runs(store_path=store_file)
    assert sorted(runs["status"]) == ["abandoned", "succeeded"]
    assert "6 h lease" in runs.loc[runs["status"] == "abandoned", "error"].item()
