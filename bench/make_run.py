"""Benchmark `make_run`: `make run` on a fresh clone, until the dashboard serves the demo history.

Subject: `git clone` of this repository's HEAD into the work dir, then `make run` on a free port with
an empty pip cache (so every wheel comes from the package registry, as on a fresh machine), timed
until the dashboard answers on /_stcore/health and its front page; then the server is stopped and
the store is checked to hold the closed-loop history (daily runs after a go-live). Phases are read
from what the Makefile leaves behind: `install_s` until `.venv/.runtime` exists, `demo_s` until the
`streamlit run` process starts (the demo build), `start_s` until the dashboard answers.
Baseline: a fresh venv with the pinned requirements and nothing else (`python -m venv` +
`pip install -r requirements.txt`, empty cache) — the floor of any fresh set-up; the ratio is what
building the demo and starting the dashboard add.
Full scale is the default demo (`python -m core demo`: 42 days × 600 orders/day); small passes a
smaller one through the Makefile's DEMO_ARGS. Not in plain `make bench` (it reinstalls everything):
run it with `python -m bench --only make_run`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.harness import REPO_ROOT, Benchmark, Call, Plan, Target

DEMO_ARGS = {"small": "--days 42 --orders-per-day 300", "full": ""}
WORKLOADS = {"small": "42 days × 300 orders/day", "full": "42 days × 600 orders/day (the default)"}
TIMEOUT_S = 900.0
_POLL_S = 0.25


def _free_port() -> int:
    from api.loadgen import _free_port as free_port

    return free_port()


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def _streamlit_started(make: subprocess.Popen[bytes]) -> bool:
    # The Makefile starts `streamlit run` only after the demo store exists.
    found = subprocess.run(["pgrep", "-s", str(make.pid), "-f", "streamlit run"], capture_output=True)
    return found.returncode == 0


def _clean_env(work: Path) -> dict[str, str]:
    cache = work / "pip-cache"
    shutil.rmtree(cache, ignore_errors=True)
    keep = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("JOURNEYOPS_", "VIRTUAL_ENV", "PYTHON")) and k != "MAKEFLAGS"
    }
    # the system python3, as on a fresh machine, not the venv this benchmark runs in
    path = os.pathsep.join(p for p in keep.get("PATH", "").split(os.pathsep) if "/.venv/" not in p + "/")
    return {**keep, "PATH": path, "PIP_CACHE_DIR": str(cache)}


def _clone(work: Path) -> Path:
    clone = work / "clone"
    subprocess.run(["git", "clone", "--quiet", str(REPO_ROOT), str(clone)], check=True)
    return clone


def _history(store: Path) -> dict[str, Any]:
    from core.views import today

    summary = today.read_daily_summary(store_path=store)
    return {"daily_runs": int(len(summary)), "last_day": str(summary["as_of_date"].max()) if len(summary) else None}


def prepare_make_run(
    work_dir: str, scale: str
) -> tuple[Callable[[], dict[str, Any]], Callable[[dict[str, Any]], dict[str, Any]]]:
    """Time `make run` on a fresh clone until the dashboard answers."""
    work = Path(work_dir)
    work.mkdir(parents=True, exist_ok=True)
    env = _clean_env(work)
    shutil.rmtree(work / "clone", ignore_errors=True)  # an earlier run's clone and venv, untimed
    port = _free_port()
    log_path = work / "make_run.log"

    def run() -> dict[str, Any]:
        start = time.perf_counter()
        clone = _clone(work)
        marks: dict[str, float] = {"clone_s": time.perf_counter() - start}
        with open(log_path, "wb") as log:
            make = subprocess.Popen(
                ["make", "run", f"PORT={port}", f"DEMO_ARGS={DEMO_ARGS[scale]}"],
                cwd=clone,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                while "up_s" not in marks:
                    if make.poll() is not None:
                        raise RuntimeError(f"make run exited with {make.returncode}; see {log_path}")
                    if time.perf_counter() - start > TIMEOUT_S:
                        raise RuntimeError(f"the dashboard was not up within {TIMEOUT_S:.0f} s; see {log_path}")
                    now = time.perf_counter() - start
                    if "install_end" not in marks and (clone / ".venv" / ".runtime").exists():
                        marks["install_end"] = now
                    if "install_end" in marks and "demo_end" not in marks and _streamlit_started(make):
                        marks["demo_end"] = now
                    if (
                        "demo_end" in marks
                        and _answers(f"http://127.0.0.1:{port}/_stcore/health")
                        and _answers(f"http://127.0.0.1:{port}/")
                    ):
                        marks["up_s"] = now
                    time.sleep(_POLL_S)
            finally:
                with contextlib.suppress(ProcessLookupError):  # make may have exited on its own
                    os.killpg(make.pid, signal.SIGTERM)
                make.wait(timeout=30)
        return {**marks, "store": str(clone / "data" / "journeyops.duckdb")}

    def summarise(marks: dict[str, Any]) -> dict[str, Any]:
        return {
            "runs": 1,
            "install_s": round(marks["install_end"] - marks["clone_s"], 1),
            "demo_s": round(marks["demo_end"] - marks["install_end"], 1),
            "start_s": round(marks["up_s"] - marks["demo_end"], 1),
            "total_s": round(marks["up_s"], 1),
            **_history(Path(marks["store"])),
        }

    return run, summarise


def prepare_install(work_dir: str) -> tuple[Callable[[], dict[str, Any]], Callable[[Any], dict[str, Any]]]:
    """Baseline: a fresh venv with the pinned requirements, empty pip cache."""
    work = Path(work_dir)
    work.mkdir(parents=True, exist_ok=True)
    env = _clean_env(work)
    venv = work / "venv"
    shutil.rmtree(venv, ignore_errors=True)

    def run() -> None:
        subprocess.run(["python3", "-m", "venv", str(venv)], check=True, env=env)
        subprocess.run(
            [
                str(venv / "bin" / "python"),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-r",
                str(REPO_ROOT / "requirements.txt"),
            ],
            check=True,
            env=env,
        )

    def summarise(_: Any) -> dict[str, Any]:
        shutil.rmtree(venv, ignore_errors=True)
        return {"runs": 1}

    return run, summarise


def plan(scale: str, work_dir: Path) -> Plan:
    """A fresh clone's `make run` at this scale; a bare install as the baseline."""
    return Plan(
        workload=f"fresh clone, empty pip cache, demo {WORKLOADS[scale]}",
        subject=Call("bench.make_run:prepare_make_run", {"work_dir": str(work_dir / "make_run"), "scale": scale}),
        baseline=Call("bench.make_run:prepare_install", {"work_dir": str(work_dir / "make_run_install")}),
    )


BENCHMARK = Benchmark(
    name="make_run",
    what="`make run` on a fresh `git clone` of HEAD with an empty pip cache, until the dashboard answers "
    "(install, demo build, start; phases `install_s`, `demo_s`, `start_s` in results.json)",
    baseline_what="a fresh venv with the pinned requirements only (`pip install -r requirements.txt`, empty cache)",
    plan=plan,
    count="runs",
    unit="runs",
    targets=(
        Target("total_s", "<=", 240.0, "dashboard up ≤ 4 min"),
        Target("demo_s", "<=", 120.0, "demo build ≤ 2 min"),
    ),
    figures=("install_s", "demo_s", "start_s", "total_s", "daily_runs"),
    default=False,  # reinstalls every package from the registry: `python -m bench --only make_run`
)
