"""Operations figures: job runs per kind, the store's size, the quarantine sample."""

from __future__ import annotations

import json
from datetime import datetime

import pandas as pd

from core import config, store
from core.jobs import runs as jobs
from core.views import operations
from tests.fixtures import ORDER_WORLD_EVENTS, write_events
from tests.test_job_queue import insert_run

START = datetime(2026, 3, 2, 6, 0)


def test_job_summary_by_hand(store_file):
    insert_run(store_file, "d1", "daily", "succeeded", START, 10)
    insert_run(store_file, "d2", "daily", "succeeded", START.replace(day=3), 30)
    insert_run(store_file, "d3", "daily", "failed", START.replace(day=4), 2)
    insert_run(store_file, "r1", "retrain", "abandoned", START, 50)
    insert_run(store_file, "r2", "retrain", "running", START.replace(day=5), None)
    summary = operations.job_summary(store_file).set_index("kind")
    daily, retrain = summary.loc["daily"], summary.loc["retrain"]
    assert [int(daily[c]) for c in ("runs", "succeeded", "failed", "abandoned", "running")] == [3, 2, 1, 0, 0]
    assert (daily["median_duration_s"], daily["max_duration_s"]) == (20.0, 30.0)
    assert (daily["last_status"], daily["last_error"]) == ("failed", "ValueError: boom")
    assert daily["last_failed_at"] == pd.Timestamp(START.replace(day=4))
    assert [int(retrain[c]) for c in ("runs", "abandoned", "running")] == [2, 1, 1]
    assert pd.isna(retrain["median_duration_s"]) and retrain["last_status"] == "running"
    later = operations.job_summary(store_file, since=START.replace(day=4))
    assert later.set_index("kind")["runs"].to_dict() == {"daily": 1, "retrain": 1}


def test_recent_runs_newest_first(store_file):
    insert_run(store_file, "d1", "daily", "succeeded", START, 10)
    insert_run(store_file, "d2", "daily", "succeeded", START.replace(day=3), 30, figures={"orders": 5})
    runs = jobs.recent_runs(store_path=store_file, limit=1)
    assert runs["run_id"].tolist() == ["d2"] and runs["duration_s"].tolist() == [30.0]
    assert json.loads(runs.loc[0, "figures"]) == {"orders": 5}


def test_store_size_counts_the_file_its_log_the_models_and_rows(store_file):
    write_events(store_file, ORDER_WORLD_EVENTS)
    models = config.models_dir(store_file)
    (models / "sub").mkdir(parents=True)
    (models / "sub" / "a.bin").write_bytes(b"x" * 1500)
    (models / "b.bin").write_bytes(b"y" * 500)
    with store.connect(store_file) as con:
        con.execute("checkpoint")
    size = operations.store_size(store_file)
    assert size["store_bytes"] == store_file.stat().st_size > 0
    assert size["wal_bytes"] == 0
    assert size["models_bytes"] == 2000
    rows = size["tables"].set_index("table_name")["estimated_rows"]
    assert (rows["events"], rows["orders"], rows["job_runs"]) == (19, 4, 0)


def test_quarantined_rows_newest_first_and_capped(store_file):
    with store.transaction(store_file) as con:
        for i, (reason, at) in enumerate(
            [
                ("missing order_id", START),
                ("bad timestamp", START.replace(day=3)),
                ("unknown stage", START.replace(day=4)),
            ]
        ):
            con.execute(
                "insert into quarantine values ($src, $row, $rec, $reason, $at)",
                {"src": "events_0302.csv", "row": i + 2, "rec": json.dumps({"n": i}), "reason": reason, "at": at},
            )
    rows = operations.quarantined_rows(store_file, limit=2)
    assert rows["reason"].tolist() == ["unknown stage", "bad timestamp"]
    assert json.loads(rows.loc[0, "record"]) == {"n": 2}
    assert operations.quarantined_rows(store_file, since=START.replace(day=4))["row_number"].tolist() == [4]


def test_format_bytes():
    assert [operations.format_bytes(n) for n in (12, 320_000, 1_500_000, 2.5e9)] == [
        "12 B",
        "320.0 kB",
        "1.5 MB",
        "2.5 GB",
    ]
