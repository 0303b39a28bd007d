"""The Spark engine: the same named SQL, transpiled by sqlglot, over a lake of Parquet.

PySpark is imported here only, and lazily: the product runs without it. Timestamps are naive UTC in
the store; the session runs in UTC and reads Parquet timestamps as such, so hours and days agree.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa

from core.engine import lake
from core.engine.transpile import to_spark
from core.errors import ConfigError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

DEFAULT_MASTER = "local[*]"
# Few partitions: the shuffles of one day's features are small; raise it on a cluster.
DEFAULT_SHUFFLE_PARTITIONS = 4


def spark_session(
    master: str = DEFAULT_MASTER,
    shuffle_partitions: int = DEFAULT_SHUFFLE_PARTITIONS,
    conf: Mapping[str, str] | None = None,
) -> SparkSession:
    """A Spark session in UTC that reads Parquet timestamps as instants (as DuckDB's naive UTC);
    ``conf`` adds or overrides settings (a cluster's, or the tests' small-data ones)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as error:  # pragma: no cover - the message is the point
        raise ConfigError("the Spark engine needs PySpark and Java: pip install -r requirements-spark.txt") from error
    # The Python workers (scoring) run this interpreter, with its packages and the scikit-learn the
    # models were written with, not whatever `python3` is first on the PATH (PySpark reads only the
    # environment for it); a cluster's own setting wins.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = (
        SparkSession.builder.master(master)
        .appName("journeyops")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
        .config("spark.sql.parquet.inferTimestampNTZ.enabled", "false")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.ansi.enabled", "false")
        # Parquet written as UTC instants in microseconds (not Spark's legacy INT96), as the store's.
        .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.extraJavaOptions", "-Duser.timezone=UTC")
        .config("spark.executor.extraJavaOptions", "-Duser.timezone=UTC")
    )
    for key, value in (conf or {}).items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


@contextmanager
def command_session(master: str = DEFAULT_MASTER, conf: Mapping[str, str] | None = None) -> Iterator[SparkSession]:
    """The session of one command (`conf`: its settings, e.g. the driver's heap): started for it and
    stopped at its end, unless a session was already running in this process (its owner stops it,
    and its settings stand)."""
    from pyspark.sql import SparkSession

    running = SparkSession.getActiveSession()
    session = spark_session(master, conf=conf)
    try:
        yield session
    finally:
        if running is None:
            session.stop()


def naive_timestamps(table: pa.Table) -> pa.Table:
    """Spark's UTC instants as the store's naive UTC timestamps (microseconds)."""
    for i, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type) and field.type.tz is not None:
            utc = table.column(i).cast(pa.timestamp("us", tz="UTC"))
            table = table.set_column(i, field.name, utc.cast(pa.timestamp("us")))
    return table


def to_spark_frame(session: SparkSession, frame: pd.DataFrame, partitions: int) -> DataFrame:
    """A pandas frame on the executors in `partitions` parts (through Arrow; a column that is all
    null is typed as text, which Spark can hold)."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    for i, field in enumerate(table.schema):
        if pa.types.is_null(field.type):
            table = table.set_column(i, field.name, table.column(i).cast(pa.string()))
    return session.createDataFrame(table).repartition(max(1, partitions))


def broadcast(session: SparkSession, value: bytes) -> Any:
    """Bytes sent once to every executor (read there through `.value`)."""
    return session.sparkContext.broadcast(value)


def map_batches(
    frame: DataFrame, function: Callable[[Iterator[pd.DataFrame]], Iterator[pd.DataFrame]], schema: str
) -> DataFrame:
    """`function` over each partition's batches of rows as pandas (``mapInPandas``), with the rows'
    schema as DDL."""
    return frame.mapInPandas(function, schema=schema)


def write_parquet(frames: list[DataFrame], path: str) -> None:
    """The rows of `frames` (one schema) as the Parquet files of one folder, replacing what it held."""
    combined = frames[0]
    for other in frames[1:]:
        combined = combined.unionByName(other)
    combined.write.mode("overwrite").parquet(path)


class SparkEngine:
    """Runs the DuckDB-dialect SQL on Spark: temp tables become materialised temp views."""

    name = "spark"

    def __init__(self, session: SparkSession, lake_path: str | Path, *, pin_tables: bool = False) -> None:
        """``pin_tables`` reads the lake's tables once and keeps them on the executors (memory, then
        disk) for the run: a feature run scans the history four to six times, and a lake of many small
        day folders costs seconds per scan."""
        self.session = session
        self.lake_path = str(lake_path)
        self._views: list[str] = []
        for table in lake.TABLES:
            frame = session.read.parquet(lake.table_path(self.lake_path, table))
            frame = frame.drop(*[c for c in frame.columns if c == lake.PARTITION_COLUMN])
            if pin_tables:
                frame = frame.localCheckpoint(eager=True)
            frame.createOrReplaceTempView(table)

    def _run(self, sql: str, params: Mapping[str, Any] | None) -> DataFrame | None:
        result = None
        for statement in to_spark(sql, params):
            frame = self.session.sql(statement.sql)
            if statement.view is None:
                result = frame
                continue
            # Materialised (and its lineage cut), so a view replaced by a query of itself works and
            # the later statements that read it many times do not recompute it.
            frame.localCheckpoint(eager=True).createOrReplaceTempView(statement.view)
            self._views.append(statement.view)
        return result

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        self._run(sql, params)

    def _query(self, sql: str, params: Mapping[str, Any] | None) -> DataFrame:
        frame = self._run(sql, params)
        if frame is None:
            raise ConfigError("the SQL returned no rows to read (it only created tables)")
        return frame

    def arrow(self, sql: str, params: Mapping[str, Any] | None = None) -> pa.Table:
        return naive_timestamps(self._query(sql, params).toArrow())

    def frame(self, sql: str, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
        return self.arrow(sql, params).to_pandas()

    def scalar(self, sql: str, params: Mapping[str, Any] | None = None) -> Any:
        table = naive_timestamps(self._query(sql, params).limit(1).toArrow())
        return table.column(0)[0].as_py() if table.num_rows else None

    def drop_temp_views(self) -> None:
        """Forget the temp views of a run (the lake tables stay)."""
        for view in set(self._views):
            self.session.catalog.dropTempView(view)
        self._views.clear()
