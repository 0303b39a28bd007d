"""Engines that run the named SQL of core/sql over the same tables: DuckDB (the store, default) or
Apache Spark (a lake of Parquet; PySpark is imported only inside core/engine/spark*.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import pandas as pd
import pyarrow as pa


class Engine(Protocol):
    """Runs DuckDB-dialect SQL (the files in core/sql) with bound parameters."""

    name: str

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        """Run statements for their effect (temp tables, deletes from them)."""

    def arrow(self, sql: str, params: Mapping[str, Any] | None = None) -> pa.Table:
        """The rows of one query as Arrow."""

    def frame(self, sql: str, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
        """The rows of one query as pandas."""

    def scalar(self, sql: str, params: Mapping[str, Any] | None = None) -> Any:
        """The first value of the first row of one query (None when there is no row)."""
