"""Benchmark `ingest`: landing Parquet into the store with every contract check.

Subject: `core.ingest.landing.ingest_paths` on the landing folder written by the simulate case (or
simulated here if that case did not run). Baseline: a bare DuckDB `insert ... select ... from
read_parquet(...)` of the same files into a fresh file with the same table definitions — no
checks, no quarantine, no bookkeeping — the floor any ingest on DuckDB can reach. The bench
opens DuckDB directly only for this baseline; everything else goes through `core.store`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import simulate
from bench.harness import Benchmark, Call, Plan, Target

KINDS = ("orders", "events", "contacts")


def _remove_store(path: Path) -> None:
    for stale in (path, path.with_name(path.name + ".wal")):
        stale.unlink(missing_ok=True)


def prepare_ingest(landing_dir: str, store_path: str) -> tuple[Callable[[], Any], Callable[[Any], dict[str, Any]]]:
    """Time `core.ingest.landing.ingest_paths([landing], store_path=...)` into a fresh store."""
    from core.ingest.landing import ingest_paths

    landing = Path(landing_dir)
    store = Path(store_path)
    _remove_store(store)

    def run() -> Any:
        return ingest_paths([landing], store_path=store)

    def summarise(summary: Any) -> dict[str, Any]:
        from core import store as core_store

        with core_store.connect(store, read_only=True) as con:
            loaded = {kind: _count(con, kind) for kind in KINDS}
            loaded["quarantined"] = _count(con, "quarantine")
        counts = simulate.count_landing_rows(landing)
        return {
            **{kind: counts[kind] for kind in KINDS},
            "files": counts["files"],
            "loaded": loaded,
            # The per-file list is long at full scale; the totals say enough.
            "summary": json.loads(json.dumps({k: v for k, v in summary.items() if k != "files"}, default=str)),
        }

    return run, summarise


# One literal statement per table: the table name cannot be a bound parameter, and the bench
# formats no SQL either. `by name` maps the landing columns onto the table's.
_COUNT_SQL = {
    "orders": "select count(*) from orders",
    "events": "select count(*) from events",
    "contacts": "select count(*) from contacts",
    "quarantine": "select count(*) from quarantine",
}
_INSERT_SQL = {
    "orders": "insert into orders by name select * from landing_orders",
    "events": "insert into events by name select * from landing_events",
    "contacts": "insert into contacts by name select * from landing_contacts",
}


def _count(con: Any, table: str) -> int:
    row = con.execute(_COUNT_SQL[table]).fetchone()
    return int(row[0]) if row else 0


def prepare_bare_duckdb(
    landing_dir: str, store_path: str
) -> tuple[Callable[[], dict[str, Any]], Callable[[dict[str, Any]], dict[str, Any]]]:
    """Baseline: connect, create the schema, insert every landing file with read_parquet, close."""
    import duckdb

    from core import store as core_store

    landing = Path(landing_dir)
    store = Path(store_path)
    _remove_store(store)
    files = {kind: sorted(str(p) for p in landing.glob(f"{kind}_*.parquet")) for kind in KINDS}
    schema_sql = [core_store.load_sql(name.removesuffix(".sql")) for _, name in core_store.migrations()]

    def run() -> dict[str, Any]:
        con = duckdb.connect(str(store))
        try:
            # Landing times are UTC instants; the store keeps naive UTC, as ingest does.
            con.execute("set timezone = 'UTC'")
            for sql in schema_sql:
                con.execute(sql)
            for kind in KINDS:
                if not files[kind]:
                    continue
                table_columns = {row[0] for row in con.execute(_describe_sql(kind)).fetchall()}
                source = con.read_parquet(files[kind], union_by_name=True, filename=True)
                # Only columns the table has; source and loaded_at are filled as ingest does.
                keep = [duckdb.ColumnExpression(c) for c in source.columns if c in table_columns and c != "filename"]
                extra = []
                if "source" not in source.columns:
                    # ingest records the file's name (not its path) as the source
                    name = duckdb.FunctionExpression("parse_filename", duckdb.ColumnExpression("filename"))
                    extra.append(name.alias("source"))
                if "loaded_at" not in source.columns:
                    extra.append(duckdb.ConstantExpression(core_store.utcnow()).alias("loaded_at"))
                source.select(*keep, *extra).create_view(f"landing_{kind}")
                con.execute(_INSERT_SQL[kind])
        finally:
            con.close()
        return {}

    def summarise(_: dict[str, Any]) -> dict[str, Any]:
        con = duckdb.connect(str(store), read_only=True)
        try:
            return {kind: _count(con, kind) for kind in KINDS}
        finally:
            con.close()

    return run, summarise


_DESCRIBE_SQL = {
    "orders": "select column_name from (describe orders)",
    "events": "select column_name from (describe events)",
    "contacts": "select column_name from (describe contacts)",
}


def _describe_sql(kind: str) -> str:
    return _DESCRIBE_SQL[kind]


def plan(scale: str, work_dir: Path) -> Plan:
    """Ingest this scale's landing files; the baseline inserts the same files bare."""
    days, per_day = simulate.SIZES[scale]
    landing = simulate.landing_dir(work_dir)
    return Plan(
        workload=f"landing of {days} days × {per_day:,} orders/day",
        setup=(simulate.landing_setup(scale, work_dir),),
        subject=Call(
            "bench.ingest:prepare_ingest",
            {"landing_dir": str(landing), "store_path": str(work_dir / "ingest.duckdb")},
        ),
        baseline=Call(
            "bench.ingest:prepare_bare_duckdb",
            {"landing_dir": str(landing), "store_path": str(work_dir / "bare.duckdb")},
        ),
    )


BENCHMARK = Benchmark(
    name="ingest",
    what="`core.ingest.landing.ingest_paths` of the landing folder into a fresh store, every contract "
    "check on (figure: events/s)",
    baseline_what="bare DuckDB `insert into <table> select ... from read_parquet(...)` of the same "
    "files into a fresh file with the same tables, same run",
    plan=plan,
    count="events",
    unit="events",
    targets=(
        Target("rate", ">=", 1_000_000.0, "≥ 1M events/s"),
        Target("ratio", "<=", 3.0, "≤ 3× bare DuckDB"),
        Target("peak_rss_mb", "<=", 2048.0, "peak RSS ≤ 2 GiB", scales=("small", "full")),
    ),
)
