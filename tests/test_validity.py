from __future__ import annotations

import json
from datetime import date, datetime

import pandas as pd
import pytest

from core import store
from core.monitor import validity

DAY1 = datetime(2026, 3, 2, 6, 0)
DAY2 = datetime(2026, 3, 3, 6, 0)


def quarantined_rows() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "source": ["events_a.csv"] * 5,
            "row_number": [3, 7, 9, 12, 15],
            "record": [json.dumps({"stage": "teleported"})] * 3 + ['{"event_ts": "soon"}', "not json"],
            "reason": ["unknown stage 'teleported'"] * 3 + ["unparseable event_ts", "unparseable event_ts"],
        }
    )


def test_summary_counts_reasons_with_examples():
    summary = validity.summarise_validity(quarantined_rows(), rows_total=100, max_examples=2)
    assert {k: summary[k] for k in ("rows_total", "rows_valid", "rows_quarantined", "quarantined_share")} == {
        "rows_total": 100,
        "rows_valid": 95,
        "rows_quarantined": 5,
        "quarantined_share": 0.05,
    }
    assert [(r["reason"], r["rows_quarantined"], r["share"]) for r in summary["reasons"]] == [
        ("unknown stage 'teleported'", 3, 0.03),
        ("unparseable event_ts", 2, 0.02),
    ]
    assert summary["reasons"][0]["examples"] == [
        {"source": "events_a.csv", "row_number": 3, "record": {"stage": "teleported"}},
        {"source": "events_a.csv", "row_number": 7, "record": {"stage": "teleported"}},
    ]
    # a record that is not JSON is shown as it arrived
    assert summary["reasons"][1]["examples"][1]["record"] == "not json"


def test_summary_of_a_clean_or_empty_batch():
    empty = pd.DataFrame(columns=["reason"])
    assert validity.summarise_validity(empty, 40) == {
        "rows_total": 40,
        "rows_valid": 40,
        "rows_quarantined": 0,
        "quarantined_share": 0.0,
        "reasons": [],
    }
    assert validity.summarise_validity(empty, 0)["quarantined_share"] == 0.0
    # the total never falls below what was quarantined (a file of nothing but bad rows)
    assert validity.summarise_validity(quarantined_rows(), 0)["quarantined_share"] == 1.0


def _seed_store(path) -> None:
    with store.transaction(path) as con:
        for name, loaded, bad, at in [("events_a.csv", 95, 5, DAY1), ("events_b.csv", 50, 0, DAY2)]:
            con.execute(
                "insert into ingested_files values ($sha, $path, 'events', $loaded, $bad, $at)",
                {"sha": name, "path": f"/landing/{name}", "loaded": loaded, "bad": bad, "at": at},
            )
        for row in quarantined_rows().itertuples():
            con.execute(
                "insert into quarantine values ($source, $row_number, $record::json, $reason, $at)",
                {
                    "source": row.source,
                    "row_number": row.row_number,
                    "record": row.record if row.record != "not json" else '"not json"',
                    "reason": row.reason,
                    "at": DAY1,
                },
            )


def test_batch_by_files_or_by_window(store_file):
    _seed_store(store_file)
    by_files = validity.read_batch_validity(store_file, sources=["/elsewhere/events_a.csv"])
    assert (by_files["files"], by_files["rows_total"], by_files["rows_quarantined"]) == (1, 100, 5)
    assert by_files["reasons"][0]["reason"] == "unknown stage 'teleported'"
    by_window = validity.read_batch_validity(store_file, since=DAY2)
    assert (by_window["files"], by_window["rows_total"], by_window["rows_quarantined"]) == (1, 50, 0)
    everything = validity.read_batch_validity(store_file)
    assert (everything["files"], everything["rows_total"], everything["quarantined_share"]) == (2, 150, 5 / 150)


def test_store_and_read_validity_replaces_the_day(store_file):
    summary = validity.summarise_validity(quarantined_rows(), rows_total=100)
    validity.store_validity(summary, date(2026, 3, 2), store_file)
    validity.store_validity(summary, date(2026, 3, 2), store_file)
    validity.store_validity(
        validity.summarise_validity(pd.DataFrame(columns=["reason"]), 80), date(2026, 3, 3), store_file
    )
    stored = validity.read_validity(None, store_file)
    assert stored[["as_of", "reason", "rows_quarantined"]].astype(str).values.tolist() == [
        ["2026-03-02", "unknown stage 'teleported'", "3"],
        ["2026-03-02", "unparseable event_ts", "2"],
        ["2026-03-03", "None", "<NA>"],
    ]
    assert json.loads(stored.loc[0, "examples"])[0]["row_number"] == 3
    assert validity.read_validity(date(2026, 3, 3), store_file)["quarantined_share"].tolist() == [0.0]


def test_reading_a_missing_store_says_what_to_do(tmp_path):
    from core.errors import StoreMissingError

    with pytest.raises(StoreMissingError, match="no store at"):
        validity.read_batch_validity(tmp_path / "absent.duckdb")
