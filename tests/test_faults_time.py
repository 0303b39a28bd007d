"""Naive and zone-aware timestamps across a DST change (Europe/Amsterdam, 2026: clocks go forward
at 02:00 on 29 March and back at 03:00 on 25 October).

Zoned times keep their instant, so a journey's durations are real hours whatever the wall clock did.
Naive times of an imported log are read in --tz, whether they come as text (CSV) or typed (Parquet
without a zone); a wall-clock time the change skipped or repeated is quarantined, never guessed.
(A naive time in a landing CSV is refused: tests/test_bad_inputs.py; a naive typed Parquet landing
timestamp is UTC by contract: tests/test_ingest.py.)
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest

from core.ingest import landing, log_import
from tests.test_ingest import order_row, table_rows, write_orders, write_text

LATER = datetime(2026, 12, 1)


def test_zoned_events_across_both_changes_keep_their_instants_and_order(store_file, tmp_path):
    write_orders(tmp_path / "orders_1.parquet", [order_row("s"), order_row("f")])
    write_text(
        tmp_path / "events_1.csv",
        "event_id,order_id,stage,event_ts\n"
        # spring: local 01:30 and 03:30 are one hour apart
        "s1,s,placed,2026-03-29T01:30:00+01:00\n"
        "s2,s,payment_confirmed,2026-03-29T03:30:00+02:00\n"
        # autumn: local 02:30 happens twice, an hour apart; both kept, in the right order
        "f1,f,placed,2026-10-25T02:30:00+02:00\n"
        "f2,f,payment_confirmed,2026-10-25T02:30:00+01:00\n",
    )
    summary = landing.ingest_paths([tmp_path], store_path=store_file, now=LATER)
    assert (summary["rows_loaded"]["events"], summary["rows_quarantined"]) == (4, 0)
    assert table_rows(
        store_file,
        "select order_id, stage, event_ts, date_diff('minute', lag(event_ts) over (partition by order_id "
        "order by event_ts), event_ts) from events order by event_ts",
    ) == [
        ("s", "placed", datetime(2026, 3, 29, 0, 30), None),
        ("s", "payment_confirmed", datetime(2026, 3, 29, 1, 30), 60),
        ("f", "placed", datetime(2026, 10, 25, 0, 30), None),
        ("f", "payment_confirmed", datetime(2026, 10, 25, 1, 30), 60),
    ]


LOCAL_TIMES = [
    ("c1", "a", "2026-03-29 01:30:00"),
    ("c1", "b", "2026-03-29 02:30:00"),  # skipped by the spring change: does not exist
    ("c1", "c", "2026-03-29 03:30:00"),
    ("c2", "a", "2026-10-25 01:30:00"),
    ("c2", "b", "2026-10-25 02:30:00"),  # repeated by the autumn change: ambiguous
    ("c2", "c", "2026-10-25 03:30:00"),
]


@pytest.mark.parametrize("form", ["csv text", "parquet typed"])
def test_naive_log_times_are_read_in_the_given_zone_and_dst_gaps_are_quarantined(store_file, tmp_path, form):
    rows = pd.DataFrame(LOCAL_TIMES, columns=["case_id", "activity", "timestamp"])
    if form == "csv text":
        path = tmp_path / "log.csv"
        rows.to_csv(path, index=False)
    else:
        path = tmp_path / "log.parquet"
        rows.assign(timestamp=pd.to_datetime(rows["timestamp"])).to_parquet(path)
        assert str(pd.read_parquet(path)["timestamp"].dtype) == "datetime64[ns]"  # naive, typed
    summary = log_import.import_log(path, store_path=store_file, tz="Europe/Amsterdam", now=LATER)
    assert (summary["events_loaded"], summary["rows_quarantined"]) == (4, 2)
    assert table_rows(store_file, "select order_id, stage, event_ts from events order by event_ts") == [
        ("c1", "a", datetime(2026, 3, 29, 0, 30)),  # +01:00
        ("c1", "c", datetime(2026, 3, 29, 1, 30)),  # +02:00: one real hour later
        ("c2", "a", datetime(2026, 10, 24, 23, 30)),  # +02:00
        ("c2", "c", datetime(2026, 10, 25, 2, 30)),  # +01:00: three real hours later
    ]
    assert table_rows(
        store_file, "select reason, record->>'activity' from quarantine order by 2, record->>'case_id'"
    ) == [
        ("unparseable timestamp", "b"),
        ("unparseable timestamp", "b"),
    ]


def test_naive_log_times_without_a_zone_are_utc(store_file, tmp_path):
    rows = pd.DataFrame(LOCAL_TIMES[:1], columns=["case_id", "activity", "timestamp"])
    rows.assign(timestamp=pd.to_datetime(rows["timestamp"])).to_parquet(tmp_path / "log.parquet")
    log_import.import_log(tmp_path / "log.parquet", store_path=store_file, now=LATER)
    assert table_rows(store_file, "select event_ts from events") == [(datetime(2026, 3, 29, 1, 30),)]
