"""The Spark engine computes the same point-in-time features as DuckDB, from the same SQL files.

Spark runs in local mode (two cores, two shuffle partitions), one session for the module. Each world
is written to a lake of Parquet from its store (`core.engine.lake.export`), then every feature of
every open order at an instant and of every training prefix (with its targets) is compared: the same
rows and columns, integers and categories exactly, floats to 1e-9 relative. The daily on Spark
(scoring on the executors, the load into the store) and the retrain with prefixes from Spark run on
the same simulated world with quick champions (`champion_world`).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core import features
from core.engine import lake
from core.engine.spark import SparkEngine, spark_session
from tests.conftest import SHARED_DATA

pytestmark = pytest.mark.slow

SIM_AS_OF = date(2026, 3, 5)
REAL_LOG_CASES = 1000
# Small data: compiling generated code and re-planning each stage cost more than they save here.
SMALL_DATA_CONF = {
    "spark.sql.codegen.wholeStage": "false",
    "spark.sql.codegen.factoryMode": "NO_CODEGEN",
    "spark.sql.adaptive.enabled": "false",
}


@pytest.fixture(scope="module")
def spark() -> Iterator[object]:
    session = spark_session("local[2]", shuffle_partitions=2, conf=SMALL_DATA_CONF)
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def simulated_world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(store, lake) of a small simulated world: 6 days × 25 orders, ingested as landing files."""
    from core.ingest import landing
    from core.world import simulate

    root = tmp_path_factory.mktemp("sim_world")
    simulate.simulate_to_dir(root / "landing", days=6, orders_per_day=25, start="2026-03-02", progress=False)
    landing.ingest_paths([root / "landing"], store_path=root / "store.duckdb")
    lake.export(root / "store.duckdb", root / "lake")
    return root / "store.duckdb", root / "lake"


