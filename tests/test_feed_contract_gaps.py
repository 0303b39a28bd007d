"""Contract gaps found probing the feed from outside: control characters, implausibly old and far
future timestamps, and oversized text go to quarantine with a reason; the rest of the file loads
and what was stored before stays as it was."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from core.errors import ConfigError
from core.ingest import landing, log_import
from tests.test_ingest import NOW, order_row, quarantine_reasons, store_fingerprint, table_rows, write_text

HEADER = "event_id,order_id,stage,event_ts\n"
GOOD = "n1,o9,placed,2026-03-02T08:00:00Z\n"


def _load(store_file: Path, path: Path) -> list[str]:
    landing.ingest_paths([path], store_path=store_file, now=NOW)
    return [reason for source, _, reason in quarantine_reasons(store_file) if source == path.name]


def test_control_characters_in_text_values_are_quarantined(store_file, tmp_path):
    path = write_text(
        tmp_path / "events_ctl.csv",
        HEADER + GOOD + "n2,o9\x07,placed,2026-03-02T09:00:00Z\n" + "n3\x1b[31m,o8,placed,2026-03-02T09:00:00Z\n",
    )
    assert _load(store_file, path) == ["control character in a text value"] * 2
    assert table_rows(store_file, "select event_id from events") == [("n1",)]


def test_a_control_character_in_a_stage_is_not_echoed_as_an_unknown_stage(store_file, tmp_path):
    path = write_text(tmp_path / "events_stage.csv", HEADER + "n2,o9,pla\x0bced,2026-03-02T09:00:00Z\n")
    assert _load(store_file, path) == ["control character in a text value"]


def test_control_characters_in_an_order_from_typed_parquet_are_quarantined(store_file, tmp_path):
    # a Parquet file with the contract's types takes DuckDB's direct path: the check is in SQL
    rows = [order_row("o1"), order_row("o2", carrier="DHL\x00")]
    table = pa.Table.from_pylist(rows)
    table = table.set_column(table.schema.get_field_index("items"), "items", table.column("items").cast(pa.int32()))
    pq.write_table(table, tmp_path / "orders_ctl.parquet")
    assert _load(store_file, tmp_path / "orders_ctl.parquet") == ["control character in a text value"]
    assert table_rows(store_file, "select order_id from orders") == [("o1",)]


def test_timestamps_from_1970_are_quarantined_as_implausibly_old(store_file, tmp_path):
    path = write_text(tmp_path / "events_old.csv", HEADER + GOOD + "n2,o9,picked,1970-01-01T00:00:00Z\n")
    assert _load(store_file, path) == ["event_ts implausibly old"]


def test_the_earliest_plausible_date_is_configurable(store_file, tmp_path, monkeypatch):
    monkeypatch.setenv("JOURNEYOPS_EARLIEST_TIMESTAMP", "2026-03-02T08:30:00")
    path = write_text(tmp_path / "events_cfg.csv", HEADER + GOOD + "n2,o9,picked,2026-03-02T09:00:00Z\n")
    assert _load(store_file, path) == ["event_ts implausibly old"]
    monkeypatch.setenv("JOURNEYOPS_EARLIEST_TIMESTAMP", "last year")
    with pytest.raises(ConfigError, match="JOURNEYOPS_EARLIEST_TIMESTAMP='last year' is not an ISO date"):
        _load(store_file, write_text(tmp_path / "events_cfg2.csv", HEADER + GOOD))


@pytest.mark.parametrize("year", ["2300", "2999"])
def test_far_future_years_are_in_the_future_not_unparseable(store_file, tmp_path, year):
    path = write_text(tmp_path / f"events_{year}.csv", HEADER + GOOD + f"n2,o9,picked,{year}-06-01T00:00:00Z\n")
    assert _load(store_file, path) == ["event_ts in the future"]


def test_year_one_is_implausibly_old_not_unparseable(store_file, tmp_path):
    path = write_text(tmp_path / "events_y1.csv", HEADER + GOOD + "n2,o9,picked,0001-01-01T00:00:00Z\n")
    assert _load(store_file, path) == ["event_ts implausibly old"]


def test_text_longer_than_the_cap_is_quarantined_and_the_cap_is_configurable(store_file, tmp_path, monkeypatch):
    long_id = "x" * 1001
    path = write_text(tmp_path / "events_long.csv", HEADER + GOOD + f"{long_id},o9,picked,2026-03-02T09:00:00Z\n")
    assert _load(store_file, path) == ["text value longer than 1000 characters"]
    monkeypatch.setenv("JOURNEYOPS_MAX_TEXT_CHARS", "2")
    path = write_text(tmp_path / "events_cap.csv", HEADER + "n3,o10,placed,2026-03-02T09:00:00Z\n")
    assert _load(store_file, path) == ["text value longer than 2 characters"]


def test_a_five_megabyte_activity_name_in_a_log_is_quarantined(store_file, tmp_path):
    good = write_text(
        tmp_path / "log.csv",
        "case:concept:name,concept:name,time:timestamp\n"
        "c1,Submit,2024-01-01T10:00:00Z\n"
        f"c1,{'A' * 5_000_000},2024-01-01T11:00:00Z\n"
        "c1,Appr\x1bove,2024-01-01T12:00:00Z\n"
        "c1,Close,1970-01-01T00:00:00Z\n",
    )
    before = store_fingerprint(store_file) if store_file.exists() else None
    summary = log_import.import_log(good, store_path=store_file, now=NOW)
    assert before is None and summary["events_loaded"] == 1
    reasons = sorted(reason for _, _, reason in quarantine_reasons(store_file))
    assert reasons == [
        "control character in a text value",
        "text value longer than 1000 characters",
        "timestamp implausibly old",
    ]
    assert table_rows(store_file, "select max(length(stage)) from events") == [(6,)]
