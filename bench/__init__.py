"""Benchmarks: speed and memory figures of JourneyOps, run with `make bench` (`python -m bench`).

A new benchmark is one small module defining `BENCHMARK` (see `bench.harness.Benchmark`), added
to the list below. Order matters: within a scale, later benchmarks may reuse earlier outputs
(ingest reads the landing files the simulate case wrote).
"""

from __future__ import annotations

from bench import (
    api,
    daily,
    daily_large,
    drift,
    ingest,
    make_run,
    pages,
    recovery,
    report,
    retrain,
    scoring,
    sessions,
    simulate,
    smoke,
    spark_daily,
)
from bench.harness import Benchmark

BENCHMARKS: list[Benchmark] = [
    simulate.BENCHMARK,
    ingest.BENCHMARK,
    smoke.BENCHMARK,
    report.BENCHMARK,
    retrain.BENCHMARK,
    scoring.BENCHMARK,
    drift.BENCHMARK,
    daily.BENCHMARK,
    daily_large.BENCHMARK,
    pages.BENCHMARK,
    pages.LARGE_BENCHMARK,
    sessions.BENCHMARK,
    sessions.SOAK_BENCHMARK,
    api.BENCHMARK,
    make_run.BENCHMARK,
    recovery.BENCHMARK,
    spark_daily.BENCHMARK,
    spark_daily.LARGE_BENCHMARK,
]
