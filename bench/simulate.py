"""Benchmark `simulate`: the embedded world writing daily landing Parquet.

Baseline: writing the same number of rows, with the same columns, types, file split and
compression, of random data with numpy + pyarrow; the ratio is what the world's logic costs on
top of producing and writing that much Parquet.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.harness import Benchmark, Call, Plan, Target

# (days, orders per day) per scale; the issue sets full scale at 180 days × 3,000 orders/day.
SIZES = {"small": (30, 1_000), "full": (180, 3_000)}
SEED = 7
KINDS = ("orders", "events", "contacts")


def landing_dir(work_dir: Path) -> Path:
    """Where the simulate case writes landing files at one scale (the ingest case reads them)."""
    return work_dir / "landing"


def count_landing_rows(folder: Path) -> dict[str, int]:
    """Rows and files per kind of landing Parquet in a folder, from the file footers only."""
    import pyarrow.parquet as pq

    counts = {kind: 0 for kind in KINDS}
    counts["files"] = 0
    counts["bytes"] = 0
    for path in sorted(folder.glob("*.parquet")):
        kind = path.name.split("_", 1)[0]
        counts[kind] = counts.get(kind, 0) + pq.ParquetFile(path).metadata.num_rows
        counts["files"] += 1
        counts["bytes"] += path.stat().st_size
    return counts


def _marker(landing: Path) -> Path:
    # Beside the folder, not in it: ingest would report a stray file in its landing folder.
    return landing.with_name(landing.name + ".json")


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def prepare_simulate(
    out_dir: str, days: int, orders_per_day: int, seed: int
) -> tuple[Callable[[], Any], Callable[[Any], dict[str, Any]]]:
    """Time `core.world.simulate.simulate_to_dir` into an empty folder; count rows afterwards."""
    from core.world.simulate import simulate_to_dir

    out = Path(out_dir)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)

    def run() -> Any:
        # The clean feed: the benchmark times loading, and its bare-DuckDB baseline reads only Parquet.
        return simulate_to_dir(out_dir=out, days=days, orders_per_day=orders_per_day, seed=seed, clean_feed=True)

    def summarise(summary: Any) -> dict[str, Any]:
        # The marker lets the ingest case reuse these files instead of simulating again.
        params = {"days": days, "orders_per_day": orders_per_day, "seed": seed}
        _marker(out).write_text(json.dumps(params))
        return {**count_landing_rows(out), "summary": _jsonable(summary)}

    return run, summarise


def prepare_landing(out_dir: str, days: int, orders_per_day: int, seed: int) -> Callable[[], dict[str, Any]]:
    """Set-up for other benchmarks: simulate landing files unless this run already wrote them."""
    out = Path(out_dir)
    params = {"days": days, "orders_per_day": orders_per_day, "seed": seed}
    marker = _marker(out)
    if marker.exists() and json.loads(marker.read_text()) == params:
        return lambda: {"reused": True}
    run, summarise = prepare_simulate(out_dir, days, orders_per_day, seed)

    def run_and_mark() -> dict[str, Any]:
        return summarise(run())

    return run_and_mark


def _random_column(name: str, arrow_type: Any, n: int, rng: Any) -> Any:
    """n random values of one Arrow type: ids and labels as strings, times, numbers, flags."""
    import numpy as np
    import pyarrow as pa

    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        # Ids are (near) unique, other text is a label of a few values: the shape of real columns.
        high = max(n, 1) if name.endswith("_id") else 16
        return pa.array(rng.integers(0, high, size=n)).cast(arrow_type)
    if pa.types.is_timestamp(arrow_type):
        start = np.datetime64("2025-01-01T00:00:00", "us").astype(np.int64)
        offsets = rng.integers(0, 180 * 86_400 * 1_000_000, size=n)
        return pa.array(start + offsets, type=pa.int64()).cast(pa.timestamp("us", tz=arrow_type.tz)).cast(arrow_type)
    if pa.types.is_date(arrow_type):
        return pa.array(rng.integers(19_000, 19_500, size=n).astype(np.int32), type=pa.int32()).cast(arrow_type)
    if pa.types.is_floating(arrow_type):
        return pa.array(rng.random(n) * 500.0).cast(arrow_type)
    if pa.types.is_integer(arrow_type):
        return pa.array(rng.integers(0, 100, size=n)).cast(arrow_type)
    if pa.types.is_boolean(arrow_type):
        return pa.array(rng.random(n) < 0.5)
    if pa.types.is_dictionary(arrow_type):
        return pa.array(rng.integers(0, 16, size=n)).cast(pa.string()).dictionary_encode()
    return pa.nulls(n, type=arrow_type)


def prepare_random_parquet(
    template_dir: str, out_dir: str, seed: int
) -> tuple[Callable[[], dict[str, Any]], Callable[[dict[str, Any]], dict[str, Any]]]:
    """Baseline: write random data shaped like every file in template_dir (rows, schema, codec)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    template = Path(template_dir)
    layout = []
    for path in sorted(template.glob("*.parquet")):
        meta = pq.ParquetFile(path).metadata
        codec = meta.row_group(0).column(0).compression.lower() if meta.num_row_groups else "snappy"
        layout.append((path.name, meta.num_rows, meta.schema.to_arrow_schema(), codec))
    if not layout:
        raise FileNotFoundError(f"no landing Parquet in {template}; run the simulate subject first")
    out = Path(out_dir)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    rng = np.random.default_rng(seed)

    def run() -> dict[str, Any]:
        for name, rows, schema, codec in layout:
            columns = [_random_column(f.name, f.type, rows, rng) for f in schema]
            table = pa.Table.from_arrays(columns, schema=schema.remove_metadata())
            pq.write_table(table, out / name, compression=None if codec == "uncompressed" else codec)
        return {}

    def summarise(_: dict[str, Any]) -> dict[str, Any]:
        return count_landing_rows(out)

    return run, summarise


def plan(scale: str, work_dir: Path) -> Plan:
    """Simulate at the scale; the baseline copies the shape of what it wrote."""
    days, per_day = SIZES[scale]
    landing = landing_dir(work_dir)
    return Plan(
        workload=f"{days} days × {per_day:,} orders/day",
        subject=Call(
            "bench.simulate:prepare_simulate",
            {"out_dir": str(landing), "days": days, "orders_per_day": per_day, "seed": SEED},
        ),
        baseline=Call(
            "bench.simulate:prepare_random_parquet",
            {
                "template_dir": str(landing),
                "out_dir": str(work_dir / "random_landing"),
                "seed": SEED,
            },
        ),
    )


def landing_setup(scale: str, work_dir: Path) -> Call:
    """The set-up call other benchmarks use to get this scale's landing files."""
    days, per_day = SIZES[scale]
    return Call(
        "bench.simulate:prepare_landing",
        {
            "out_dir": str(landing_dir(work_dir)),
            "days": days,
            "orders_per_day": per_day,
            "seed": SEED,
        },
    )


BENCHMARK = Benchmark(
    name="simulate",
    what="`core.world.simulate.simulate_to_dir`: the embedded world writing daily landing Parquet "
    "(orders, events, contacts), seed 7",
    baseline_what="the same rows, columns, types, files and compression filled with random "
    "numpy data and written with pyarrow (ratio = cost of the world's logic)",
    plan=plan,
    count="orders",
    unit="orders",
    targets=(
        Target("seconds", "<=", 60.0, "time ≤ 60 s"),
        Target("peak_rss_mb", "<=", 2048.0, "peak RSS ≤ 2 GiB", scales=("small", "full")),
    ),
)
