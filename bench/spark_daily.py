"""Benchmark `spark_daily`: the daily cycle on Spark (`daily --engine spark`) against the DuckDB daily of the same day.

Set-up (untimed; cached in the work dir with a marker, reused when the same one exists): the simulated
world's landing files (`bench.simulate.prepare_landing`: `days` × `orders_per_day`, the clean feed)
ingested into a store, a champion trained on capped rows (`retraining.retrain` with the demo's
settings, promoted even if the short history misses the gate: the benchmark needs a champion, not a
good one), and the lake exported from the store (`core.engine.lake.export`, as `lake export`). A
plain simulate + ingest, not `daily_large`'s closed-loop history (a `run_daily` per day, hours at
≈10 M events): the Spark daily reads only the events, the orders and the champion.
Subject: `core.jobs.daily_spark.run_daily_spark` for the store's last day on Spark `local[2]`, as
`python -m core daily --engine spark --master local[2] --lake LAKE --as-of D` runs it (features over
the lake, every role scoring in `mapInPandas` batches to Parquet, then on the driver the rest of the
DuckDB daily's day, written in one transaction), on a fresh copy of the store; the session's start
(the JVM) is set-up, its seconds the figure `session_start_seconds`. Peak memory is the whole
process tree's (this process, the JVM and its Python workers, summed and sampled every 0.2 s:
`tree_peak_rss_mb`), since the JVM is a child process the case's own high-water mark does not see.
Baseline: the DuckDB daily of the same day on another fresh copy of the same store (`run_daily`, no
retrain: `daily_on_duckdb`); it then compares the two stores' predictions of the day
(`parity_mismatched_rows`: rows not the same, text exactly and numbers to 1e-9 relative; 0 is parity).
Not in plain `make bench` (minutes of set-up and Spark): `python -m bench --only spark_daily`
(≈2.5 M events small, ≈5 M full) and `--only spark_daily_large` (≈5 M small, ≈10 M full, with a
4 GB driver heap: Spark's default 1 GB ran out at ≈10 M events).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from bench import daily, daily_large
from bench.harness import Benchmark, Call, Plan, Target

# (days, orders per day) per world; 60 × 500 wrote 262,709 events (seed 7).
WORLDS = {"2.5M": (60, 4_750), "5M": (60, 9_500), "10M": (60, 19_000)}
SIZES = {"small": "2.5M", "full": "5M"}
LARGE_SIZES = {"small": "5M", "full": "10M"}
SEED = 7
MASTER = "local[2]"
# The driver's JVM heap (in local mode it holds the executors too): Spark's default, as `daily --engine
# spark` starts it, for spark_daily; at ≈10 M events that default failed (OutOfMemoryError: Java heap
# space, materialising a statement), so spark_daily_large gives it 4 GB.
DRIVER_MEMORY = "1g"
LARGE_DRIVER_MEMORY = "4g"
SAMPLE_S = 0.2
RTOL = 1e-9


def world_dir(work_dir: Path, world: str) -> Path:
    """Where the set-up writes one world (landing files, store, models, lake), shared by both benchmarks."""
    return work_dir / "spark_daily_worlds" / world


def store_path(work_dir: Path, world: str) -> Path:
    """The world's store (its models beside it)."""
    return world_dir(work_dir, world) / "store" / "journeyops.duckdb"


def lake_path(work_dir: Path, world: str) -> Path:
    """The world's lake, exported from its store."""
    return world_dir(work_dir, world) / "lake"


def prepare_world(landing_dir: str, store: str, lake: str, params: dict[str, Any]) -> Callable[[], dict[str, Any]]:
    """Set-up: ingest the landing files, train and promote a champion, export the lake (reused when built)."""
    import shutil

    path, lake_dir = Path(store), Path(lake)
    marker = path.parent.with_name("built.json")
    if marker.exists() and path.exists() and lake_dir.exists() and json.loads(marker.read_text()) == params:
        return lambda: {"reused": True}

    def run() -> dict[str, Any]:
        from core.engine import lake as core_lake
        from core.ingest.landing import ingest_paths

        shutil.rmtree(path.parent, ignore_errors=True)
        shutil.rmtree(lake_dir, ignore_errors=True)
        path.parent.mkdir(parents=True)
        ingested = ingest_paths([Path(landing_dir)], store_path=path)
        daily_large.train_champion(path)
        exported = core_lake.export(path, lake_dir)
        marker.write_text(json.dumps(params))
        return json.loads(json.dumps({"ingested": ingested, "exported": exported}, default=str))

    return run


def last_event_day(store: Path) -> date:
    """The last day with events in the store: the day both dailies score."""
    from core import store as core_store

    with core_store.connect(store, read_only=True) as con:
        row = con.execute("select max(event_ts)::date from events").fetchone()
    assert row is not None and row[0] is not None, f"{store} holds no events"
    return date.fromisoformat(str(row[0]))


