"""The benchmark harness runs a case end to end and writes its figures; no timing is asserted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import BENCHMARKS
from bench.__main__ import main
from bench.harness import (
    Benchmark,
    Call,
    CaseError,
    CaseResult,
    Plan,
    Target,
    headline,
    merge_results,
    render_table,
    run_case,
)

SMALL_SUM = 100_000 * 99_999 // 2  # sum of 0..99,999


def test_smoke_case_runs_end_to_end_and_writes_json_markdown_and_docs(tmp_path: Path) -> None:
    out, docs = tmp_path / "results", tmp_path / "benchmarks.md"
    code = main(["--only", "smoke", "--scale", "small", "--out", str(out), "--docs", str(docs)])
    assert code == 0
    records = json.loads((out / "results.json").read_text())["results"]
    assert [(r["benchmark"], r["scale"], r["status"]) for r in records] == [("smoke", "small", "ok")]
    record = records[0]
    assert record["subject"]["figures"] == {"numbers": 100_000, "total": SMALL_SUM}
    assert record["baseline"]["figures"] == {"numbers": 100_000, "total": SMALL_SUM}
    assert record["headline"]["count"] == 100_000.0
    assert record["subject"]["peak_rss_mb"] > 0
    assert isinstance(record["subject"]["cpu_seconds"], float)
    assert [(t["label"], t["met"]) for t in record["targets"]] == [("peak RSS ≤ 2 GiB", True)]
    assert record["machine"]["cores"] >= 1
    assert "| smoke | small | sum of 100,000 integers: 100,000 numbers |" in (out / "results.md").read_text()
    report = docs.read_text()
    assert "- **smoke**: sum integers with numpy" in report
    assert "pass peak RSS ≤ 2 GiB" in report
    assert "## Machine" in report and "duckdb 2.0.1" in report


def test_a_later_run_keeps_earlier_records_of_other_scales(tmp_path: Path) -> None:
    earlier = {
        "benchmark": "smoke",
        "scale": "full",
        "status": "error",
        "error": "boom",
        "measured_at": "x",
    }
    out = tmp_path / "results"
    out.mkdir()
    (out / "results.json").write_text(json.dumps({"results": [earlier]}))
    assert main(["--only", "smoke", "--scale", "small", "--out", str(out), "--no-docs"]) == 0
    records = json.loads((out / "results.json").read_text())["results"]
    assert [(r["scale"], r["status"]) for r in records] == [("small", "ok"), ("full", "error")]
    assert "| smoke | full | — | error | | | | | | | boom | — | x | — |" in (out / "results.md").read_text()
    assert not (tmp_path / "benchmarks.md").exists()


def test_peak_rss_is_per_case_not_the_largest_child_so_far(tmp_path: Path) -> None:
    big = run_case(Call("bench.smoke:prepare_allocate", {"mib": 200}), tmp_path / "case.log")
    small = run_case(Call("bench.smoke:prepare_python_sum", {"n": 10}), tmp_path / "case.log")
    assert big.figures == {"numbers": 200 * 1024 * 1024}
    assert big.peak_rss_mb > 200
    assert small.peak_rss_mb < 100


def test_a_broken_case_raises_with_its_log_tail(tmp_path: Path) -> None:
    with pytest.raises(
        CaseError,
        match=r"bench.smoke:no_such_case exited with code 1: AttributeError: module .bench.smoke. has no attribute .no_such_case.",  # noqa: E501
    ):
        run_case(Call("bench.smoke:no_such_case"), tmp_path / "case.log")


def test_a_broken_benchmark_is_recorded_as_an_error_and_the_exit_code_is_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bench.__main__ as bench_main

    broken = Benchmark(
        name="smoke",
        what="w",
        baseline_what="b",
        count="numbers",
        unit="numbers",
        plan=lambda scale, work: Plan(workload="broken", subject=Call("bench.smoke:no_such_case")),
    )
    monkeypatch.setattr(bench_main, "BENCHMARKS", [broken])
    assert main(["--only", "smoke", "--scale", "small", "--out", str(tmp_path), "--no-docs"]) == 1
    (record,) = json.loads((tmp_path / "results.json").read_text())["results"]
    assert record["status"] == "error"
    assert "no_such_case exited with code 1" in record["error"]


def test_headline_figures_and_targets() -> None:
    subject = CaseResult(seconds=2.0, peak_rss_mb=300.0, rss_before_mb=100.0, figures={"events": 4_000_000})
    baseline = CaseResult(seconds=0.5, peak_rss_mb=200.0, rss_before_mb=90.0, figures={"events": 4_000_000})
    bench = next(b for b in BENCHMARKS if b.name == "ingest")
    figures = headline(bench, subject, baseline)
    assert figures == {
        "seconds": 2.0,
        "count": 4_000_000.0,
        "rate": 2_000_000.0,
        "peak_rss_mb": 300.0,
        "baseline_seconds": 0.5,
        "baseline_rate": 8_000_000.0,
        "baseline_peak_rss_mb": 200.0,
        "ratio": 4.0,
    }
    verdicts = {t.label: t.met(figures[t.figure]) for t in bench.targets}
    assert verdicts == {"≥ 1M events/s": True, "≤ 3× bare DuckDB": False, "peak RSS ≤ 2 GiB": True}
    assert Target("seconds", "<=", 60.0, "time ≤ 60 s").met(60.0) is True


def test_table_marks_a_missed_target() -> None:
    record = {
        "benchmark": "ingest",
        "scale": "full",
        "status": "ok",
        "unit": "events",
        "workload": "w",
        "headline": {"seconds": 2.0, "count": 4e6, "rate": 2e6, "peak_rss_mb": 300.0},
        "targets": [{"figure": "ratio", "label": "≤ 3× bare DuckDB", "measured": 4.0, "met": False}],
    }
    row = render_table([record]).splitlines()[-1]
    assert (
        row
        == "| ingest | full | w: 4,000,000 events | 2 | 2.00 M events/s | 300 | — | — | — | — | **miss** ≤ 3× bare DuckDB (4.00×) | — | — | — |"  # noqa: E501
    )


def test_merge_replaces_same_benchmark_and_scale_only() -> None:
    old = [
        {"benchmark": "a", "scale": "small", "v": 1},
        {"benchmark": "a", "scale": "full", "v": 1},
    ]
    new = [{"benchmark": "a", "scale": "small", "v": 2}]
    assert sorted((r["scale"], r["v"]) for r in merge_results(old, new)) == [
        ("full", 1),
        ("small", 2),
    ]


def test_every_registered_benchmark_plans_both_scales(tmp_path: Path) -> None:
    for bench in BENCHMARKS:
        for scale in ("small", "full"):
            plan = bench.plan(scale, tmp_path / scale)
            assert plan.subject.target.startswith("bench."), bench.name
            assert all(t.figure in {"seconds", "rate", "peak_rss_mb", "ratio", *bench.figures} for t in bench.targets)


def test_baselines_do_the_same_work_as_their_subjects(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    from bench import ingest, simulate

    landing = tmp_path / "landing"
    run, summarise = simulate.prepare_simulate(str(landing), days=3, orders_per_day=20, seed=7)
    written = summarise(run())
    assert written["files"] == 9
    assert written["orders"] == written["summary"]["orders"] > 0

    run, summarise = simulate.prepare_random_parquet(str(landing), str(tmp_path / "random"), seed=7)
    copied = summarise(run())
    assert {k: copied[k] for k in ("orders", "events", "contacts", "files")} == {
        k: written[k] for k in ("orders", "events", "contacts", "files")
    }
    for path in landing.glob("*.parquet"):
        assert pq.read_schema(tmp_path / "random" / path.name) == pq.read_schema(path)

    run, summarise = ingest.prepare_bare_duckdb(str(landing), str(tmp_path / "bare.duckdb"))
    run()
    assert summarise({}) == {k: written[k] for k in ("orders", "events", "contacts")}


def test_drift_case_compares_the_sampled_verdicts_with_the_full_run(tmp_path: Path) -> None:
    from bench import drift

    run, summarise = drift.prepare_sampled(rows=3_000, work_dir=str(tmp_path))
    sampled = summarise(run())
    run, summarise = drift.prepare_full(rows=3_000, work_dir=str(tmp_path))
    full = summarise(run())
    assert sampled["drifted"] == full["drifted"]
    assert set(drift.SHIFTED) <= set(full["drifted"]) and not {"near_below_x", "near_below_carrier"} & set(
        full["drifted"]
    )
    assert (full["same_verdicts"], full["differing_verdicts"], full["columns"]) == (1, [], 19)


def test_extra_headline_figures_come_from_the_subject_else_the_baseline() -> None:
    bench = next(b for b in BENCHMARKS if b.name == "drift")
    subject = CaseResult(seconds=1.0, peak_rss_mb=1.0, rss_before_mb=1.0, figures={"rows": 10})
    baseline = CaseResult(seconds=2.0, peak_rss_mb=1.0, rss_before_mb=1.0, figures={"rows": 10, "same_verdicts": 1})
    figures = headline(bench, subject, baseline)
    assert (figures["same_verdicts"], figures["ratio"]) == (1.0, 0.5)
    assert "same_verdicts" not in headline(bench, subject, None)


def test_an_only_run_keeps_the_other_benchmarks_rows_on_the_docs_page(tmp_path: Path) -> None:
    earlier = {"benchmark": "drift", "scale": "full", "status": "error", "error": "boom", "measured_at": "x"}
    out, docs = tmp_path / "results", tmp_path / "benchmarks.md"
    out.mkdir()
    (out / "results.json").write_text(json.dumps({"results": [earlier]}))
    assert main(["--only", "smoke", "--scale", "small", "--out", str(out), "--docs", str(docs)]) == 0
    report = docs.read_text()
    assert "| drift | full | — | error |" in report and "| smoke | small |" in report
    assert "- **drift**:" in report


def test_per_part_seconds_are_listed_under_the_table() -> None:
    from bench.harness import render_details

    bench = next(b for b in BENCHMARKS if b.name == "pages")
    record = {
        "benchmark": "pages",
        "scale": "full",
        "status": "ok",
        "subject": {"figures": {"page_seconds": {"today": 0.5, "drift": 1.25}}},
    }
    assert render_details([record], [bench]) == "- pages (full), page_seconds: today 0.5 s, drift 1.25 s\n"