@pytest.fixture(scope="module")
def real_log(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(store, lake) of the first 1,000 tickets of the real helpdesk log, imported with import-log."""
    from core.ingest import log_import

    root = tmp_path_factory.mktemp("real_log")
    rows, _ = log_import.read_log_rows(SHARED_DATA / "helpdesk.xes.gz")
    cases = sorted(rows["case:concept:name"].unique())[:REAL_LOG_CASES]
    rows[rows["case:concept:name"].isin(cases)].to_parquet(root / "helpdesk_1000.parquet")
    log_import.import_log(root / "helpdesk_1000.parquet", store_path=root / "store.duckdb")
    lake.export(root / "store.duckdb", root / "lake")
    return root / "store.duckdb", root / "lake"


def assert_same_features(duck: pd.DataFrame, spark: pd.DataFrame) -> None:
    """Same rows, same columns in the same order, integers and categories exactly, floats to 1e-9."""
    assert list(spark.columns) == list(duck.columns)
    assert len(spark) == len(duck) > 0
    key = list(features.KEY_COLUMNS)
    duck = duck.sort_values(key).reset_index(drop=True)
    spark = spark.sort_values(key).reset_index(drop=True)
    for name in duck.columns:
        left, right = duck[name], spark[name]
        assert left.isna().tolist() == right.isna().tolist(), name
        present = left.notna()
        if pd.api.types.is_float_dtype(left) or pd.api.types.is_float_dtype(right):
            assert np.allclose(left[present].astype(float), right[present].astype(float), rtol=1e-9, atol=0.0), name
        else:
            assert left[present].tolist() == right[present].tolist(), name
            assert left.dtype == right.dtype, name


def both(
    store_path: Path, lake_path: Path, spark: object, pin_tables: bool = False, **kwargs: object
) -> tuple[pd.DataFrame, pd.DataFrame]:
    engine = SparkEngine(spark, lake_path, pin_tables=pin_tables)  # type: ignore[arg-type]
    try:
        on_spark = features.build_prefix_features(engine=engine, **kwargs)  # type: ignore[arg-type]
    finally:
        engine.drop_temp_views()
    return features.build_prefix_features(store_path, **kwargs), on_spark  # type: ignore[arg-type]


def test_open_orders_of_a_simulated_world_have_the_same_features_on_spark(simulated_world, spark):
    duck, on_spark = both(*simulated_world, spark, mode="single", as_of=SIM_AS_OF, with_targets=False)
    assert duck.attrs["completion"] == on_spark.attrs["completion"] == "terminal"
    assert duck.attrs["prefixes_total"] == on_spark.attrs["prefixes_total"] == len(duck)
    assert_same_features(duck, on_spark)


def test_training_prefixes_of_a_simulated_world_have_the_same_features_and_targets_on_spark(simulated_world, spark):
    duck, on_spark = both(*simulated_world, spark, mode="events", as_of=SIM_AS_OF)
    assert {"remaining_h", "stuck_label", "wip_stage", "events_last_24h"} <= set(duck.columns)
    assert duck["stuck_label"].notna().any() and duck["remaining_h"].notna().any()
    assert_same_features(duck, on_spark)


def test_snapshot_prefixes_of_a_simulated_world_are_the_same_on_spark(simulated_world, spark):
    duck, on_spark = both(*simulated_world, spark, mode="snapshots", as_of=SIM_AS_OF, every_h=24.0)
    assert duck["as_of_at"].nunique() > 1
    assert_same_features(duck, on_spark)


# The real log's lake has a folder per day (≈1,100): its tables are read once and pinned
# (`pin_tables`), or each of the run's scans costs seconds; the simulated world's are read directly.
def test_open_cases_of_a_real_log_have_the_same_features_on_spark(real_log, spark):
    duck, on_spark = both(*real_log, spark, True, mode="single", as_of=date(2011, 10, 31), with_targets=False)
    assert duck.attrs["completion"] == on_spark.attrs["completion"] == "last_event"
    assert any(c.startswith(features.EVENT_ATTR_PREFIX) for c in duck.columns)
    assert_same_features(duck, on_spark)


def test_training_prefixes_of_a_real_log_have_the_same_features_and_targets_on_spark(real_log, spark):
    duck, on_spark = both(*real_log, spark, True, mode="events")
    assert duck["order_id"].nunique() == REAL_LOG_CASES
    assert any(c.startswith(features.CASE_ATTR_PREFIX) for c in duck.columns)
    assert_same_features(duck, on_spark)


def test_the_lake_holds_the_stores_rows_partitioned_by_event_day(simulated_world):
    import duckdb

    store_path, lake_path = simulated_world
    days = sorted(p.name for p in (lake_path / "events").iterdir())
    with duckdb.connect(str(store_path), read_only=True) as con:
        expected_days = [
            f"event_date={d}"
            for (d,) in con.execute("select distinct event_ts::date from events order by 1").fetchall()
        ]
        events = con.execute("select event_id, order_id, stage, event_ts from events order by event_id").df()
    assert days == expected_days
    in_lake = pd.read_parquet(lake_path / "events", columns=["event_id", "order_id", "stage", "event_ts"])
    in_lake = in_lake.sort_values("event_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(in_lake, events, check_dtype=False)


# --- The transpiler's rewrites, each against DuckDB running the original SQL ------------------------


def duckdb_and_spark(spark: object, sql: str, tables: dict[str, pd.DataFrame], params=None):
    """The rows of one DuckDB-dialect query on DuckDB and on Spark (via core.engine.transpile)."""
    import duckdb

    from core.engine.spark import naive_timestamps
    from core.engine.transpile import to_spark

    con = duckdb.connect()
    for name, frame in tables.items():
        con.register(name, frame)
        spark.createDataFrame(frame).createOrReplaceTempView(name)  # type: ignore[attr-defined]
    expected = con.execute(sql, params).df()
    statements = to_spark(sql, params)
    assert [s.view for s in statements] == [None]
    got = naive_timestamps(spark.sql(statements[0].sql).toArrow()).to_pandas()  # type: ignore[attr-defined]
    return expected, got


ASOF_QUERIES = (
    "select l.k, l.x, r.v from l as l asof left join r as r on l.k = r.k and l.x > r.y order by l.k, l.x",
    "select l.k, l.x, r.v from l as l asof left join r as r on r.k = l.k and l.x >= r.y order by l.k, l.x",
    "select l.k, l.x, r.v from l as l asof inner join r as r on l.k = r.k and r.y < l.x order by l.k, l.x",
    "select l.k, l.x, r.v from l as l asof join r as r on l.k = r.k and l.x >= r.y order by l.k, l.x",
)


def test_an_asof_join_on_spark_picks_the_same_rows_as_duckdb_ties_and_gaps_included(spark):
    left = pd.DataFrame({"k": ["a", "a", "a", "b", "c"], "x": [1, 2, 5, 1, 3]})
    right = pd.DataFrame({"k": ["a", "a", "a", "b"], "y": [0, 2, 4, 2], "v": [10, 20, 40, 70]})
    for sql in ASOF_QUERIES:
        expected, got = duckdb_and_spark(spark, sql, {"l": left, "r": right})
        assert (
            got.astype(object).where(got.notna(), None).values.tolist()
            == expected.astype(object).where(expected.notna(), None).values.tolist()
        ), sql


def test_parameters_reach_spark_as_typed_literals_and_text_stays_text(spark):
    from datetime import datetime

    hostile = "x' or 1=1 -- \\' ; drop view events"
    params = {"s": hostile, "n": 3, "f": 0.1, "t": datetime(2026, 3, 8, 23, 59, 59, 999999), "l": ["a", "b'"]}
    sql = "select $s as s, $n + 1 as n, $f * 3 as f, $t as t, list_contains($l, 'b''') as found, isodow($t) as dow"
    expected, got = duckdb_and_spark(spark, sql, {}, params)
    assert got.to_dict("records") == expected.to_dict("records")
    assert got["s"].tolist() == [hostile] and got["dow"].tolist() == [7]


def test_seconds_between_sub_second_instants_count_boundaries_as_duckdb_does(spark):
    instants = pd.DataFrame(
        {
            "a": pd.to_datetime(["2026-03-01 00:00:00.900", "2026-03-01 00:00:00.100", "2026-03-07 10:00:00.000"]),
            "b": pd.to_datetime(["2026-03-01 00:00:01.100", "2026-03-01 00:00:00.900", "2026-03-01 09:59:59.5"]),
        }
    )
    sql = "select date_diff('second', a, b) / 3600.0 as h, isodow(a) as dow from i order by a"
    expected, got = duckdb_and_spark(spark, sql, {"i": instants})
    assert got["h"].tolist() == expected["h"].tolist()
    assert got["dow"].tolist() == expected["dow"].tolist() == [7, 7, 6]


def test_the_product_imports_neither_pyspark_nor_sqlglot_to_compute_features():
    import subprocess
    import sys

    code = "import sys, core.features, core.jobs.daily; print(sorted({'pyspark', 'sqlglot'} & set(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=Path(__file__).parents[1]
    )
    assert out.stdout.strip() == "[]"


def test_lake_export_from_the_command_line_refuses_to_write_over_a_lake(simulated_world, tmp_path, capsys):
    from core.cli import main

    store_path, _ = simulated_world
    args = ["lake", "export", "--store", str(store_path), "--lake", str(tmp_path / "lake")]
    import json

    import duckdb

    with duckdb.connect(str(store_path), read_only=True) as con:
        row = con.execute("select (select count(*) from events), (select count(*) from orders)").fetchall()[0]
    counts = {"events": row[0], "orders": row[1]}
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out)["rows"] == counts
    assert main(args) != 0
    assert "--replace" in capsys.readouterr().err
    assert main([*args, "--replace"]) == 0


def test_ingest_to_the_lake_writes_the_rows_the_contract_let_into_the_store(tmp_path):
    """Two ingest runs with --to-lake, one with a row the contract quarantines: the lake holds exactly
    the store's events and orders (the quarantined row in neither)."""
    import shutil

    import duckdb

    from core.cli import main
    from core.world import simulate

    simulate.simulate_to_dir(tmp_path / "all", days=4, orders_per_day=10, start="2026-03-02", progress=False)
    first, second = tmp_path / "first", tmp_path / "second"
    for folder in (first, second):
        folder.mkdir()
    for path in sorted((tmp_path / "all").iterdir()):
        shutil.copy(path, first if path.stem.endswith(("03-02", "03-03")) else second)
    bad_file = sorted(second.glob("events_*.parquet"))[-1]
    bad = pd.read_parquet(bad_file)
    bad.loc[bad.index[0], "stage"] = "teleported"
    bad.to_parquet(bad_file, index=False)
    store_path, lake_path = tmp_path / "store.duckdb", tmp_path / "lake"
    assert main(["init", "--store", str(store_path)]) == 0
    for folder in (first, second):
        assert main(["ingest", str(folder), "--store", str(store_path), "--to-lake", str(lake_path)]) == 0

    with duckdb.connect(str(store_path), read_only=True) as con:
        quarantined = con.execute("select count(*) from quarantine where reason like '%teleported%'").fetchall()
        events = con.execute("select * exclude (attrs) from events order by event_id").df()
        orders = con.execute("select * exclude (attrs) from orders order by order_id").df()
    assert quarantined == [(1,)]
    in_lake = pd.read_parquet(lake_path / "events").drop(columns=["attrs", "event_date"])
    in_lake = in_lake.sort_values("event_id").reset_index(drop=True)[list(events.columns)]
    pd.testing.assert_frame_equal(in_lake, events, check_dtype=False)
    lake_orders = pd.read_parquet(lake_path / "orders").drop(columns=["attrs"])
    lake_orders = lake_orders.sort_values("order_id").reset_index(drop=True)[list(orders.columns)]
    pd.testing.assert_frame_equal(lake_orders, orders, check_dtype=False)
    assert "teleported" not in set(in_lake["stage"])


def test_a_capped_training_sample_on_spark_is_as_large_and_drawn_from_the_same_prefixes(simulated_world, spark):
    store_path, lake_path = simulated_world
    full = features.build_prefix_features(store_path, mode="events", as_of=SIM_AS_OF)
    duck, on_spark = both(store_path, lake_path, spark, mode="events", as_of=SIM_AS_OF, max_prefixes=len(full) // 2)
    keys = set(map(tuple, full[list(features.KEY_COLUMNS)].astype(str).to_numpy()))
    for sample in (duck, on_spark):
        assert sample.attrs["prefixes_total"] == len(full)
        assert 0.35 * len(full) < len(sample) < 0.65 * len(full)
        assert set(map(tuple, sample[list(features.KEY_COLUMNS)].astype(str).to_numpy())) <= keys


# --- The daily on Spark: scoring on the executors, the load into the store -------------------------


def copy_store(store_path: Path, target: Path) -> Path:
    """A private copy of a store and its model artifacts."""
    import shutil

    from core import config

    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(store_path, target / store_path.name)
    if config.models_dir(store_path).exists():
        shutil.copytree(config.models_dir(store_path), config.models_dir(target / store_path.name))
    return target / store_path.name


@pytest.fixture(scope="module")
def champion_world(simulated_world, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(store, lake) of the simulated world with quick champions. They are trained on all six days (no
    embargo: the world is too young for one): this world is for parity, not for a backtest."""
    store_path, lake_path = simulated_world
    store_path = copy_store(store_path, tmp_path_factory.mktemp("champion_world"))
    promote_quick_champions(store_path, date(2026, 3, 7), embargo_h=0.0)
    return store_path, lake_path


REAL_LOG_AS_OF = date(2011, 10, 31)


def promote_quick_champions(store_path: Path, as_of: date, embargo_h: float | None) -> None:
    """Train both models on the store up to the end of `as_of` (few rows, few trees) and make them champions."""
    from threadpoolctl import threadpool_limits

    from core.domain import end_of_day
    from core.models import training
    from core.registry import promotion, registration

    with threadpool_limits(1):
        run = training.train_candidates(
            store_path,
            end_of_day(as_of),
            max_rows=2_000,
            embargo_h=embargo_h,
            forecaster_params={"max_iter": 20},
            classifier_params={"max_iter": 20},
        )
    for kind, model in (("forecaster", run.forecaster), ("stuck_classifier", run.classifier)):
        version = registration.register_version(
            kind,
            model,
            training_window=run.train_window,
            feature_columns=run.feature_columns,
            metrics={},
            backtest=None,
            evaluation=None,
            store_path=store_path,
        )
        promotion.promote(
            version.version_id,
            actor="test",
            reason="fixture",
            expected_champion=None,
            store_path=store_path,
            force=True,
        )


@pytest.fixture(scope="module")
def real_log_champion(real_log, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(store, lake) of the helpdesk slice with quick champions trained on the tickets known the day before."""
    store_path, lake_path = real_log
    store_path = copy_store(store_path, tmp_path_factory.mktemp("real_log_champion"))
    promote_quick_champions(store_path, REAL_LOG_AS_OF - timedelta(days=1), embargo_h=None)
    return store_path, lake_path


def read_predictions(store_path: Path) -> pd.DataFrame:
    import duckdb

    with duckdb.connect(str(store_path), read_only=True) as con:
        return con.execute("select * from predictions order by as_of_date, role, order_id").df()


def read_triage_list(store_path: Path) -> pd.DataFrame:
    import duckdb

    with duckdb.connect(str(store_path), read_only=True) as con:
        return con.execute("select * from triage_list order by as_of_date, rank").df()


# The rest of the day the Spark daily writes, per table: the columns compared (stamps of the run's own
# clock aside) and the order the rows are read in.
DAY_TABLES = {
    "eta_shown": ("order_id, shown_from, eta_at, source, version", "order_id, shown_from"),
    "interval_calibration": (
        "as_of_date, forecaster_version, segment, value, forecasts, delivered, scale_p10, scale_p50, scale_p90, "
        "level_p10, level_p90",
        "forecaster_version, segment, value",
    ),
    "drift_results": (
        'as_of, model_version, "column", role, kind, method, score, threshold, drifted, missing_rate_ref, '
        "missing_rate_cur, missing_rate_jumped, new_categories, new_category_share",
        '"column", role',
    ),
    "alert_days": ("as_of, rule, subject, severity, value, threshold", "rule, subject"),
    "daily_summary": (
        "as_of_date, as_of_at, forecaster_version, classifier_version, eta_source, eta_quantile, open_orders, "
        "listed, held_out, drift_share, alerts, retrain_reason",
        "as_of_date",
    ),
}


def read_day_table(store_path: Path, table: str) -> pd.DataFrame:
    import duckdb

    columns, order = DAY_TABLES[table]
    with duckdb.connect(str(store_path), read_only=True) as con:
        return con.execute(f"select {columns} from {table} order by {order}").df()  # noqa: S608 (constants)


def assert_same_day(duck_store: Path, spark_store: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The two stores hold the same day: predictions and triage list (text and instants exactly,
    numbers to 1e-9; the run's own stamps aside) and every table of `DAY_TABLES`. Returns the Spark
    store's predictions and list, and the DuckDB store's list."""
    expected, got = read_predictions(duck_store), read_predictions(spark_store)
    assert list(got.columns) == list(expected.columns)
    assert len(got) == len(expected) > 0
    same = [c for c in expected.columns if c != "scored_at"]
    for name in same:
        if pd.api.types.is_float_dtype(expected[name]):
            assert np.allclose(got[name], expected[name], rtol=1e-9, atol=0.0, equal_nan=True), name
        else:
            assert got[name].tolist() == expected[name].tolist(), name
    expected_list, got_list = read_triage_list(duck_store), read_triage_list(spark_store)
    pd.testing.assert_frame_equal(
        got_list.drop(columns="created_at"), expected_list.drop(columns="created_at"), check_exact=False, rtol=1e-9
    )
    for table in DAY_TABLES:
        expected_rows, got_rows = read_day_table(duck_store, table), read_day_table(spark_store, table)
        assert len(got_rows) == len(expected_rows), table
        pd.testing.assert_frame_equal(got_rows, expected_rows, check_exact=False, rtol=1e-9, obj=table)
    return got, got_list, expected_list


def test_the_spark_daily_writes_the_day_the_duckdb_daily_writes_and_a_second_load_changes_nothing(
    champion_world, spark, tmp_path, capsys, monkeypatch
):
    """The same day on two copies of one store: the DuckDB daily, and `daily --engine spark` (features
    over the lake, the champion scoring three partitions of open orders on the executors, Parquet,
    the rest of the day on the driver). The predictions and the triage list are the same rows: text
    and instants exactly, hours, probabilities and costs to 1e-9; so are the ETAs shown, the interval
    corrections, the drift scores, the day's alerts and its summary; the accuracy figures read the same."""
    import json
    from dataclasses import replace

    from core.cli import main
    from core.jobs import daily, daily_settings

    # The world's few dozen open orders: drift is judged from 10 values a side (100 by default), on
    # both paths, so its scores are compared too.
    small_world = daily_settings.DailySettings()
    small_world = replace(small_world, monitor=replace(small_world.monitor, min_rows=10))
    monkeypatch.setattr(daily, "DailySettings", lambda: small_world)
    store_path, lake_path = champion_world
    duck_store = copy_store(store_path, tmp_path / "duck")
    spark_store = copy_store(store_path, tmp_path / "spark")
    daily.run_daily(SIM_AS_OF, duck_store, retrain=False)
    expected = read_predictions(duck_store)

    outputs = tmp_path / "outputs"
    args = ["daily", "--engine", "spark", "--store", str(spark_store), "--lake", str(lake_path)]
    args += ["--as-of", SIM_AS_OF.isoformat(), "--master", "local[2]", "--outputs", str(outputs), "--json"]
    from core.jobs import daily_spark

    monkeypatch.setattr(daily_spark, "ROWS_PER_PARTITION", 20)  # three partitions, each loading the models
    assert main(args) == 0
    outcome = json.loads(capsys.readouterr().out)

    assert outcome["open_orders"] == outcome["predictions_loaded"] == len(expected) > 20
    assert outcome["roles"] == ["champion"]
    assert len(list((outputs / "predictions" / SIM_AS_OF.isoformat()).glob("part-*.parquet"))) == 3
    assert {"p10_h", "p50_h", "p90_h", "stuck_prob", "model_p50_h"} <= set(
        c for c in expected.columns if pd.api.types.is_float_dtype(expected[c])
    )
    got, got_list, expected_list = assert_same_day(duck_store, spark_store)
    assert outcome["listed"] == len(got_list) > 0 and got_list["held_out"].any()
    assert got_list["reasons"].str.len().gt(2).any()  # the reasons of the champion, not empty lists
    assert len(read_day_table(spark_store, "eta_shown")) > 0
    assert read_day_table(spark_store, "drift_results")["score"].notna().sum() > 10
    assert outcome["engine"] == "spark"

    # The day's accuracy figures (realised and estimated, the CLI's `accuracy --json`) read the same.
    from core.domain import end_of_day
    from core.monitor import accuracy

    figures = [accuracy.accuracy_overview(s, as_of=end_of_day(SIM_AS_OF)) for s in (duck_store, spark_store)]
    assert figures[0]["forecast"]["estimated"]["forecasts"] == len(expected)  # today's open forecasts
    assert json.dumps(figures[1], sort_keys=True, default=str) == json.dumps(figures[0], sort_keys=True, default=str)

    assert main(["lake", "load", "--store", str(spark_store), "--outputs", str(outputs), "--as-of", "2026-03-05"]) == 0
    loaded = json.loads(capsys.readouterr().out)
    assert (loaded["predictions_loaded"], loaded["triage_loaded"]) == (len(expected), len(expected_list))
    pd.testing.assert_frame_equal(read_predictions(spark_store), got)
    pd.testing.assert_frame_equal(read_triage_list(spark_store), got_list)


def test_the_spark_daily_of_a_real_log_writes_the_day_the_duckdb_daily_writes(
    real_log_champion, spark, tmp_path, capsys
):
    """The same on the helpdesk slice (a lake of a thousand day folders, read once with --pin-tables):
    the open tickets' predictions, the list and every table of the day are the same rows."""
    import json

    from core.cli import main
    from core.jobs import daily

    store_path, lake_path = real_log_champion
    duck_store = copy_store(store_path, tmp_path / "duck")
    spark_store = copy_store(store_path, tmp_path / "spark")
    daily.run_daily(REAL_LOG_AS_OF, duck_store, retrain=False)
    args = ["daily", "--engine", "spark", "--store", str(spark_store), "--lake", str(lake_path), "--pin-tables"]
    args += [
        "--as-of",
        REAL_LOG_AS_OF.isoformat(),
        "--master",
        "local[2]",
        "--outputs",
        str(tmp_path / "out"),
        "--json",
    ]
    assert main(args) == 0
    outcome = json.loads(capsys.readouterr().out)

    got, got_list, _ = assert_same_day(duck_store, spark_store)
    assert outcome["open_orders"] == len(got) > 100
    assert len(got_list) > 0
    assert read_day_table(spark_store, "drift_results")["score"].notna().sum() > 10


def test_the_spark_daily_says_what_is_missing_before_spark_starts(simulated_world, champion_world, tmp_path, capsys):
    from datetime import timedelta

    from core import store
    from core.cli import main

    bare_store, lake_path = simulated_world
    store_path, _ = champion_world
    daily_args = ["daily", "--engine", "spark", "--as-of", "2026-03-05"]
    tomorrow = (store.utcnow().date() + timedelta(days=1)).isoformat()
    cases = [
        ([*daily_args, "--store", str(store_path)], "needs --lake PATH"),
        ([*daily_args, "--store", str(store_path), "--lake", str(tmp_path / "none")], "has no events, orders"),
        (["daily", "--engine", "spark", "--as-of", "2026-02-30", "--store", str(store_path)], "is not a date"),
        (
            ["daily", "--engine", "spark", "--as-of", tomorrow, "--store", str(store_path), "--lake", str(lake_path)],
            "is in the future",
        ),
        ([*daily_args, "--store", str(bare_store), "--lake", str(lake_path)], "no champion in"),
        (["daily", "--as-of", "2026-03-05", "--store", str(store_path), "--lake", "x"], "--lake is for --engine spark"),
        (
            [*daily_args, "--store", str(store_path), "--lake", str(lake_path), "--driver-memory", "lots"],
            "--driver-memory 'lots' is not a size",
        ),
        (
            ["daily", "--as-of", "2026-03-05", "--store", str(store_path), "--driver-memory", "4g"],
            "--driver-memory is for --engine spark",
        ),
        (["retrain", "--store", str(store_path), "--driver-memory", "4g"], "--driver-memory is for --engine spark"),
        (
            ["lake", "features", "--lake", str(lake_path), "--out", str(tmp_path / "f"), "--driver-memory", "1x"],
            "--driver-memory '1x' is not a size",
        ),
        (
            ["lake", "load", "--store", str(store_path), "--outputs", str(tmp_path), "--as-of", "2026-03-05"],
            "no predictions of 2026-03-05",
        ),
    ]
    for args, message in cases:
        assert main(args) == 2, args
        assert message in capsys.readouterr().err, args


def test_retrain_on_spark_samples_the_prefixes_on_spark_and_registers_on_the_store(
    champion_world, spark, tmp_path, monkeypatch
):
    """The training prefixes are built and sampled by Spark over the lake; the fits, the gate and the
    registry stay on the store. (No embargo: the six-day world is too young for a week's.)"""
    from datetime import datetime

    from threadpoolctl import threadpool_limits

    from core.jobs import retraining, runs
    from core.models import training
    from core.registry import versions as registry

    store_path, lake_path = champion_world
    store_path = copy_store(store_path, tmp_path)
    monkeypatch.setattr(training, "DEFAULT_EMBARGO_H", 0.0)
    engine = SparkEngine(spark, lake_path)  # type: ignore[arg-type]
    try:
        with threadpool_limits(1):
            outcome = retraining.retrain(
                store_path, as_of=datetime(2026, 3, 8), actor="test", model_params={"max_iter": 20}, engine=engine
            )
    finally:
        engine.drop_temp_views()
    assert {kind: v["version"] for kind, v in outcome["versions"].items()} == {
        "forecaster": "forecaster-v2",
        "stuck_classifier": "stuck_classifier-v2",
    }
    assert outcome["train_window"][1] == "2026-03-08T00:00:00"
    assert registry.get_version("forecaster-v2", store_path).feature_columns
    run = runs.recent_runs("retrain", store_path=store_path).iloc[0]
    assert run["status"] == "succeeded" and '"engine": "spark"' in run["figures"]


def test_retrain_on_spark_needs_a_lake(champion_world, tmp_path, capsys):
    from core.cli import main

    store_path, _ = champion_world
    assert main(["retrain", "--engine", "spark", "--store", str(store_path)]) == 2
    assert "needs --lake PATH" in capsys.readouterr().err
    assert main(["retrain", "--engine", "spark", "--store", str(store_path), "--lake", str(tmp_path)]) == 2
    assert "has no events, orders" in capsys.readouterr().err


def test_a_worker_refuses_model_bytes_that_are_not_the_registered_ones(champion_world):
    """What the executors run, without Spark: the bytes are checked against the registered sha256
    (and the allow-list) before skops reads them."""
    from core.domain import end_of_day
    from core.registry import versions as registry
    from core.registry.artifacts import ArtifactRejectedError
    from core.scoring import batch, partitions

    store_path, _ = champion_world
    versions = ("forecaster-v1", "stuck_classifier-v1")
    artifacts = [registry.version_bytes(v, store_path) for v in versions]
    open_orders = features.build_prefix_features(
        store_path, mode="single", as_of=end_of_day(SIM_AS_OF), with_targets=False
    )
    kwargs = dict(
        role="champion",
        versions=versions,
        corrections=[],
        segments=("carrier", "current_stage", "warehouse"),
        as_of_date=SIM_AS_OF,
        as_of_at=end_of_day(SIM_AS_OF),
        scored_at=end_of_day(SIM_AS_OF),
    )
    rows = pd.concat(
        partitions.score_batches(iter([open_orders[:10], open_orders[10:]]), artifacts=artifacts, **kwargs)
    )
    assert list(rows.columns) == list(partitions.PREDICTION_COLUMNS) and len(rows) == len(open_orders)
    on_driver = batch.score_frame(open_orders, batch.load_serving(SIM_AS_OF, store_path)["champion"])
    assert rows["p50_h"].tolist() == on_driver["p50_h"].tolist()
    assert rows["stuck_prob"].tolist() == on_driver["stuck_prob"].tolist()

    data, sha256 = artifacts[1]
    tampered = [artifacts[0], (data[:-1] + bytes([data[-1] ^ 1]), sha256)]
    with pytest.raises(ArtifactRejectedError, match="failed its checksum"):
        next(partitions.score_batches(iter([open_orders]), artifacts=tampered, **kwargs))


def test_a_load_refuses_a_folder_of_another_days_rows(champion_world, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from core.errors import ConfigError
    from core.jobs import daily_spark
    from core.scoring import partitions

    store_path, _ = champion_world
    before = read_predictions(store_path)
    folder = Path(daily_spark.predictions_path(tmp_path, SIM_AS_OF))
    folder.mkdir(parents=True)
    row = {name: None for name in partitions.PREDICTION_COLUMNS} | {"as_of_date": date(2026, 3, 4), "order_id": "O1"}
    pq.write_table(pa.Table.from_pylist([row]), folder / "part-0.parquet")
    with pytest.raises(ConfigError, match=r"holds predictions of other days \(2026-03-04\); nothing was loaded"):
        daily_spark.load_day_outputs(tmp_path, SIM_AS_OF, store_path)
    pd.testing.assert_frame_equal(read_predictions(store_path), before)


def test_instants_are_rounded_to_microseconds_as_duckdb_rounds_them_on_insert():
    import duckdb

    from core.scoring.partitions import to_microseconds

    instants = pd.Series(
        pd.to_datetime(
            [
                "2026-03-06 08:32:30.000000500",
                "2026-03-06 08:32:30.000001499",
                "2026-03-06 08:32:30.399599875",
                None,
                "1969-12-31 23:59:59.9999995",
            ]
        )
    )
    with duckdb.connect() as con:
        con.register("instants", pd.DataFrame({"instant": instants}))
        expected = [r[0] for r in con.execute("select instant::timestamp from instants").fetchall()]
    got = [None if pd.isna(t) else t.to_pydatetime() for t in to_microseconds(instants)]
    assert got == expected
    assert [t.microsecond for t in expected if t is not None] == [1, 1, 399600, 999999]


def test_the_driver_memory_option_becomes_the_sessions_heap_setting():
    from core.cli import build_parser
    from core.cli.common import spark_conf

    parser = build_parser()
    for command in (["daily", "--as-of", "2026-03-05"], ["retrain"]):
        args = parser.parse_args([*command, "--engine", "spark", "--lake", "x", "--driver-memory", "4g"])
        assert spark_conf(args) == {"spark.driver.memory": "4g"}
        assert spark_conf(parser.parse_args([*command, "--engine", "spark", "--lake", "x"])) == {}
    features = ["lake", "features", "--lake", "x", "--out", "f.parquet"]
    assert spark_conf(parser.parse_args([*features, "--driver-memory", "2g"])) == {"spark.driver.memory": "2g"}
    assert spark_conf(parser.parse_args(features)) == {}