class TreePeak:
    """The peak of the summed RSS of this process and all its descendants, sampled on a thread."""

    def __init__(self, interval_s: float = SAMPLE_S) -> None:
        self.interval_s = interval_s
        self.peak_bytes = 0
        self.jvm_peak_bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def sample(self) -> None:
        """One reading of the tree (processes that end between listing and reading are skipped)."""
        import psutil

        me = psutil.Process()
        total, jvm = me.memory_info().rss, 0
        for child in me.children(recursive=True):
            try:
                rss = child.memory_info().rss
                name = child.name()
            except psutil.Error:
                continue
            total += rss
            if name == "java":
                jvm = max(jvm, rss)
        self.peak_bytes = max(self.peak_bytes, total)
        self.jvm_peak_bytes = max(self.jvm_peak_bytes, jvm)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.sample()

    def start(self) -> TreePeak:
        """Sample from now on."""
        self.sample()
        self._thread.start()
        return self

    def stop(self) -> dict[str, float]:
        """Stop sampling; the peaks in MiB."""
        self._stop.set()
        self._thread.join()
        self.sample()
        return {
            "tree_peak_rss_mb": round(self.peak_bytes / 2**20, 1),
            "jvm_peak_rss_mb": round(self.jvm_peak_bytes / 2**20, 1),
        }


def _event_count(lake: Path) -> int:
    import pyarrow.dataset as ds

    return int(ds.dataset(lake / "events", format="parquet", partitioning="hive").count_rows())


def prepare_spark_daily(
    template_store: str, lake: str, copy_dir: str, driver_memory: str = DRIVER_MEMORY
) -> tuple[Callable[[], Any], Callable[[Any], dict[str, Any]]]:
    """Time `run_daily_spark` for the store's last day on a fresh copy, Spark `local[2]` with a
    `driver_memory` heap (session started untimed)."""
    import time

    from core.engine.spark import spark_session
    from core.jobs import daily_spark

    copy = daily._fresh_copy(Path(template_store), Path(copy_dir))
    as_of = last_event_day(copy)
    outputs = Path(copy_dir) / "outputs"
    peak = TreePeak().start()
    started = time.perf_counter()
    session = spark_session(MASTER, conf={"spark.driver.memory": driver_memory})
    session.range(1).count()  # the JVM and its first job up before the clock starts
    session_start_s = time.perf_counter() - started

    def run() -> dict[str, Any]:
        return daily_spark.run_daily_spark(as_of, copy, lake, session=session, outputs=outputs)

    def summarise(outcome: dict[str, Any]) -> dict[str, Any]:
        session.stop()
        return {
            "as_of": as_of.isoformat(),
            "events": _event_count(Path(lake)),
            "open_orders": outcome["open_orders"],
            "predictions_loaded": outcome["predictions_loaded"],
            "listed": outcome["listed"],
            "master": MASTER,
            "driver_memory": driver_memory,
            "session_start_seconds": round(session_start_s, 2),
            **peak.stop(),
        }

    return run, summarise


def daily_on_duckdb(as_of: date, store: Path) -> dict[str, Any]:
    """The DuckDB daily of the same day (`run_daily`, no retrain, nothing new to ingest): the whole
    day `daily --engine spark` writes, with the features and scores computed on the store."""
    from core.jobs import daily as core_daily

    outcome = core_daily.run_daily(as_of, store, retrain=False)
    predictions = read_day_predictions(store, as_of)
    return {"open_orders": outcome["open_orders"], "predictions": len(predictions), "listed": outcome["listed"]}


def read_day_predictions(store: Path, as_of: date) -> Any:
    """The day's predictions rows, in a fixed order."""
    from core import store as core_store

    with core_store.connect(store, read_only=True) as con:
        return con.execute("select * from predictions where as_of_date = $d order by role, order_id", {"d": as_of}).df()


def mismatched_rows(expected: Any, got: Any, rtol: float = RTOL) -> dict[str, Any]:
    """How many rows of two frames of predictions differ (text and instants exactly, floats to `rtol`
    relative; `scored_at` aside: each run stamps its own), and the largest relative difference."""
    import numpy as np

    if len(expected) != len(got) or list(expected.columns) != list(got.columns):
        return {"parity_mismatched_rows": max(len(expected), len(got)), "parity_max_rel_diff": None}
    bad = np.zeros(len(expected), dtype=bool)
    worst = 0.0
    for name in expected.columns:
        if name == "scored_at":
            continue
        a, b = expected[name].to_numpy(), got[name].to_numpy()
        if expected[name].dtype.kind == "f":
            a, b = a.astype(float), b.astype(float)
            both_nan = np.isnan(a) & np.isnan(b)
            close = np.isclose(b, a, rtol=rtol, atol=0.0) | both_nan
            bad |= ~close
            with np.errstate(divide="ignore", invalid="ignore"):
                rel = np.where(both_nan | (a == b), 0.0, np.abs(b - a) / np.abs(a))
            worst = max(worst, float(np.nanmax(rel)) if len(rel) else 0.0)
        else:
            bad |= ~(
                expected[name].astype(object).where(expected[name].notna(), None).to_numpy()
                == got[name].astype(object).where(got[name].notna(), None).to_numpy()
            )
    return {"parity_mismatched_rows": int(bad.sum()), "parity_max_rel_diff": worst}


