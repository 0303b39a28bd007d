"""Benchmark `sessions`: the real dashboard under 30 concurrent sessions while the daily job runs (issue #5).

Set-up (untimed): the default demo store of `bench.daily` (reused through its marker), copied. The
case process starts `streamlit run app.py` headless on a free localhost port with
`JOURNEYOPS_STORE` set to the copy, as `make run` does, waits for `/_stcore/health`, and runs the
default page once (the server's start-up: imports, not the load). Subject: the `daily` command for
the store's next day (`python -m core daily --as-of DAY --no-retrain`, its own process, on the same
store: ingest, scoring, monitoring, write, views refresh) is started, and at once `--sessions`
sessions from `bench.st_loadgen` (Streamlit's websocket protocol, no browser), each opening every
page of the dashboard in turn and waiting for each script run to finish; errors are exception
elements, pages not found, disconnects and timeouts. The timed seconds are the load's; the daily
job's exit code, seconds and overlap with the load are figures (`daily_exit_code`,
`daily_overlap_seconds`), waited for after the clock stops. While the load runs,
the RSS of the Streamlit server's process and all its children is sampled with psutil; the table's
peak RSS is that server peak (`server_peak_rss_mb`), not the load generator's.
Baseline: the same load and the same daily job (on its own copy of the store) against a trivial
one-page app (a title and a line of text) on the same server settings — the floor of a Streamlit
session run on this machine while the job competes for it.

Benchmark `soak` (not in plain `make bench`: `python -m bench --only soak`): 50 sessions × every page,
three waves one after another against one server (10 sessions at small scale). After each wave the
server's RSS (process and children, psutil) is read once the wave is over and the server has settled
(`SETTLE_S`): `wave_rss_mb`, with each wave's peak in `wave_peak_rss_mb`. Memory is *flat* when the
last wave's RSS is within `FLAT_MARGIN` of the first's (`memory_flat`, 1 or 0; `last_over_first`).
Baseline: the same waves against the trivial app.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench import daily, st_loadgen
from bench.harness import REPO_ROOT, Benchmark, Call, Plan, Target

SESSIONS = {"small": 10, "full": 30}
SOAK_SESSIONS = {"small": 10, "full": 50}
SOAK_WAVES = 3
FLAT_MARGIN = 0.10  # the last wave's settled RSS may exceed the first's by this share and still be flat
SETTLE_S = 2.0
RUN_TIMEOUT_S = 120.0
START_TIMEOUT_S = 60.0
JOB_TIMEOUT_S = 600.0
SAMPLE_S = 0.1
TRIVIAL = 'import streamlit as st\nst.title("Trivial")\nst.write("one line of text")\n'


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {proc.returncode} before it was healthy")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"streamlit at {url} not healthy within {timeout_s:.0f} s")


@contextmanager
def streamlit_server(
    script: Path, env: Mapping[str, str] | None = None, log: Path | None = None, cwd: Path = REPO_ROOT
) -> Iterator[tuple[str, int]]:
    """A headless `streamlit run script` on a free localhost port (the settings `make run` uses);
    yields (url, pid) once healthy and stops it afterwards."""
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(script),
        "--server.headless",
        "true",
        "--server.address",
        "127.0.0.1",
        "--server.port",
        str(port),
        "--browser.gatherUsageStats",
        "false",
    ]
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - closed below
    proc = subprocess.Popen(cmd, cwd=cwd, env={**os.environ, **(env or {})}, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc, START_TIMEOUT_S)
        yield url, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if log:
            out.close()  # type: ignore[union-attr]


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far (all its threads)."""
    import psutil

    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


def tree_rss_mb(pid: int) -> float:
    """RSS of a process and all its descendants now, in MiB (psutil); 0 once it is gone."""
    import psutil

    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0
    for proc in procs:
        try:
            total += proc.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total / 1024.0**2


class RssSampler:
    """Samples a process tree's RSS in a thread; `peak_mb` is the highest sample."""

    def __init__(self, pid: int, every_s: float = SAMPLE_S, rss: Callable[[int], float] = tree_rss_mb) -> None:
        self.pid, self.every_s, self.peak_mb, self.rss = pid, every_s, 0.0, rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.peak_mb = max(self.peak_mb, self.rss(self.pid))
            self._stop.wait(self.every_s)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_mb = max(self.peak_mb, self.rss(self.pid))


def dashboard_pages() -> list[str]:
    """Every dashboard page by the address a browser opens it at ("" is the default page)."""
    from ui import navigation

    return [navigation.page_url_path(spec) for spec in navigation.available_pages()]


