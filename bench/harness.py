"""The benchmark harness: run each case in a fresh process, time it, read its peak memory, report.

A benchmark is a `Benchmark` (a name, a plan per scale, targets) in a small module registered in
`bench.BENCHMARKS`. Its plan names the functions to run as `module:function` `Call`s; each is a
*prepare* function that does the untimed set-up and returns the thunk to time. The harness runs
every call in its own interpreter so that peak RSS is that case's alone (the child's VmHWM, with
`os.wait4`'s ru_maxrss as fallback), times the thunk with `time.perf_counter` inside the child, compares the
subject with a baseline measured in the same run, and writes JSON plus a markdown table.
Figures, never assertions: a missed target is reported, not raised.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from core import provenance

REPO_ROOT = Path(__file__).resolve().parent.parent
SCALES = ("small", "full")
CASE_TIMEOUT_S = 1800.0
# The last day of the benchmarks' closed-loop demo worlds: fixed, so a world (and its figures) does not
# move with the day the bench runs (the 42-day world ending 2026-12-04 had its go-live holdout in the
# first peak-season days, and no model passed the baseline: no champion, no list, no report).
DEMO_END = date(2026, 12, 3)
_POLL_S = 0.02
_VERSIONED = ("duckdb", "pyarrow", "numpy", "pandas", "scikit-learn")


@dataclass(frozen=True)
class Call:
    """A prepare function to run in a fresh process: `module:function` and JSON-able kwargs."""

    target: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Plan:
    """What one benchmark runs at one scale: untimed set-up, the subject, and its baseline."""

    workload: str
    subject: Call
    baseline: Call | None = None
    setup: tuple[Call, ...] = ()


@dataclass(frozen=True)
class Target:
    """A goal on one headline figure (`seconds`, `rate`, `peak_rss_mb`, `ratio`, or one of the
    benchmark's own `figures`) at some scales."""

    figure: str
    op: str  # "<=" or ">="
    value: float
    label: str
    scales: tuple[str, ...] = ("full",)

    def met(self, measured: float) -> bool:
        """Whether a measured value reaches the goal."""
        return measured <= self.value if self.op == "<=" else measured >= self.value


@dataclass(frozen=True)
class Benchmark:
    """One benchmark: what it measures, how to plan it at a scale, and the goals it is held to."""

    name: str
    what: str
    baseline_what: str
    plan: Callable[[str, Path], Plan]
    count: str  # key of the subject's figures holding the units of work done (e.g. "events")
    unit: str  # what one unit of work is, for "<unit>/s"
    targets: tuple[Target, ...] = ()
    default: bool = True  # run by plain `make bench`; False for the smoke case and long ones
    documented: bool = True  # its rows stay on docs/benchmarks.md; False for the smoke case
    # Extra headline figures (targets may be set on them): numeric keys of the subject's figures,
    # else of the baseline's (a baseline that checks the subject's output, say).
    figures: tuple[str, ...] = ()
    # Subject figures holding a mapping of name -> seconds (per page, say), listed under the table.
    detail: str | tuple[str, ...] | None = None
    # A figure holding the peak RSS (MiB) of the process the benchmark is about when that is not the
    # case process (a server the case loads, say): the table's peak columns show it, not the load
    # generator's; the case process's own peak stays in results.json as `case_peak_rss_mb`.
    peak_figure: str | None = None


@dataclass(frozen=True)
class CaseResult:
    """What one case process reported: timed seconds, peak RSS, and the figures it returned."""

    seconds: float
    peak_rss_mb: float
    rss_before_mb: float
    figures: dict[str, Any]
    cpu_seconds: float | None = None


class CaseError(RuntimeError):
    """A case process failed or timed out; the message carries the tail of its log."""


def run_case(call: Call, log_path: Path, timeout_s: float = CASE_TIMEOUT_S) -> CaseResult:
    """Run one prepare function in a fresh interpreter; time its thunk and read its peak RSS."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-case-") as tmp:
        request = Path(tmp) / "request.json"
        answer = Path(tmp) / "answer.json"
        request.write_text(json.dumps({"target": call.target, "kwargs": dict(call.kwargs)}))
        with open(log_path, "ab") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "bench.child", str(request), str(answer)],
                cwd=REPO_ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONPATH": _pythonpath()},
            )
            code, maxrss_kib = _wait_with_rusage(proc, timeout_s)
        if code != 0 or not answer.exists():
            reason = "timed out" if code is None else f"exited with code {code}"
            tail = _tail(log_path)
            last = tail.splitlines()[-1] if tail else "no output"
            raise CaseError(f"{call.target} {reason}: {last} (log {log_path})\n{tail}")
        reply = json.loads(answer.read_text())
    # The child's own VmHWM is its peak since exec. ru_maxrss (KiB, from os.wait4) is the fallback
    # only: Linux carries the forking parent's RSS into it across exec, so it overstates small
    # cases run from a big parent (a pytest process, say).
    peak = reply.get("peak_rss_mb")
    return CaseResult(
        seconds=float(reply["seconds"]),
        peak_rss_mb=float(peak) if peak is not None else maxrss_kib / 1024.0,
        rss_before_mb=float(reply["rss_before_mb"]),
        figures=dict(reply["figures"]),
        cpu_seconds=reply.get("cpu_seconds"),
    )


def _pythonpath() -> str:
    existing = os.environ.get("PYTHONPATH")
    return str(REPO_ROOT) if not existing else os.pathsep.join([str(REPO_ROOT), existing])


def _wait_with_rusage(proc: subprocess.Popen[bytes], timeout_s: float) -> tuple[int | None, int]:
    # os.wait4 gives the rusage of this one child; RUSAGE_CHILDREN would be the max over all of them.
    deadline = time.monotonic() + timeout_s
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid == proc.pid:
            code = os.waitstatus_to_exitcode(status)
            proc.returncode = code
            return code, int(usage.ru_maxrss)
        if time.monotonic() > deadline:
            proc.kill()
            _, _, usage = os.wait4(proc.pid, 0)
            proc.returncode = -9
            return None, int(usage.ru_maxrss)
        time.sleep(_POLL_S)


def _tail(path: Path, lines: int = 15) -> str:
    text = path.read_text(errors="replace") if path.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


def measure(
    bench: Benchmark,
    scale: str,
    work_dir: Path,
    repeat: int = 1,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run one benchmark at one scale (set-up, subject, baseline) and return its result record."""
    say = progress or (lambda _msg: None)
    case_dir = work_dir / scale
    case_dir.mkdir(parents=True, exist_ok=True)
    log_path = case_dir / f"{bench.name}.log"
    # Each row carries its own commit, UTC time and machine load: rows of one page are measured over
    # hours and commits, and a row re-run later replaces only itself.
    record: dict[str, Any] = {
        "benchmark": bench.name,
        "scale": scale,
        "what": bench.what,
        "baseline_what": bench.baseline_what,
        "unit": bench.unit,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine_info(),
    }
    record["commit"] = record["machine"]["git_commit"]
    try:
        plan = bench.plan(scale, case_dir)
        record["workload"] = plan.workload
        for call in plan.setup:
            say(f"{bench.name}/{scale}: set-up {call.target}")
            run_case(call, log_path)
        subject = _best_of(plan.subject, log_path, repeat, say, f"{bench.name}/{scale}: subject")
        baseline = None
        if plan.baseline is not None:
            baseline = _best_of(plan.baseline, log_path, repeat, say, f"{bench.name}/{scale}: baseline")
    except Exception as exc:  # a broken case is reported and the run goes on with the others
        say(f"{bench.name}/{scale}: ERROR {exc}")
        record.update(status="error", error=str(exc), load_avg_1m_end=_load_now())
        return record
    record["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    record["load_avg_1m_end"] = _load_now()
    record.update(
        status="ok",
        subject=_case_dict(subject),
        baseline=_case_dict(baseline) if baseline else None,
    )
    record["headline"] = headline(bench, subject, baseline)
    record["targets"] = [
        {
            "figure": t.figure,
            "label": t.label,
            "op": t.op,
            "value": t.value,
            "measured": record["headline"].get(t.figure),
            "met": record["headline"].get(t.figure) is not None and t.met(record["headline"][t.figure]),
        }
        for t in bench.targets
        if scale in t.scales
    ]
    return record


def _best_of(call: Call, log_path: Path, repeat: int, say: Callable[[str], None], label: str) -> CaseResult:
    # Best time of N (as timeit does): noise on a shared machine only ever adds time.
    runs = []
    for i in range(max(1, repeat)):
        result = run_case(call, log_path)
        runs.append(result)
        say(f"{label} run {i + 1}: {result.seconds:.2f} s, peak {result.peak_rss_mb:.0f} MiB")
    best = min(runs, key=lambda r: r.seconds)
    return CaseResult(
        best.seconds,
        max(r.peak_rss_mb for r in runs),
        best.rss_before_mb,
        best.figures,
        best.cpu_seconds,
    )


def _case_dict(result: CaseResult) -> dict[str, Any]:
    return {
        "seconds": result.seconds,
        "cpu_seconds": result.cpu_seconds,
        "peak_rss_mb": result.peak_rss_mb,
        "rss_before_mb": result.rss_before_mb,
        "figures": result.figures,
    }


def headline(bench: Benchmark, subject: CaseResult, baseline: CaseResult | None) -> dict[str, float]:
    """The figures targets are judged on: time, rate, peak memory, and the ratio to the baseline."""
    count = float(subject.figures.get(bench.count, 0))
    figures = {
        "seconds": subject.seconds,
        "count": count,
        "rate": count / subject.seconds if subject.seconds > 0 else 0.0,
        "peak_rss_mb": _peak_of(bench, subject),
    }
    if bench.peak_figure is not None:
        figures["case_peak_rss_mb"] = subject.peak_rss_mb
    if baseline is not None:
        base_count = float(baseline.figures.get(bench.count, count))
        figures.update(
            baseline_seconds=baseline.seconds,
            baseline_rate=base_count / baseline.seconds if baseline.seconds > 0 else 0.0,
            baseline_peak_rss_mb=_peak_of(bench, baseline),
            ratio=subject.seconds / baseline.seconds if baseline.seconds > 0 else float("inf"),
        )
    for key in bench.figures:
        for source in (subject, baseline):
            if source is not None and isinstance(source.figures.get(key), int | float):
                figures[key] = float(source.figures[key])
                break
    return figures


def _peak_of(bench: Benchmark, result: CaseResult) -> float:
    # The process the benchmark is about: a server's figure where the benchmark names one.
    if bench.peak_figure is not None:
        value = result.figures.get(bench.peak_figure)
        if isinstance(value, int | float):
            return float(value)
    return result.peak_rss_mb


def _load_now() -> float | None:
    return round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None


def machine_info() -> dict[str, Any]:
    """Cores, RAM, CPU, load, Python and library versions, git commit: what the figures ran on."""
    versions = {}
    for name in _VERSIONED:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "ram_gib": _ram_gib(),
        "cpu": _cpu_model(),
        "load_avg_1m": _load_now(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "versions": versions,
        "git_commit": _git_commit(),
    }


def _ram_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        pass
    return None


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _git_commit() -> str | None:
    return provenance.source_commit(REPO_ROOT)


def merge_results(previous: Iterable[Mapping[str, Any]], fresh: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Fresh records replace earlier ones of the same benchmark and scale; of the earlier ones (from
    several files, say), the most recently measured is kept."""
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for r in previous:
        key = (r["benchmark"], r["scale"])
        if key not in merged or str(r.get("measured_at") or "") >= str(merged[key].get("measured_at") or ""):
            merged[key] = dict(r)
    merged.update({(r["benchmark"], r["scale"]): dict(r) for r in fresh})
    return list(merged.values())


def order_results(records: Iterable[Mapping[str, Any]], names: Sequence[str]) -> list[dict[str, Any]]:
    """Records in registry order, then scale order; unknown benchmarks last."""
    rank = {name: i for i, name in enumerate(names)}
    return sorted(
        (dict(r) for r in records),
        key=lambda r: (
            rank.get(r["benchmark"], len(rank)),
            r["benchmark"],
            SCALES.index(r["scale"]),
        ),
    )


def _fmt_rate(value: float) -> str:
    if value >= 1e6:
        return f"{value / 1e6:.2f} M"
    if value >= 1e3:
        return f"{value / 1e3:.1f} k"
    return f"{value:.0f}"


def _fmt_seconds(value: float) -> str:
    return f"{value:.2f}" if value >= 10 else f"{value:.3g}"


def _fmt_count(value: float) -> str:
    return f"{value:,.0f}"


def _load(record: Mapping[str, Any]) -> str:
    # The 1-minute load when the row started, and when it ended where recorded ("1.1 → 2.3").
    start = record.get("machine", {}).get("load_avg_1m")
    end = record.get("load_avg_1m_end")
    if start is None:
        return "—"
    return f"{start:.1f}" if end is None else f"{start:.1f} → {end:.1f}"


def row_stamp(record: Mapping[str, Any]) -> tuple[str, str, str]:
    """(commit, UTC time, load) of one row: where and when that row alone was measured."""
    commit = record.get("commit") or record.get("machine", {}).get("git_commit") or "—"
    when = record.get("measured_at")
    shown = record.get("measured_shown") or ("—" if not when else str(when).replace("T", " ")[:16])
    return str(commit), shown, _load(record)


def _fmt_figure(figure: str, value: float) -> str:
    if figure == "rate":
        return f"{_fmt_rate(value)}/s"
    if figure == "ratio":
        return f"{value:.2f}×"
    if figure.endswith("seconds"):
        return f"{_fmt_seconds(value)} s"
    if figure.endswith("_mb"):
        return f"{value:,.0f} MiB"
    if figure.endswith("_ms"):
        return f"{value:.3g} ms"
    return f"{value:,.3g}"


def _verdicts(record: Mapping[str, Any]) -> str:
    parts = []
    for t in record.get("targets", []):
        measured = t["measured"]
        shown = "n/a" if measured is None else _fmt_figure(t.get("figure", ""), measured)
        parts.append(f"{'pass' if t['met'] else '**miss**'} {t['label']} ({shown})")
    return "; ".join(parts) or "—"


def render_table(records: Sequence[Mapping[str, Any]]) -> str:
    """The results as one markdown table: a row per benchmark and scale."""
    header = (
        "| benchmark | scale | workload | time (s) | throughput | peak RSS (MiB) "
        "| baseline time (s) | baseline throughput | baseline peak (MiB) | ratio to baseline | targets "
        "| commit | measured (UTC) | load (1 min) |\n"
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- | ---: |\n"
    )
    rows = []
    for r in records:
        stamp = " | ".join(row_stamp(r))
        if r.get("status") == "legacy":
            # A row measured before rows carried their own stamp, kept as it was printed then.
            rows.append(f"| {r['benchmark']} | {r['scale']} | " + " | ".join(r["cells"]) + f" | {stamp} |")
            continue
        if r.get("status") != "ok":
            error = str(r.get("error", "")).splitlines()[0] if r.get("error") else "not run"
            rows.append(
                f"| {r['benchmark']} | {r['scale']} | {r.get('workload', '—')} "
                f"| error | | | | | | | {error} | {stamp} |"
            )
            continue
        h = r["headline"]
        unit = r["unit"]
        workload = f"{r['workload']}: {_fmt_count(h['count'])} {unit}"
        base = (
            (
                _fmt_seconds(h["baseline_seconds"]),
                f"{_fmt_rate(h['baseline_rate'])} {unit}/s",
                f"{h['baseline_peak_rss_mb']:.0f}",
                f"{h['ratio']:.2f}×",
            )
            if "ratio" in h
            else ("—", "—", "—", "—")
        )
        rows.append(
            f"| {r['benchmark']} | {r['scale']} | {workload} | {_fmt_seconds(h['seconds'])} "
            f"| {_fmt_rate(h['rate'])} {unit}/s | {h['peak_rss_mb']:.0f} | "
            + " | ".join(base)
            + f" | {_verdicts(r)} | {stamp} |"
        )
    return header + "\n".join(rows) + "\n"


def _detail_keys(bench: Benchmark) -> tuple[str, ...]:
    if bench.detail is None:
        return ()
    return (bench.detail,) if isinstance(bench.detail, str) else tuple(bench.detail)


def render_details(records: Sequence[Mapping[str, Any]], benchmarks: Sequence[Benchmark]) -> str:
    """One line per record and `detail` figure of a benchmark: its seconds per named part."""
    keys = {b.name: _detail_keys(b) for b in benchmarks if b.detail}
    lines = []
    for r in records:
        if r.get("status") != "ok":
            continue
        for key in keys.get(r["benchmark"], ()):
            parts = (r.get("subject") or {}).get("figures", {}).get(key)
            if isinstance(parts, Mapping) and parts:
                shown = ", ".join(f"{name} {_fmt_seconds(float(v))} s" for name, v in parts.items())
                lines.append(f"- {r['benchmark']} ({r['scale']}), {key}: {shown}")
    return "\n".join(lines) + "\n" if lines else ""


def render_machine(machine: Mapping[str, Any]) -> str:
    """The machine the rows were measured on, as a short markdown list (commit, time and load are per row)."""
    versions = ", ".join(f"{k} {v}" for k, v in machine.get("versions", {}).items() if v)
    return (
        f"- CPU: {machine.get('cpu')} — {machine.get('cores')} cores "
        f"({machine.get('cores_usable')} usable), RAM {machine.get('ram_gib')} GiB; shared, so a high "
        "load (per row in the table) inflates times\n"
        f"- {machine.get('os')}, Python {machine.get('python')}; {versions}\n"
    )


def render_notes(records: Sequence[Mapping[str, Any]]) -> str:
    """One line per note carried by rows (rows kept from before a method changed, say), naming its rows."""
    rows_of: dict[str, list[str]] = {}
    for r in records:
        if r.get("note"):
            rows_of.setdefault(str(r["note"]), []).append(f"{r['benchmark']} ({r['scale']})")
    lines = [f"- {', '.join(rows)}: {note}" for note, rows in rows_of.items()]
    return "\n".join(lines) + "\n" if lines else ""


def render_report(records: Sequence[Mapping[str, Any]], benchmarks: Sequence[Benchmark]) -> str:
    """docs/benchmarks.md: how to run, what each benchmark and baseline is, the table, the machine."""
    described = {r["benchmark"] for r in records}
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`python -m bench`); do not edit by hand. Figures, not test assertions:",
        "each case runs in a fresh process; time is `time.perf_counter` around the measured work only",
        "(imports and set-up excluded); peak RSS is the case process's high-water mark (VmHWM, so it",
        "includes the interpreter, its libraries and the case's set-up), or the server's where a",
        "benchmark loads a server. Each subject is compared with a baseline measured in the same run",
        "on the same machine; *ratio* = subject time / baseline time. Every row carries its own",
        "commit (`-dirty`: tracked files differed from it), the UTC time it started and the 1-minute",
        "load average at its start and end: rows are measured over hours and commits, and a re-run",
        "replaces only its own rows. Absolute figures (seconds, events/s) depend on the machine and",
        "its load, which is shared, so the ratio to the baseline is the figure that carries across",
        "machines; CPU seconds of each case are in `bench/results/results.json`, and the records",
        "behind this page in `docs/benchmarks.json`. Re-run one benchmark with",
        "`python -m bench --only NAME --scale small|full|both`.",
        "",
        "## What is measured",
        "",
    ]
    for bench in benchmarks:
        if bench.name not in described:
            continue
        goals = "; ".join(f"{t.label} at {'/'.join(t.scales)} scale" for t in bench.targets) or "none"
        lines += [
            f"- **{bench.name}**: {bench.what}",
            f"  - baseline: {bench.baseline_what}",
            f"  - targets: {goals}",
        ]
    lines += ["", "## Results", "", render_table(records)]
    notes = render_notes(records)
    if notes:
        lines += ["### Notes on rows", "", notes]
    details = render_details(records, benchmarks)
    if details:
        lines += ["### Details", "", details]
    measured = sorted((r for r in records if r.get("machine", {}).get("cpu")), key=lambda r: str(r.get("measured_at")))
    machine = measured[-1]["machine"] if measured else None
    if machine:
        lines += ["## Machine", "", render_machine(machine)]
    return "\n".join(lines) + "\n"


def docs_records_path(docs_path: Path) -> Path:
    """The records behind the docs page, committed beside it (bench/results/ is not)."""
    return docs_path.with_suffix(".json")


def _read_records(path: Path) -> list[dict[str, Any]]:
    return list(json.loads(path.read_text())["results"]) if path.exists() else []


def write_outputs(
    fresh: Sequence[Mapping[str, Any]],
    benchmarks: Sequence[Benchmark],
    out_dir: Path,
    docs_path: Path | None,
) -> list[dict[str, Any]]:
    """Merge fresh records into out_dir/results.json; write results.md, and the docs page with its
    records (`docs/benchmarks.json`, so rows measured elsewhere or earlier stay on the page)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / "results.json"
    previous = _read_records(json_path)
    if docs_path is not None:
        previous = _read_records(docs_records_path(docs_path)) + previous
    names = [b.name for b in benchmarks]
    records = order_results(merge_results(previous, fresh), names)
    json_path.write_text(json.dumps({"results": records}, indent=2, sort_keys=True) + "\n")
    (out_dir / "results.md").write_text(render_table(records))
    if docs_path is not None:
        docs_path.parent.mkdir(parents=True, exist_ok=True)
        # The docs page describes the benchmarks in the registry; smoke-only runs stay out of it.
        shown = [r for r in records if r["benchmark"] in {b.name for b in benchmarks}]
        docs_path.write_text(render_report(shown, benchmarks))
        docs_records_path(docs_path).write_text(json.dumps({"results": shown}, indent=2, sort_keys=True) + "\n")
    return records


def run_benchmarks(
    benchmarks: Sequence[Benchmark],
    scales: Sequence[str],
    out_dir: Path,
    docs_path: Path | None,
    work_dir: Path | None = None,
    repeat: int = 1,
    keep_work: bool = False,
    progress: Callable[[str], None] | None = None,
    registry: Sequence[Benchmark] | None = None,
) -> list[dict[str, Any]]:
    """Run benchmarks at scales (scale-major, so later benchmarks reuse earlier outputs) and write.

    `registry`: the benchmarks the outputs order and describe (default: the ones run); pass the whole
    registry so that an `--only` run keeps the other benchmarks' earlier rows on the docs page."""
    own_work = work_dir is None
    root = Path(tempfile.mkdtemp(prefix="journeyops-bench-")) if work_dir is None else work_dir
    root.mkdir(parents=True, exist_ok=True)
    fresh = []
    try:
        for scale in scales:
            for bench in benchmarks:
                fresh.append(measure(bench, scale, root, repeat=repeat, progress=progress))
    finally:
        if own_work and not keep_work:
            shutil.rmtree(root, ignore_errors=True)
        elif progress:
            progress(f"work files kept in {root}")
    write_outputs(fresh, registry if registry is not None else benchmarks, out_dir, docs_path)
    return fresh