def prepare_duckdb_daily(
    template_store: str, copy_dir: str, spark_copy_dir: str
) -> tuple[Callable[[], Any], Callable[[Any], dict[str, Any]]]:
    """Time the DuckDB daily of the same day on a fresh copy; then compare its predictions with the Spark run's."""
    template = Path(template_store)
    copy = daily._fresh_copy(template, Path(copy_dir))
    as_of = last_event_day(copy)

    def run() -> dict[str, Any]:
        return daily_on_duckdb(as_of, copy)

    def summarise(outcome: dict[str, Any]) -> dict[str, Any]:
        spark_store = Path(spark_copy_dir) / template.name
        parity = mismatched_rows(read_day_predictions(copy, as_of), read_day_predictions(spark_store, as_of))
        return {**outcome, "as_of": as_of.isoformat(), "parity_rows": outcome["predictions"], **parity}

    return run, summarise


def _plan(world: str, work_dir: Path, driver_memory: str = DRIVER_MEMORY) -> Plan:
    days, per_day = WORLDS[world]
    landing = world_dir(work_dir, world) / "landing"
    store, lake = store_path(work_dir, world), lake_path(work_dir, world)
    spark_copy = work_dir / "spark_daily_run" / world / "spark"
    params = {"days": days, "orders_per_day": per_day, "seed": SEED}
    return Plan(
        workload=f"the last day of a {days}-day × {per_day:,} orders/day simulated world (≈{world} events), "
        f"Spark {MASTER}, driver heap {driver_memory}",
        setup=(
            Call("bench.simulate:prepare_landing", {"out_dir": str(landing), **params}),
            Call(
                "bench.spark_daily:prepare_world",
                {"landing_dir": str(landing), "store": str(store), "lake": str(lake), "params": params},
            ),
        ),
        subject=Call(
            "bench.spark_daily:prepare_spark_daily",
            {
                "template_store": str(store),
                "lake": str(lake),
                "copy_dir": str(spark_copy),
                "driver_memory": driver_memory,
            },
        ),
        baseline=Call(
            "bench.spark_daily:prepare_duckdb_daily",
            {
                "template_store": str(store),
                "copy_dir": str(work_dir / "spark_daily_run" / world / "duckdb"),
                "spark_copy_dir": str(spark_copy),
            },
        ),
    )


def plan(scale: str, work_dir: Path) -> Plan:
    """≈2.5 M events small, ≈5 M full."""
    return _plan(SIZES[scale], work_dir)


def plan_large(scale: str, work_dir: Path) -> Plan:
    """≈5 M events small (the same world as `spark_daily` full), ≈10 M full."""
    return _plan(LARGE_SIZES[scale], work_dir, LARGE_DRIVER_MEMORY)


_WHAT = (
    "`daily --engine spark` on Spark local[2] (`run_daily_spark`: features over the lake, every role "
    "scoring in mapInPandas batches to Parquet, then on the driver the triage list, ETAs, drift, validity, "
    "alerts and summary, the day written in one transaction), session start untimed "
    "(`session_start_seconds`); peak = the process tree's (Python driver + JVM + Python workers)"
)
_BASELINE_WHAT = (
    "the DuckDB daily of the same day on the same store (`run_daily`, no retrain: features and scoring on the "
    "store, then the same steps), then the parity check of the two stores' predictions of the day "
    "(`parity_mismatched_rows`, 0 = the same rows)"
)
_PARITY = Target("parity_mismatched_rows", "<=", 0.0, "same predictions rows as DuckDB", scales=("small", "full"))
_FIGURES = ("parity_mismatched_rows", "parity_rows", "open_orders", "session_start_seconds", "jvm_peak_rss_mb")


def _spark_benchmark(name: str, sizes: str, plan_of: Callable[..., Plan]) -> Benchmark:
    """A Spark-daily case: the same subject, baseline, parity target and figures at other sizes."""
    return Benchmark(
        name=name,
        what=f"{_WHAT} ({sizes})",
        baseline_what=_BASELINE_WHAT,
        plan=plan_of,
        count="events",
        unit="events",
        targets=(_PARITY,),
        default=False,
        figures=_FIGURES,
        peak_figure="tree_peak_rss_mb",
    )


BENCHMARK = _spark_benchmark("spark_daily", "≈2.5 M events small, ≈5 M full; Spark's default 1 GB driver heap", plan)
LARGE_BENCHMARK = _spark_benchmark(
    "spark_daily_large",
    "≈5 M events small, ≈10 M full; a 4 GB driver heap: Spark's default 1 GB ran out at ≈10 M",
    plan_large,
)
