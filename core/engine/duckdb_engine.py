"""The DuckDB engine: today's behaviour, the statements run as they are on a store connection."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from core import store
from core.config import StorePath


class DuckDBEngine:
    """Runs the SQL on one DuckDB connection (temp tables live as long as it does)."""

    name = "duckdb"

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        self.con.execute(sql, dict(params) if params else None)

    def arrow(self, sql: str, params: Mapping[str, Any] | None = None) -> pa.Table:
        return self.con.sql(sql, params=dict(params) if params else None).to_arrow_table()

    def frame(self, sql: str, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
        return self.con.execute(sql, dict(params) if params else None).df()

    def scalar(self, sql: str, params: Mapping[str, Any] | None = None) -> Any:
        rows = self.con.execute(sql, dict(params) if params else None).fetchall()
        return rows[0][0] if rows else None


@contextmanager
def open_store(store_path: StorePath = None) -> Iterator[DuckDBEngine]:
    """The DuckDB engine on a read-only connection to the store."""
    with store.connect(store_path, read_only=True) as con:
        yield DuckDBEngine(con)
