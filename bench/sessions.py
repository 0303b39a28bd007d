"""Benchmark `sessions`: the real dashboard under 30 concurrent sessions (issue #5).

Set-up (untimed): the default demo store of `bench.daily` (reused through its marker), copied. The
case process starts `streamlit run app.py` headless on a free localhost port with
`JOURNEYOPS_STORE` set to the copy, as `make run` does, waits for `/_stcore/health`, and runs the
default page once (the server's start-up: imports, not the load). Subject: `--sessions` sessions at
once from `bench.st_loadgen` (Streamlit's websocket protocol, no browser), each opening every page
of the dashboard in turn and waiting for each script run to finish; errors are exception elements,
pages not found, disconnects and timeouts. While the load runs, the RSS of the server's process tree
is sampled from /proc; its VmHWM and the CPU seconds it used for the load are read at the end.
Baseline: the same load against a trivial one-page app (a title and a line of text) on the same
server settings — the floor of a Streamlit session run on this machine.
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
RUN_TIMEOUT_S = 120.0
START_TIMEOUT_S = 60.0
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


def _children(pid: int) -> list[int]:
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            kids.append(int(stat.parent.name))
    return kids


def _status_kib(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_rss_mb(pid: int) -> float:
    """RSS of a process and all its descendants now, in MiB."""
    todo, total = [pid], 0
    while todo:
        current = todo.pop()
        total += _status_kib(current, "VmRSS")
        todo.extend(_children(current))
    return total / 1024.0


class RssSampler:
    """Samples a process tree's RSS in a thread; `peak_mb` is the highest sample."""

    def __init__(self, pid: int, every_s: float = SAMPLE_S) -> None:
        self.pid, self.every_s, self.peak_mb = pid, every_s, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.peak_mb = max(self.peak_mb, tree_rss_mb(self.pid))
            self._stop.wait(self.every_s)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_mb = max(self.peak_mb, tree_rss_mb(self.pid))


def dashboard_pages() -> list[str]:
    """Every dashboard page by the address a browser opens it at ("" is the default page)."""
    from ui import navigation

    return [navigation.page_url_path(spec) for spec in navigation.available_pages()]


def _prepare(
    script: Path, env: dict[str, str], pages: list[str], sessions: int, log: Path
) -> tuple[Callable[[], dict[str, Any]], Callable[[dict[str, Any]], dict[str, Any]]]:
    server = streamlit_server(script, env=env, log=log)
    url, pid = server.__enter__()
    # The server's start-up (imports, the app's first run) is not the load.
    started = asyncio.run(st_loadgen.run_load(url, 1, [""], timeout_s=RUN_TIMEOUT_S))
    rss_idle = tree_rss_mb(pid)

    def run() -> dict[str, Any]:
        try:
            cpu_before = cpu_seconds(pid)
            with RssSampler(pid) as sampler:
                summary = asyncio.run(st_loadgen.run_load(url, sessions, pages, timeout_s=RUN_TIMEOUT_S))
            # The server's own CPU for the load: steadier than wall time on a shared machine.
            summary.update(
                server_cpu_seconds=round(cpu_seconds(pid) - cpu_before, 2),
                server_peak_rss_mb=round(sampler.peak_mb, 1),
                server_vmhwm_mb=round(_status_kib(pid, "VmHWM") / 1024.0, 1),
                server_rss_after_mb=round(tree_rss_mb(pid), 1),
            )
        finally:
            server.__exit__(None, None, None)
        return summary

    def summarise(summary: dict[str, Any]) -> dict[str, Any]:
        return {
            **summary,
            "pages_per_session": len(pages),
            "warm_up_errors": started["errors"],
            "server_rss_idle_mb": round(rss_idle, 1),
        }

    return run, summarise


def prepare_dashboard(
    template_store: str, copy_dir: str, sessions: int, log: str
) -> tuple[Callable[[], dict[str, Any]], Callable[[dict[str, Any]], dict[str, Any]]]:
    """The real dashboard on a copy of the demo store; every page in turn from each session."""
    shutil.rmtree(copy_dir, ignore_errors=True)
    shutil.copytree(Path(template_store).parent, copy_dir)
    store = Path(copy_dir) / Path(template_store).name
    return _prepare(REPO_ROOT / "app.py", {"JOURNEYOPS_STORE": str(store)}, dashboard_pages(), sessions, Path(log))


def prepare_trivial(
    work_dir: str, sessions: int, log: str
) -> tuple[Callable[[], dict[str, Any]], Callable[[dict[str, Any]], dict[str, Any]]]:
    """Baseline: a one-page app run as many times per session as the dashboard has pages."""
    script = Path(work_dir) / "trivial_app.py"
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text(TRIVIAL)
    return _prepare(script, {}, [""] * len(dashboard_pages()), sessions, Path(log))


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
            {"work_dir": str(work_dir / "sessions_trivial"), "sessions": sessions, "log": log},
        ),
    )


BENCHMARK = Benchmark(
    name="sessions",
    what="concurrent sessions against the real dashboard (`streamlit run app.py`, headless, localhost) "
    "from `bench.st_loadgen` (Streamlit's websocket protocol), each opening every page in turn; "
    "server peak RSS sampled from /proc (process tree), p50/p95 page-run seconds",
    baseline_what="the same load against a trivial one-page app on the same server settings",
    plan=plan,
    count="runs",
    unit="page runs",
    targets=(
        Target("errors", "<=", 0.0, "no errors", scales=("small", "full")),
        Target("server_peak_rss_mb", "<=", 1536.0, "server memory ≤ 1.5 GiB", scales=("small", "full")),
    ),
    figures=("errors", "server_peak_rss_mb", "p50_run_seconds", "p95_run_seconds", "server_cpu_seconds"),
)
