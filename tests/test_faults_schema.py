"""Upstream schema changes in an orders feed, arriving after good days are stored: a renamed or
dropped column and a changed type reject the file in one line and change nothing stored; a new value
of an attribute loads (drift reports it: tests/test_drift.py, tests/test_scenarios.py); a feed
switching its time zone stores the same instants, so a re-sent day is recognised as the same rows."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from core.errors import ContractError
from core.ingest import landing
from tests.test_ingest import NOW, ORDER_COLUMNS, order_row, store_fingerprint, table_rows, write_orders, write_text


@pytest.fixture
def stored_day(store_file: Path, tmp_path: Path) -> Path:
    """A store holding yesterday's good feed of two orders."""
    write_orders(tmp_path / "orders_2026-03-02.parquet", [order_row("o1"), order_row("o2", placed_h=1)])
    landing.ingest_paths([tmp_path / "orders_2026-03-02.parquet"], store_path=store_file, now=NOW)
    return store_file


def orders_table(rows: list[dict[str, Any]]) -> pa.Table:
    return pa.Table.from_pylist(rows)


def renamed(folder: Path) -> Path:
    rows = [{("carrier_name" if k == "carrier" else k): v for k, v in order_row("o3").items()}]
    pq.write_table(orders_table(rows), folder / "orders_2026-03-03.parquet")
    return folder / "orders_2026-03-03.parquet"


def dropped(folder: Path) -> Path:
    rows = [{k: v for k, v in order_row("o3").items() if k != "promised_at"}]
    pq.write_table(orders_table(rows), folder / "orders_2026-03-03.parquet")
    return folder / "orders_2026-03-03.parquet"


def retyped(folder: Path) -> Path:
    row = order_row("o3")
    line = ",".join(str(row[c]).replace("+00:00", "Z") if c != "order_value" else '"25,50"' for c in ORDER_COLUMNS)
    return write_text(folder / "orders_2026-03-03.csv", ",".join(ORDER_COLUMNS) + "\n" + line + "\n")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            renamed,
            r"orders_2026-03-03\.parquet: missing column carrier \(found: order_id, .*, carrier_name, promised_at\); "
            r"write every column of the orders contract",
        ),
        (
            dropped,
            r"orders_2026-03-03\.parquet: missing column promised_at \(found: order_id, .*, carrier\); write every",
        ),
        (
            retyped,
            r"orders_2026-03-03\.csv: column order_value has text where a number is expected \(row 1: '25,50'\); "
            r"write plain numbers only",
        ),
    ],
    ids=["renamed column", "dropped column", "type change"],
)
def test_a_changed_schema_rejects_the_file_and_keeps_what_is_stored(stored_day, tmp_path, change, message):
    before = store_fingerprint(stored_day)
    folder = tmp_path / "today"
    folder.mkdir()
    path = change(folder)
    with pytest.raises(ContractError, match=message):
        landing.ingest_paths([path], store_path=stored_day, now=NOW)
    assert store_fingerprint(stored_day) == before
    # once upstream is fixed, the corrected day loads
    path.unlink()
    write_orders(folder / "orders_2026-03-03.parquet", [order_row("o3")])
    assert landing.ingest_paths([folder], store_path=stored_day, now=NOW)["rows_loaded"]["orders"] == 1


def test_a_new_attribute_value_loads(stored_day, tmp_path):
    write_orders(tmp_path / "orders_2026-03-03.parquet", [order_row("o3", channel="marketplace", carrier="C9")])
    summary = landing.ingest_paths([tmp_path / "orders_2026-03-03.parquet"], store_path=stored_day, now=NOW)
    assert (summary["rows_loaded"]["orders"], summary["rows_quarantined"]) == (1, 0)
    assert table_rows(stored_day, "select channel, carrier from orders where order_id = 'o3'") == [
        ("marketplace", "C9")
    ]


def test_a_feed_that_switches_time_zone_stores_the_same_instants(stored_day, tmp_path):
    before = store_fingerprint(stored_day)
    # yesterday's day re-sent in local time (+02:00) as text: the same rows, recognised as such
    lines = [",".join(ORDER_COLUMNS)]
    for order_id, placed_h in (("o1", 0), ("o2", 1)):
        row = order_row(order_id, placed_h=placed_h)
        local = {
            c: (v + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S+02:00") for c, v in row.items() if c.endswith("_at")
        }
        lines.append(",".join(str(local.get(c, row[c])) for c in ORDER_COLUMNS))
    write_text(tmp_path / "orders_2026-03-02_local.csv", "\n".join(lines) + "\n")
    summary = landing.ingest_paths([tmp_path / "orders_2026-03-02_local.csv"], store_path=stored_day, now=NOW)
    assert (summary["rows_loaded"]["orders"], summary["rows_duplicate"], summary["rows_quarantined"]) == (0, 2, 0)
    assert store_fingerprint(stored_day)["orders"] == before["orders"]
