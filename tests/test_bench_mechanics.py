"""The benchmarks measure what they claim (issue 13): the mechanics, at tiny scale, never a timing.

Cold renders find no views, the report's floor writes the subject's tables, drift compares verdicts on
columns just below and above the threshold, the daily figure includes the views refresh, the sessions
run beside a daily job and read the server's memory, API latency counts from the scheduled instant,
and every docs row carries its own commit, time and load.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from bench import BENCHMARKS, api, daily, drift, harness, pages, report, sessions
from bench.harness import Benchmark, Call, CaseResult, Plan, headline, render_report, render_table, write_outputs

# --------------------------------------------------------------------------- pages: cold, then warm


def _store_with_refreshed_views(tmp_path: Path) -> Path:
    store = tmp_path / "demo" / "journeyops.duckdb"
    views = store.parent / "views"
    (views / "today").mkdir(parents=True)
    (views / "today" / "refreshed.json").write_text("{}")
    return store


def test_the_cold_pass_removes_the_views_and_clears_the_caches_before_every_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _store_with_refreshed_views(tmp_path)
    views = store.parent / "views"
    cleared: list[int] = []
    monkeypatch.setattr(pages, "_clear_caches", lambda: cleared.append(1))
    seen: list[tuple[str, bool, int]] = []

    def render(page: Path) -> tuple[float, list[str]]:
        # a page computing live writes its view back: the next page must not find it
        seen.append((page.stem, views.exists(), len(cleared)))
        (views / page.stem).mkdir(parents=True)
        return 1.0, []

    saved = pages.set_views_aside(store)
    assert saved == store.parent / "views.refreshed" and (saved / "today" / "refreshed.json").exists()
    cold = pages.cold_pass(store, [Path("a.py"), Path("b.py"), Path("c.py")], render)
    assert seen == [("a", False, 1), ("b", False, 2), ("c", False, 3)]
    assert cold == {"page_seconds": {"a": 1.0, "b": 1.0, "c": 1.0}, "errors": {}}
    assert not views.exists()


def test_the_warm_pass_reads_the_refreshed_views_the_cold_pass_set_aside(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _store_with_refreshed_views(tmp_path)
    views = store.parent / "views"
    monkeypatch.setattr(pages, "_clear_caches", lambda: None)
    pages.set_views_aside(store)
    pages.cold_pass(store, [Path("a.py")], lambda page: ((views / "written-cold").mkdir(parents=True), (1.0, []))[1])
    seen: list[list[str]] = []
    warm = pages.warm_pass(
        store, [Path("a.py")], lambda page: (seen.append(sorted(p.name for p in views.iterdir())), (0.5, []))[1]
    )
    assert seen == [["today"]]
    assert warm == {"warm_page_seconds": {"a": 0.5}, "warm_errors": {}, "warm_with_views": True}


def test_the_pages_case_times_the_cold_renders_and_reports_the_warm_ones_beside(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _store_with_refreshed_views(tmp_path)
    views = store.parent / "views"
    (store.parent / pages.REFRESH_FILE).write_text(json.dumps({"refresh_seconds": 3.5}))
    started: list[Path] = []
    monkeypatch.setattr(pages, "_start_up", lambda path: started.append(path) or 0.25)
    monkeypatch.setattr(pages, "_clear_caches", lambda: None)
    monkeypatch.setattr(pages, "page_files", lambda: [Path("today.py"), Path("benefits.py")])
    cold_seconds = {"today": 0.75, "benefits": 2.0}

    def render(page: Path) -> tuple[float, list[str]]:
        # slow without views (computes live), fast with them (reads the files)
        return (0.5, []) if views.exists() else (cold_seconds[page.stem], [])

    monkeypatch.setattr(pages, "_render_seconds", render)
    run, summarise = pages.prepare_pages(str(store))
    assert started == [store]
    assert not views.exists()  # set aside before the clock starts
    figures = summarise(run())
    assert figures["page_seconds"] == cold_seconds
    assert (figures["slowest_page"], figures["slowest_page_seconds"]) == ("benefits", 2.0)
    assert figures["warm_page_seconds"] == {"today": 0.5, "benefits": 0.5}
    assert figures["warm_slowest_page_seconds"] == 0.5 and figures["warm_with_views"] is True
    assert (figures["refresh_seconds"], figures["start_up_seconds"], figures["pages_with_errors"]) == (3.5, 0.25, 0)


def test_both_page_benchmarks_set_up_a_refreshed_copy_and_time_the_cold_renders(tmp_path: Path) -> None:
    for bench in (pages.BENCHMARK, pages.LARGE_BENCHMARK):
        plan = bench.plan("small", tmp_path)
        assert [c.target for c in plan.setup][-1] == "bench.pages:prepare_views_copy"
        assert plan.subject.target == "bench.pages:prepare_pages"
        assert plan.subject.kwargs["store"].startswith(plan.setup[-1].kwargs["copy_dir"])
        assert "cold" in bench.targets[0].label and bench.targets[0].figure == "slowest_page_seconds"
        assert "warm_slowest_page_seconds" in bench.figures


def test_the_start_up_imports_the_apps_modules_and_its_lazy_libraries_without_a_page() -> None:
    assert pages.IMPORT_ALL == "from bench.pages import import_app_modules\nimport_app_modules()\n"
    lazy = pages.lazy_imports()
    assert {"evidently", "openpyxl"} <= {name.split(".")[0] for name in lazy}
    assert not [n for n in lazy if n.split(".")[0] in {"core", "ui", "json", "os", "streamlit.testing"}]


def test_lazy_imports_are_the_nested_third_party_ones(tmp_path: Path) -> None:
    (tmp_path / "ui").mkdir()
    (tmp_path / "core").mkdir()
    (tmp_path / "ui" / "a.py").write_text(
        "import numpy\n\ndef f():\n    import json\n    import plotly.io as pio\n    from core import x\n"
    )
    (tmp_path / "core" / "b.py").write_text("def g():\n    from openpyxl.styles import Font\n    from . import c\n")
    assert pages.lazy_imports(tmp_path) == ["openpyxl.styles", "plotly.io"]


# --------------------------------------------------------------------------- report: a true floor


def _report(tables: dict[str, pd.DataFrame]) -> Any:
    from core.report.contents import IsoWeek, WeeklyReport

    week = IsoWeek("2026-W10", date(2026, 3, 2), date(2026, 3, 8))
    at = datetime(2026, 3, 9, tzinfo=UTC)
    return WeeklyReport(week=week, as_of=at, generated_at=at, tables=tables)


def _tables() -> dict[str, pd.DataFrame]:
    from core.report.contents import SECTIONS

    tables = {key: pd.DataFrame({"name": [key, "b"], "value": [1.5, float("nan")]}) for key in SECTIONS}
    tables["at_risk"] = pd.DataFrame(
        {
            "order_id": ["o1", "=HYPERLINK(1)"],
            "as_of_date": pd.to_datetime(["2026-03-02", "2026-03-03"]),
            "rank": [1, 2],
            "held_out": [False, True],
        }
    )
    tables["alerts"] = pd.DataFrame({"rule": pd.Series([], dtype=object)})
    return tables


def test_the_floor_writes_the_subjects_cell_values_sheet_by_sheet(tmp_path: Path) -> None:
    from core.report.workbook import write_workbook

    built = _report(_tables())
    subject = write_workbook(built, tmp_path / "subject.xlsx")
    xlsx, html = report.write_floor(built, tmp_path / "floor")
    floor_values = report.workbook_values(xlsx)
    assert report.differing_sheets(floor_values, report.workbook_values(subject)) == []
    assert floor_values["At-risk lists"][2][0] == "=HYPERLINK(1)"  # text, as in the subject
    assert "HYPERLINK" in html.read_text() and "plotly" not in html.read_text()

    changed = _tables()
    changed["segments"] = changed["segments"].assign(value=[2.5, 1.0])
    xlsx, _ = report.write_floor(_report(changed), tmp_path / "floor2")
    assert report.differing_sheets(report.workbook_values(xlsx), report.workbook_values(subject)) == ["Segments"]
    # float sums in another order differ in the last bits only: the same content
    assert report.differing_sheets({"S": [(32.99678362573099, "a")]}, {"S": [(32.996783625731, "a")]}) == []
    assert report.differing_sheets({"S": [(32.9968, "a")]}, {"S": [(32.996783625731, "a")]}) == ["S"]


def test_the_report_floor_is_the_reports_own_tables_not_a_raw_dump(tmp_path: Path) -> None:
    plan = report.BENCHMARK.plan("small", tmp_path)
    assert plan.baseline is not None and plan.baseline.target == "bench.report:prepare_floor"
    assert plan.baseline.kwargs["subject_out_dir"] == plan.subject.kwargs["out_dir"]
    assert ("same_tables", ">=", 1.0) in [(t.figure, t.op, t.value) for t in report.BENCHMARK.targets]
    assert not hasattr(report, "prepare_raw_dump")


# --------------------------------------------------------------------------- drift: ≥ 5×, near-threshold columns


def test_near_threshold_carrier_mixes_sit_at_their_distance() -> None:
    from scipy.spatial import distance

    for target in (0.09, 0.11):
        mixed = drift.mix_at_distance(target)
        assert abs(sum(mixed) - 1.0) < 1e-12
        assert abs(float(distance.jensenshannon(drift.CARRIER_P, mixed)) - target) < 1e-9


def test_near_threshold_numeric_columns_are_shifted_just_below_and_above() -> None:
    reference, current = drift.make_frames(200_000)
    assert len(reference.columns) == 19 and set(drift.NEAR) <= set(reference.columns)
    below = current["near_below_x"].mean() - reference["near_below_x"].mean()
    above = current["near_above_x"].mean() - reference["near_above_x"].mean()
    assert 0.08 < below < 0.1 < above < 0.12  # 0.9 and 1.1 × the 0.1 threshold, seeded draws


def test_the_verdict_comparison_covers_the_near_threshold_columns(tmp_path: Path) -> None:
    run, summarise = drift.prepare_sampled(rows=3_000, work_dir=str(tmp_path))
    sampled = summarise(run())
    run, summarise = drift.prepare_full(rows=3_000, work_dir=str(tmp_path))
    full = summarise(run())
    assert (full["same_verdicts"], full["differing_verdicts"], full["columns"]) == (1, [], 19)
    assert set(full["near_verdicts"]) == set(drift.NEAR) == set(sampled["near_scores"])
    # a sampled run that got one near-threshold column wrong is caught
    path = tmp_path / "drift_sampled_verdicts.json"
    saved = json.loads(path.read_text())
    saved["verdicts"]["near_below_x"] = not saved["verdicts"]["near_below_x"]
    path.write_text(json.dumps(saved))
    run, summarise = drift.prepare_full(rows=3_000, work_dir=str(tmp_path))
    tampered = summarise(run())
    assert (tampered["same_verdicts"], tampered["differing_verdicts"]) == (0, ["near_below_x"])


def test_the_drift_target_is_five_times_faster_than_the_full_run() -> None:
    ratio = next(t for t in drift.BENCHMARK.targets if t.figure == "ratio")
    assert (ratio.op, ratio.value, ratio.scales) == ("<=", 0.2, ("full",))
    assert ratio.met(0.2) and not ratio.met(0.21)


# --------------------------------------------------------------------------- daily: the views refresh inside


def test_the_daily_figure_runs_what_the_daily_command_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:

    from core.cli import daily as cli_daily
    from core.jobs import daily as core_daily
    from core.views import stored

    calls: list[tuple[str, Any]] = []
    outcome = {
        "as_of_date": "2026-03-02",
        "open_orders": 5,
        "listed": 1,
        "held_out": 0,
        "eta_source": "champion",
        "alerts": 0,
        "seconds": 0.1,
    }

    def fake_run_daily(as_of: date, store: Any, **kwargs: Any) -> dict[str, Any]:
        calls.append(("run_daily", kwargs["retrain"]))
        return dict(outcome)

    def fake_refresh(store: Any, *args: Any, **kwargs: Any) -> dict[str, float]:
        calls.append(("refresh_views", Path(store)))
        return {"today": 0.1}

    monkeypatch.setattr(core_daily, "run_daily", fake_run_daily)
    monkeypatch.setattr(stored, "refresh_quietly", fake_refresh)
    monkeypatch.setattr(cli_daily, "_feed", lambda args: None)
    store = tmp_path / "s.duckdb"

    from core.cli import build_parser

    args = build_parser().parse_args(["daily", "--as-of", "2026-03-02", "--store", str(store), "--no-retrain"])
    cli_daily.cmd_daily(args)
    command_calls, calls[:] = list(calls), []
    figures = daily.day_figures(date(2026, 3, 2), daily.daily_command(date(2026, 3, 2), store))
    assert calls == command_calls == [("run_daily", False), ("refresh_views", store)]
    assert figures["views_refreshed"] is True
    assert isinstance(figures["views_refresh_seconds"], float) and isinstance(figures["run_daily_seconds"], float)

    monkeypatch.setattr(stored, "refresh_quietly", lambda store, *a, **k: None)  # a failed refresh is a figure
    assert daily.daily_command(date(2026, 3, 2), store)["views_refreshed"] is False


def test_both_daily_cases_time_the_daily_command() -> None:
    import inspect

    from bench import daily_large

    assert "daily_command(" in inspect.getsource(daily.prepare_daily)
    assert "daily_command(" in inspect.getsource(daily_large.prepare_daily_large)
    assert "run_daily(" not in inspect.getsource(daily_large.prepare_daily_large)
    for bench in (daily.BENCHMARK, daily_large.BENCHMARK):
        assert "views_refresh_seconds" in bench.figures


# --------------------------------------------------------------------------- sessions: daily job, server memory, soak


def test_server_memory_counts_the_process_and_its_children(tmp_path: Path) -> None:
    import psutil

    ready, stop = tmp_path / "ready", tmp_path / "stop"
    child = (
        "import pathlib, time\n"
        "block = bytearray(200 * 1024 * 1024)\n"
        "for i in range(0, len(block), 4096): block[i] = 1\n"
        f"pathlib.Path({str(ready)!r}).write_text('x')\n"
        f"while not pathlib.Path({str(stop)!r}).exists(): time.sleep(0.05)\n"
    )
    parent = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {child!r}])"
    proc = subprocess.Popen([sys.executable, "-c", parent])
    try:
        deadline = time.monotonic() + 60
        while not ready.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ready.exists()
        own = psutil.Process(proc.pid).memory_info().rss / 1024**2
        assert own < 100
        assert sessions.tree_rss_mb(proc.pid) > own + 200
    finally:
        stop.write_text("x")
        proc.wait(timeout=60)
    assert sessions.tree_rss_mb(proc.pid) == 0.0  # gone


def test_the_load_runs_while_the_daily_job_runs_and_the_job_is_waited_for(tmp_path: Path) -> None:
    go = tmp_path / "load-started"
    job = [
        sys.executable,
        "-c",
        f"import pathlib, time\nwhile not pathlib.Path({str(go)!r}).exists(): time.sleep(0.02)",
    ]

    def load() -> dict[str, Any]:
        go.write_text("x")  # the job cannot end before the load has started
        return {"runs": 3, "errors": 0}

    figures = sessions.with_job(job, load, tmp_path / "job.log")
    assert (figures["runs"], figures["errors"], figures["daily_exit_code"]) == (3, 0, 0)
    assert figures["daily_running_at_load_start"] is True
    assert figures["daily_overlap_seconds"] >= 0.0
    failing = sessions.with_job([sys.executable, "-c", "raise SystemExit(3)"], lambda: {"runs": 0}, tmp_path / "j.log")
    assert failing["daily_exit_code"] == 3


def test_the_sessions_case_runs_the_daily_command_and_shows_the_servers_memory(tmp_path: Path) -> None:
    import inspect

    assert "daily_command(store)" in inspect.getsource(sessions.prepare_dashboard)
    plan = sessions.BENCHMARK.plan("small", tmp_path)
    assert plan.baseline is not None and "template_store" in plan.baseline.kwargs
    assert sessions.BENCHMARK.peak_figure == "server_peak_rss_mb"
    subject = CaseResult(
        seconds=10.0, peak_rss_mb=50.0, rss_before_mb=40.0, figures={"runs": 110, "server_peak_rss_mb": 400.0}
    )
    baseline = CaseResult(
        seconds=2.0, peak_rss_mb=45.0, rss_before_mb=40.0, figures={"runs": 110, "server_peak_rss_mb": 90.0}
    )
    figures = headline(sessions.BENCHMARK, subject, baseline)
    assert (figures["peak_rss_mb"], figures["case_peak_rss_mb"], figures["baseline_peak_rss_mb"]) == (400.0, 50.0, 90.0)


def test_a_soak_reads_server_memory_after_each_wave_and_judges_it_flat() -> None:
    waves: list[int] = []
    rss = iter([300.0, 310.0, 325.0])
    figures = sessions.soak_waves(
        lambda w: waves.append(w) or {"runs": 550, "errors": 1, "error_samples": ["e"]},
        lambda: next(rss),
        settle_s=0.0,
        peak_of=lambda: 400.0,
    )
    assert waves == [0, 1, 2]
    assert figures == {
        "waves": 3,
        "runs": 1650,
        "errors": 3,
        "error_samples": ["e", "e", "e"],
        "wave_rss_mb": [300.0, 310.0, 325.0],
        "wave_peak_rss_mb": [400.0, 400.0, 400.0],
        "last_over_first": 1.083,
        "memory_flat": 1,
    }
    growing = iter([300.0, 340.0, 390.0])
    assert sessions.soak_waves(lambda w: {"runs": 1}, lambda: next(growing), settle_s=0.0)["memory_flat"] == 0
    assert sessions.flat(300.0, 330.0) and not sessions.flat(300.0, 330.1)


def test_the_soak_is_fifty_sessions_three_waves_and_off_by_default() -> None:
    soak = next(b for b in BENCHMARKS if b.name == "soak")
    assert soak.default is False
    assert (sessions.SOAK_SESSIONS["full"], sessions.SOAK_WAVES) == (50, 3)
    assert ("memory_flat", ">=", 1.0) in [(t.figure, t.op, t.value) for t in soak.targets]


# --------------------------------------------------------------------------- api: latency from the schedule


def test_latency_counts_from_the_scheduled_instant_so_queueing_shows() -> None:
    # A server that answers one request at a time in 20 ms, asked every 10 ms: request i cannot be
    # answered before (i + 1) × 20 ms after the start, i.e. (i + 1) × 20 − i × 10 ms after it was due.
    def slow(i: int) -> int:
        time.sleep(0.02)
        return 200

    figures = api.scheduled_open_loop(slow, rate=100.0, duration_s=0.3, workers=1)
    assert (figures["requests"], figures["errors"], figures["latency_from"]) == (30, 0, "scheduled instant")
    assert figures["max_ms"] >= 20 + 10 * 29  # the last one waited for the 29 before it
    assert figures["p50_ms"] >= 20 + 10 * 14
    assert figures["service_p50_ms"] >= 20  # its own send() to answer: the queue is not in it
    assert figures["service_p50_ms"] < figures["p50_ms"]


def test_a_failed_request_is_an_error_not_a_crash() -> None:
    def flaky(i: int) -> int:
        if i % 2:
            raise OSError("refused")
        return 200 if i % 4 == 0 else 503

    figures = api.scheduled_open_loop(flaky, rate=1000.0, duration_s=0.008, workers=2)
    assert (figures["requests"], figures["errors"], figures["statuses"]) == (8, 6, {"200": 2, "0": 4, "503": 2})


def test_the_ids_are_drawn_from_every_scored_order_and_some_earlier_ones() -> None:
    latest = [f"L{i}" for i in range(5_000)]
    earlier = [f"E{i}" for i in range(1_000)]
    ids = api.request_ids(latest, earlier, 3_000)
    assert len(ids) == 3_000 and set(ids) <= set(latest) | set(earlier)
    share = sum(i.startswith("E") for i in ids) / len(ids)
    assert 0.07 < share < 0.13  # EARLIER_SHARE = 0.1, seeded
    assert len(set(ids)) > 2_000  # not 200 ids in a cycle
    assert api.request_ids(latest, earlier, 3_000) == ids  # seeded: the same load each run
    assert set(api.request_ids(latest, [], 100)) <= set(latest)


def test_a_404_is_the_right_answer_only_for_an_order_the_latest_scoring_did_not_forecast() -> None:
    ok = api.expected_status(["L1", "E1"], ["L1", "L2"])
    assert (ok(0, 200), ok(0, 404), ok(1, 200), ok(1, 404), ok(1, 500)) == (True, False, True, True, False)
    figures = api.scheduled_open_loop(lambda i: 404, rate=1000.0, duration_s=0.002, workers=1, ok=ok)
    assert (figures["errors"], figures["statuses"]) == (1, {"404": 2})


# --------------------------------------------------------------------------- rows: commit, time and load each


def _record(name: str, commit: str, at: str, load: float) -> dict[str, Any]:
    return {
        "benchmark": name,
        "scale": "full",
        "status": "ok",
        "unit": "rows",
        "workload": "w",
        "measured_at": at,
        "commit": commit,
        "load_avg_1m_end": load + 1,
        "machine": {"git_commit": commit, "load_avg_1m": load, "cores": 2},
        "headline": {"seconds": 1.0, "count": 10.0, "rate": 10.0, "peak_rss_mb": 100.0},
        "targets": [],
    }


def test_every_row_carries_its_own_commit_time_and_load() -> None:
    table = render_table(
        [
            _record("drift", "abc1234", "2026-12-04T21:50:03+00:00", 1.2),
            _record("daily", "def5678-dirty", "2026-12-04T23:01:00+00:00", 0.4),
        ]
    )
    rows = table.splitlines()
    assert rows[0].endswith("| targets | commit | measured (UTC) | load (1 min) |")
    assert rows[2].endswith("| — | abc1234 | 2026-12-04 21:50 | 1.2 → 2.2 |")
    assert rows[3].endswith("| — | def5678-dirty | 2026-12-04 23:01 | 0.4 → 1.4 |")
    page = render_report([_record("drift", "abc1234", "2026-12-04T21:50:03+00:00", 1.2)], BENCHMARKS)
    assert "git commit:" not in page and "when the run started" not in page


def test_a_measured_record_is_stamped_with_commit_time_and_both_loads(tmp_path: Path) -> None:
    smoke = next(b for b in BENCHMARKS if b.name == "smoke")
    record = harness.measure(smoke, "small", tmp_path)
    assert record["status"] == "ok"
    assert record["commit"] == record["machine"]["git_commit"] and record["commit"]
    assert datetime.fromisoformat(record["measured_at"]) <= datetime.fromisoformat(record["finished_at"])
    assert isinstance(record["load_avg_1m_end"], float) and isinstance(record["machine"]["load_avg_1m"], float)


def test_the_commit_says_dirty_when_tracked_files_differ(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q")
    (tmp_path / "f.txt").write_text("a")
    git("add", "f.txt")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "one")
    monkeypatch.setattr(harness, "REPO_ROOT", tmp_path)
    clean = harness._git_commit()
    assert clean is not None and not clean.endswith("-dirty")
    (tmp_path / "untracked.txt").write_text("x")
    assert harness._git_commit() == clean  # untracked files are not the measured code
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "benchmarks.md").write_text("a")
    git("add", "docs/benchmarks.md")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "two")
    clean = harness._git_commit()
    (tmp_path / "docs" / "benchmarks.md").write_text("b")
    assert harness._git_commit() == clean  # nor is the docs page a run rewrites
    (tmp_path / "f.txt").write_text("b")
    assert harness._git_commit() == f"{clean}-dirty"


def test_the_docs_records_keep_rows_measured_in_other_runs(tmp_path: Path) -> None:
    bench = Benchmark(
        name="smoke",
        what="w",
        baseline_what="b",
        count="rows",
        unit="rows",
        plan=lambda scale, work: Plan("w", subject=Call("bench.smoke:prepare_numpy_sum")),
    )
    other = Benchmark(name="drift", what="w", baseline_what="b", count="rows", unit="rows", plan=bench.plan)
    docs = tmp_path / "docs" / "benchmarks.md"
    first = _record("drift", "aaa1111", "2026-12-04T20:00:00+00:00", 1.0)
    write_outputs([first], [bench, other], tmp_path / "run1", docs)
    # a later run elsewhere (no results.json) re-runs only smoke: the drift row stays, with its own stamp
    second = _record("smoke", "bbb2222", "2026-12-04T22:00:00+00:00", 0.5)
    write_outputs([second], [bench, other], tmp_path / "run2", docs)
    page = docs.read_text()
    assert "| drift | full | w: 10 rows |" in page and "| aaa1111 | 2026-12-04 20:00 |" in page
    assert "| smoke | full | w: 10 rows |" in page and "| bbb2222 | 2026-12-04 22:00 |" in page
    kept = json.loads(harness.docs_records_path(docs).read_text())["results"]
    assert sorted(r["commit"] for r in kept) == ["aaa1111", "bbb2222"]


def test_of_earlier_records_the_most_recently_measured_is_kept() -> None:
    older = {"benchmark": "a", "scale": "full", "measured_at": "2026-12-01T00:00:00+00:00", "v": 1}
    newer = {"benchmark": "a", "scale": "full", "measured_at": "2026-12-02T00:00:00+00:00", "v": 2}
    assert [r["v"] for r in harness.merge_results([newer, older], [])] == [2]
    assert [r["v"] for r in harness.merge_results([older, newer], [])] == [2]


def test_a_legacy_row_is_printed_as_it_was_with_its_run_stamp_and_note() -> None:
    legacy = {
        "benchmark": "recovery",
        "scale": "full",
        "status": "legacy",
        "cells": ["w", "16.17", "943/s", "563", "14.51", "1.1 k/s", "567", "1.11×", "pass"],
        "commit": "0072e87 (run start)",
        "measured_at": "2026-11-27T09:35:04+00:00",
        "measured_shown": "2026-11-27 09:35–11:43 (run)",
        "note": "measured before rows carried their own stamp",
        "machine": {"load_avg_1m": 1.0},
    }
    row = render_table([legacy]).splitlines()[-1]
    assert row == (
        "| recovery | full | w | 16.17 | 943/s | 563 | 14.51 | 1.1 k/s | 567 | 1.11× | pass "
        "| 0072e87 (run start) | 2026-11-27 09:35–11:43 (run) | 1.0 |"
    )
    assert "- recovery (full): measured before rows carried their own stamp" in render_report([legacy], BENCHMARKS)


# --------------------------------------------------------------------------- spark_daily: parity, memory, sizes


def _predictions(**changes: list[Any]) -> pd.DataFrame:
    rows = {
        "order_id": ["o1", "o2", "o3"],
        "role": ["champion"] * 3,
        "p50_h": [10.0, 20.0, float("nan")],
        "stuck_prob": [0.1, 0.2, 0.3],
        "scored_at": pd.to_datetime(["2026-03-09 06:00"] * 3),
    }
    return pd.DataFrame({**rows, **changes})


def test_parity_counts_rows_that_differ_beyond_1e9_and_ignores_when_each_run_scored() -> None:
    from bench import spark_daily

    same = spark_daily.mismatched_rows(_predictions(), _predictions(scored_at=pd.to_datetime(["2026-03-10"] * 3)))
    assert same == {"parity_mismatched_rows": 0, "parity_max_rel_diff": 0.0}
    tiny = spark_daily.mismatched_rows(_predictions(), _predictions(p50_h=[10.0 * (1 + 1e-12), 20.0, float("nan")]))
    assert tiny["parity_mismatched_rows"] == 0 and 0 < tiny["parity_max_rel_diff"] < 1e-9
    off = spark_daily.mismatched_rows(_predictions(), _predictions(p50_h=[10.0, 20.0 * (1 + 1e-6), 1.0]))
    assert off["parity_mismatched_rows"] == 2 and off["parity_max_rel_diff"] == pytest.approx(1e-6)
    text = spark_daily.mismatched_rows(_predictions(), _predictions(role=["champion", "challenger", "champion"]))
    assert text["parity_mismatched_rows"] == 1
    assert spark_daily.mismatched_rows(_predictions(), _predictions().head(2))["parity_mismatched_rows"] == 3


def test_the_spark_peak_sums_this_process_and_its_children(tmp_path: Path) -> None:
    from bench import spark_daily

    ready, stop = tmp_path / "ready", tmp_path / "stop"
    child = (
        "import pathlib, time\n"
        "block = bytearray(200 * 1024 * 1024)\n"
        "for i in range(0, len(block), 4096): block[i] = 1\n"
        f"pathlib.Path({str(ready)!r}).write_text('x')\n"
        f"while not pathlib.Path({str(stop)!r}).exists(): time.sleep(0.05)\n"
    )
    peak = spark_daily.TreePeak(interval_s=0.05).start()
    alone = peak.peak_bytes / 2**20
    proc = subprocess.Popen([sys.executable, "-c", child])
    try:
        deadline = time.monotonic() + 60
        while not ready.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ready.exists()
        time.sleep(0.2)
    finally:
        stop.write_text("x")
        proc.wait(timeout=60)
    figures = peak.stop()
    assert figures["tree_peak_rss_mb"] > alone + 200
    assert figures["jvm_peak_rss_mb"] == 0.0  # no java among them


def test_the_spark_daily_cases_grow_the_world_and_compare_with_duckdb_on_the_same_store(tmp_path: Path) -> None:
    from bench import spark_daily

    benches = {b.name: b for b in BENCHMARKS}
    small, large = benches["spark_daily"], benches["spark_daily_large"]
    assert not small.default and not large.default  # minutes of set-up and Spark: not in plain `make bench`
    assert small.peak_figure == large.peak_figure == "tree_peak_rss_mb"
    sizes = [spark_daily.WORLDS[w] for w in ("2.5M", "5M", "10M")]
    assert [days for days, _ in sizes] == [60] * 3
    assert [per_day / sizes[0][1] for _, per_day in sizes] == [1, 2, 4]
    plans = {(b.name, s): b.plan(s, tmp_path) for b in (small, large) for s in ("small", "full")}
    # the 5 M world is one set-up for both benchmarks
    assert plans[("spark_daily", "full")].setup == plans[("spark_daily_large", "small")].setup
    for plan in plans.values():
        assert plan.subject.target == "bench.spark_daily:prepare_spark_daily"
        assert plan.baseline is not None and plan.baseline.target == "bench.spark_daily:prepare_duckdb_daily"
        # the same store for both, and the baseline reads the subject's copy for the parity check
        assert plan.subject.kwargs["template_store"] == plan.baseline.kwargs["template_store"]
        assert plan.baseline.kwargs["spark_copy_dir"] == plan.subject.kwargs["copy_dir"]
        assert plan.baseline.kwargs["copy_dir"] != plan.subject.kwargs["copy_dir"]
    # Spark's default driver heap as the CLI starts it; 4 GB where the default ran out (≈10 M events)
    assert {s: plans[("spark_daily", s)].subject.kwargs["driver_memory"] for s in ("small", "full")} == {
        "small": "1g",
        "full": "1g",
    }
    assert {s: plans[("spark_daily_large", s)].subject.kwargs["driver_memory"] for s in ("small", "full")} == {
        "small": "4g",
        "full": "4g",
    }
    for bench in (small, large):
        (target,) = bench.targets
        assert (target.figure, target.op, target.value, target.scales) == (
            "parity_mismatched_rows",
            "<=",
            0.0,
            ("small", "full"),
        )