def daily_command(store: Path) -> list[str]:
    """The `daily` command for the day after the store's last daily run, no retrain, as a process."""
    from datetime import timedelta

    as_of = daily._last_day(store) + timedelta(days=1)
    return [
        sys.executable,
        "-m",
        "core",
        "daily",
        "--as-of",
        as_of.isoformat(),
        "--store",
        str(store),
        "--no-retrain",
        "--json",
    ]


class JobBeside:
    """A job (a command) started beside a load: `start()` it, run the load, `finish()` waits for it and
    says how it went — exit code, seconds, whether it was running when the load started, the overlap."""

    def __init__(self, job: list[str], log: Path) -> None:
        self.job, self.log = job, log
        self._ended: list[float] = []

    def start(self) -> None:
        """Start the job; the load starts right after."""
        self._out = open(self.log, "ab")  # noqa: SIM115 - closed in finish()
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(self.job, cwd=REPO_ROOT, stdout=self._out, stderr=subprocess.STDOUT)
        self._watcher = threading.Thread(target=self._watch, daemon=True)
        self._watcher.start()
        self.load_started = time.perf_counter()
        self.running_at_load_start = self.proc.poll() is None

    def _watch(self) -> None:
        self.proc.wait()
        self._ended.append(time.perf_counter())

    def load_over(self) -> None:
        """Mark the end of the load (call it right after the load)."""
        self.load_ended = time.perf_counter()

    def finish(self) -> dict[str, Any]:
        """Wait for the job (up to JOB_TIMEOUT_S, then kill it); its figures."""
        try:
            code = self.proc.wait(timeout=JOB_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self._watcher.join()
        self._out.close()
        job_ended = self._ended[0] if self._ended else time.perf_counter()
        overlap = min(self.load_ended, job_ended) - max(self.load_started, self.started)
        return {
            "daily_exit_code": code,
            "daily_seconds": round(job_ended - self.started, 2),
            "daily_running_at_load_start": self.running_at_load_start,
            "daily_overlap_seconds": round(max(0.0, overlap), 2),
        }


def with_job(job: list[str] | None, load: Callable[[], dict[str, Any]], log: Path) -> dict[str, Any]:
    """Start `job` and at once run `load`; then wait for the job: the load's summary and the job's figures."""
    if job is None:
        return load()
    beside = JobBeside(job, log)
    beside.start()
    summary = load()
    beside.load_over()
    return {**summary, **beside.finish()}


def _prepare(
    script: Path, env: dict[str, str], pages: list[str], sessions: int, log: Path, job: list[str] | None = None
) -> tuple[Callable[[], dict[str, Any]], Callable[[dict[str, Any]], dict[str, Any]]]:
    server = streamlit_server(script, env=env, log=log)
    url, pid = server.__enter__()
    # The server's start-up (imports, the app's first run) is not the load.
    started = asyncio.run(st_loadgen.run_load(url, 1, [""], timeout_s=RUN_TIMEOUT_S))
    rss_idle = tree_rss_mb(pid)

    def load() -> dict[str, Any]:
        return asyncio.run(st_loadgen.run_load(url, sessions, pages, timeout_s=RUN_TIMEOUT_S))

    beside = JobBeside(job, log) if job is not None else None

    def run() -> dict[str, Any]:
        try:
            cpu_before = cpu_seconds(pid)
            with RssSampler(pid) as sampler:
                if beside is not None:
                    beside.start()
                summary = load()
                if beside is not None:
                    beside.load_over()
            # The server's own CPU for the load: steadier than wall time on a shared machine.
            summary.update(
                server_cpu_seconds=round(cpu_seconds(pid) - cpu_before, 2),
                server_peak_rss_mb=round(sampler.peak_mb, 1),
                server_rss_after_mb=round(tree_rss_mb(pid), 1),
            )
        finally:
            server.__exit__(None, None, None)
        return summary

    def summarise(summary: dict[str, Any]) -> dict[str, Any]:
        # The job may outlast the load: waiting for it is not part of the timed load.
        job_figures = beside.finish() if beside is not None else {}
        return {
            **summary,
            **job_figures,
            "pages_per_session": len(pages),
            "warm_up_errors": started["errors"],
            "server_rss_idle_mb": round(rss_idle, 1),
        }

    return run, summarise


def _copy_store(template_store: str, copy_dir: str) -> Path:
    shutil.rmtree(copy_dir, ignore_errors=True)
    shutil.copytree(Path(template_store).parent, copy_dir)
    return Path(copy_dir) / Path(template_store).name


def prepare_dashboard(
    template_store: str, copy_dir: str, sessions: int, log: str
) -> tuple[Callable[[], dict[str, Any]], Callable[[dict[str, Any]], dict[str, Any]]]:
    """The real dashboard on a copy of the demo store; every page in turn from each session, while the
    daily job runs on the same store."""
    store = _copy_store(template_store, copy_dir)
    env = {"JOURNEYOPS_STORE": str(store)}
    return _prepare(REPO_ROOT / "app.py", env, dashboard_pages(), sessions, Path(log), daily_command(store))


def prepare_trivial(
    work_dir: str, sessions: int, log: str, template_store: str | None = None
) -> tuple[Callable[[], dict[str, Any]], Callable[[dict[str, Any]], dict[str, Any]]]:
    """Baseline: a one-page app run as many times per session as the dashboard has pages, while the
    same daily job runs on its own copy of the store (when a template is given)."""
    script = Path(work_dir) / "trivial_app.py"
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text(TRIVIAL)
    job = None
    if template_store is not None:
        job = daily_command(_copy_store(template_store, str(Path(work_dir) / "store")))
    return _prepare(script, {}, [""] * len(dashboard_pages()), sessions, Path(log), job)


def flat(first_mb: float, last_mb: float, margin: float = FLAT_MARGIN) -> bool:
    """Whether memory stayed flat: the last wave's RSS within `margin` (a share) of the first's."""
    return last_mb <= first_mb * (1.0 + margin)


def soak_waves(
    run_wave: Callable[[int], dict[str, Any]],
    rss_now: Callable[[], float],
    waves: int = SOAK_WAVES,
    settle_s: float = SETTLE_S,
    peak_of: Callable[[], float] | None = None,
) -> dict[str, Any]:
    """Run `waves` waves one after another; after each, wait `settle_s` and read the server's RSS.
    The waves' summaries merged (runs and errors summed), the RSS per wave and whether it is flat."""
    rss: list[float] = []
    peaks: list[float] = []
    runs = errors = 0
    samples: list[str] = []
    for wave in range(waves):
        summary = run_wave(wave)
        runs += int(summary.get("runs", 0))
        errors += int(summary.get("errors", 0))
        samples.extend(summary.get("error_samples", []))
        if peak_of is not None:
            peaks.append(round(peak_of(), 1))
        time.sleep(settle_s)
        rss.append(round(rss_now(), 1))
    return {
        "waves": waves,
        "runs": runs,
        "errors": errors,
        "error_samples": samples[:5],
        "wave_rss_mb": rss,
        "wave_peak_rss_mb": peaks,
        "last_over_first": round(rss[-1] / rss[0], 3) if rss and rss[0] > 0 else None,
        "memory_flat": 1 if rss and flat(rss[0], rss[-1]) else 0,
    }


def _prepare_soak(
    script: Path, env: dict[str, str], pages: list[str], sessions: int, log: Path
) -> tuple[Callable[[], dict[str, Any]], Callable[[dict[str, Any]], dict[str, Any]]]:
    server = streamlit_server(script, env=env, log=log)
    url, pid = server.__enter__()
    asyncio.run(st_loadgen.run_load(url, 1, [""], timeout_s=RUN_TIMEOUT_S))
    rss_idle = tree_rss_mb(pid)

    def run() -> dict[str, Any]:
        try:
            with RssSampler(pid) as sampler:

                def wave(_: int) -> dict[str, Any]:
                    sampler.peak_mb = 0.0  # each wave's own peak
                    return asyncio.run(st_loadgen.run_load(url, sessions, pages, timeout_s=RUN_TIMEOUT_S))

                summary = soak_waves(wave, lambda: tree_rss_mb(pid), peak_of=lambda: sampler.peak_mb)
            summary["server_peak_rss_mb"] = max(summary["wave_peak_rss_mb"] or [0.0])
        finally:
            server.__exit__(None, None, None)
        return summary

    def summarise(summary: dict[str, Any]) -> dict[str, Any]:
        return {**summary, "sessions": sessions, "server_rss_idle_mb": round(rss_idle, 1)}

    return run, summarise


def prepare_soak_dashboard(
    template_store: str, copy_dir: str, sessions: int, log: str
) -> tuple[Callable[[], dict[str, Any]], Callable[[dict[str, Any]], dict[str, Any]]]:
    """Soak: the real dashboard on a copy of the demo store, SOAK_WAVES waves of `sessions` sessions."""
    store = _copy_store(template_store, copy_dir)
    return _prepare_soak(REPO_ROOT / "app.py", {"JOURNEYOPS_STORE": str(store)}, dashboard_pages(), sessions, Path(log))


def prepare_soak_trivial(
    work_dir: str, sessions: int, log: str
) -> tuple[Callable[[], dict[str, Any]], Callable[[dict[str, Any]], dict[str, Any]]]:
    """Soak baseline: the same waves against the trivial app."""
    script = Path(work_dir) / "trivial_app.py"
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text(TRIVIAL)
    return _prepare_soak(script, {}, [""] * len(dashboard_pages()), sessions, Path(log))


def plan(scale: str, work_dir: Path) -> Plan:
    """The demo store of `bench.daily` at this scale; the dashboard, then the trivial app."""
    days, per_day = daily.SIZES[scale]
    template = daily.template_path(work_dir)
    sessions = SESSIONS[scale]
    log = str(work_dir / "sessions_server.log")
    return Plan(
        workload=f"{sessions} sessions × every page on a {days}-day × {per_day:,} orders/day demo",
        setup=(
            Call(
                "bench.report:prepare_demo_store",
                {"store": str(template), "days": days, "orders_per_day": per_day, "seed": daily.SEED},
            ),
        ),
        subject=Call(
            "bench.sessions:prepare_dashboard",
            {
                "template_store": str(template),
                "copy_dir": str(work_dir / "sessions_store"),
                "sessions": sessions,
                "log": log,
            },
        ),
        baseline=Call(
            "bench.sessions:prepare_trivial",
            {
                "work_dir": str(work_dir / "sessions_trivial"),
                "sessions": sessions,
                "log": log,
                "template_store": str(template),
            },
        ),
    )


BENCHMARK = Benchmark(
    name="sessions",
    what="concurrent sessions against the real dashboard (`streamlit run app.py`, headless, localhost) "
    "from `bench.st_loadgen` (Streamlit's websocket protocol), each opening every page in turn, while the `daily` "
    "command runs on the same store; peak RSS is the Streamlit server's (process and children, psutil), "
    "p50/p95 page-run seconds and the daily job's exit code and overlap in results.json",
    baseline_what="the same load and the same daily job (on its own store copy) against a trivial one-page app "
    "on the same server settings",
    plan=plan,
    count="runs",
    unit="page runs",
    targets=(
        Target("errors", "<=", 0.0, "no errors", scales=("small", "full")),
        Target("server_peak_rss_mb", "<=", 1536.0, "server memory ≤ 1.5 GiB", scales=("small", "full")),
        Target("daily_exit_code", "<=", 0.0, "the daily job completes", scales=("small", "full")),
    ),
    figures=(
        "errors",
        "server_peak_rss_mb",
        "p50_run_seconds",
        "p95_run_seconds",
        "server_cpu_seconds",
        "daily_exit_code",
        "daily_overlap_seconds",
    ),
    peak_figure="server_peak_rss_mb",
)


def plan_soak(scale: str, work_dir: Path) -> Plan:
    """The demo store of `bench.daily` at this scale; three waves on the dashboard, then on the trivial app."""
    days, per_day = daily.SIZES[scale]
    template = daily.template_path(work_dir)
    sessions = SOAK_SESSIONS[scale]
    log = str(work_dir / "soak_server.log")
    return Plan(
        workload=f"{SOAK_WAVES} waves × {sessions} sessions × every page on a {days}-day × {per_day:,} orders/day demo",
        setup=(
            Call(
                "bench.report:prepare_demo_store",
                {"store": str(template), "days": days, "orders_per_day": per_day, "seed": daily.SEED},
            ),
        ),
        subject=Call(
            "bench.sessions:prepare_soak_dashboard",
            {
                "template_store": str(template),
                "copy_dir": str(work_dir / "soak_store"),
                "sessions": sessions,
                "log": log,
            },
        ),
        baseline=Call(
            "bench.sessions:prepare_soak_trivial",
            {"work_dir": str(work_dir / "soak_trivial"), "sessions": sessions, "log": log},
        ),
    )


SOAK_BENCHMARK = Benchmark(
    name="soak",
    what=f"{SOAK_WAVES} waves of concurrent sessions (50 at full scale) against one dashboard server, one after "
    "another, each session opening every page; the server's RSS (process and children, psutil) after each wave has "
    f"settled (`wave_rss_mb`); flat = the last wave within {FLAT_MARGIN:.0%} of the first",
    baseline_what="the same waves against a trivial one-page app on the same server settings",
    plan=plan_soak,
    count="runs",
    unit="page runs",
    targets=(
        Target("errors", "<=", 0.0, "no errors", scales=("small", "full")),
        Target(
            "memory_flat",
            ">=",
            1.0,
            f"server memory flat over the waves (≤ +{FLAT_MARGIN:.0%})",
            scales=("small", "full"),
        ),
        Target("server_peak_rss_mb", "<=", 1536.0, "server memory ≤ 1.5 GiB", scales=("small", "full")),
    ),
    figures=("errors", "memory_flat", "last_over_first", "server_peak_rss_mb"),
    peak_figure="server_peak_rss_mb",
    default=False,  # minutes of load: `python -m bench --only soak`
)
