"""import-log: real event logs (XES, CSV, Parquet) into the store, a case per order."""

from __future__ import annotations

import gzip
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from core import store
from core.cli import main
from core.errors import ConfigError, ContractError
from core.ingest import log_import, xes
from tests.conftest import SHARED_DATA
from tests.test_ingest import store_fingerprint, table_rows

NOW = datetime(2026, 3, 10, 12, 0)

SMALL_XES = """<?xml version="1.0" encoding="UTF-8"?>
<log xes.version="1.0" xmlns="http://www.xes-standard.org/">
  <extension name="Concept" prefix="concept" uri="http://www.xes-standard.org/concept.xesext"/>
  <global scope="trace"><string key="channel" value="unknown"/></global>
  <global scope="event">
    <string key="org:resource" value="nobody"/>
    <date key="time:timestamp" value="1970-01-01T00:00:00.000+00:00"/>
  </global>
  <string key="source" value="test"/>
  <trace>
    <string key="concept:name" value="A"/>
    <string key="channel" value="web"/>
    <float key="amount" value="12.5"/>
    <event>
      <string key="concept:name" value="Submit"/>
      <string key="lifecycle:transition" value="START"/>
      <date key="time:timestamp" value="2024-01-01T10:00:00.000+01:00"/>
    </event>
    <event>
      <string key="concept:name" value="Submit"/>
      <string key="lifecycle:transition" value="complete"/>
      <date key="time:timestamp" value="2024-01-01T10:30:00.000+01:00"/>
      <string key="org:resource" value="ann"/>
      <int key="attempt" value="2"/>
      <boolean key="urgent" value="true"/>
      <list key="nested"><values><string key="x" value="y"/></values></list>
    </event>
  </trace>
  <trace>
    <string key="concept:name" value="B"/>
    <event>
      <string key="concept:name" value="Submit"/>
      <string key="lifecycle:transition" value="Complete"/>
      <date key="time:timestamp" value="2024-01-02T09:00:00Z"/>
    </event>
    <event>
      <string key="concept:name" value="Approve"/>
    </event>
  </trace>
</log>
"""


def write_xes(path: Path, text: str = SMALL_XES) -> Path:
    """An XES file (gzip when the name ends in .gz)."""
    data = text.encode()
    path.write_bytes(gzip.compress(data) if path.name.endswith(".gz") else data)
    return path


def test_xes_reader_flattens_traces_applies_globals_and_types(tmp_path):
    log = xes.read_xes(write_xes(tmp_path / "small.xes"))
    assert (log.traces, len(log.events), log.log_attributes) == (2, 4, {"source": "test"})
    second = log.events.iloc[1].to_dict()
    assert second["case:concept:name"] == "A"
    assert (second["attempt"], second["urgent"], second["case:amount"], second["nested"]) == (2, True, 12.5, None)
    first = log.events.iloc[0].to_dict()
    assert first["org:resource"] == "nobody"  # the event-scope global default
    assert log.events.iloc[2]["case:channel"] == "unknown"  # the trace-scope global default
    # placeholder defaults of identity keys are not invented: a missing timestamp stays missing
    assert pd.isna(log.events.iloc[3]["time:timestamp"])


def test_small_xes_imports_cases_as_orders_in_utc(store_file, tmp_path):
    summary = log_import.import_log(
        write_xes(tmp_path / "small.xes.gz"), store_path=store_file, lifecycle="complete", now=NOW
    )

    assert (summary["cases_loaded"], summary["events_loaded"], summary["rows_quarantined"]) == (2, 2, 1)
    assert summary["rows_after_lifecycle_filter"] == 3  # the START event is dropped; "Complete" matches
    assert table_rows(store_file, "select order_id, placed_at, attrs from orders order by 1") == [
        # trace attributes, then event attributes that keep one value within (nearly) every case
        (
            "A",
            datetime(2024, 1, 1, 9, 30),
            '{"channel":"web","amount":12.5,"org:resource":"ann","attempt":2,"urgent":true}',
        ),
        (
            "B",
            datetime(2024, 1, 2, 9, 0),
            '{"channel":"unknown","amount":null,"org:resource":"nobody","attempt":null,"urgent":null}',
        ),
    ]
    attrs = json.loads(table_rows(store_file, "select attrs from events where order_id = 'A'")[0][0])
    assert attrs == {
        "org:resource": "ann",
        "lifecycle:transition": "complete",
        "attempt": 2,
        "urgent": True,
        "nested": None,
    }
    assert table_rows(store_file, "select source, reason from quarantine") == [
        ("log:small.xes.gz", "missing timestamp")
    ]


def test_helpdesk_log_gives_4580_cases_and_21348_events_twice(store_file):
    summary = log_import.import_log(SHARED_DATA / "helpdesk.xes.gz", store_path=store_file)
    assert (summary["cases_loaded"], summary["events_loaded"], summary["rows_quarantined"]) == (4580, 21348, 0)
    assert {"customer", "product", "seriousness", "workgroup"} <= set(summary["case_attributes"])
    status = store.read_status(store_file)
    # a case is open unless it ends with one of the log's end activities ("Closed")
    assert (status["orders"], status["events"], status["open_orders"]) == (4580, 21348, 23)
    assert (status["first_event_at"], status["last_event_at"]) == ("2010-01-13T08:40:25", "2014-01-03T13:20:58")
    event_attrs = json.loads(
        table_rows(store_file, "select attrs from events where order_id = 'Case 1' order by event_ts limit 1")[0][0]
    )
    assert event_attrs["seriousness"] == "Value 1" and event_attrs["org:resource"] == "Value 1"
    before = store_fingerprint(store_file)

    again = log_import.import_log(SHARED_DATA / "helpdesk.xes.gz", store_path=store_file)

    assert again["status"] == "already loaded"
    assert store_fingerprint(store_file) == before


def test_bpic2020_domestic_declarations_keeps_case_attributes(store_file):
    summary = log_import.import_log(
        SHARED_DATA / "bpic2020_domestic_declarations.xes.gz", store_path=store_file, lifecycle="complete"
    )
    assert (summary["cases_loaded"], summary["events_loaded"]) == (10357, 55628)
    assert {"Amount", "BudgetNumber", "DeclarationNumber", "variant"} <= set(summary["case_attributes"])
    status = store.read_status(store_file)
    assert (status["orders"], status["events"], status["quarantined_rows"], status["open_orders"]) == (
        10357,
        55628,
        0,
        312,
    )
    attrs = json.loads(table_rows(store_file, "select attrs from orders where order_id = 'declaration86791'")[0][0])
    assert (attrs["Amount"], attrs["BudgetNumber"]) == ("26.85120450862128", "budget 86566")
    # 09:49:50 at +01:00 is 08:49:50 UTC
    assert table_rows(store_file, "select placed_at from orders where order_id = 'declaration86791'") == [
        (datetime(2017, 1, 9, 8, 49, 50),)
    ]


def test_the_same_events_in_another_file_are_skipped(store_file, tmp_path):
    first = write_xes(tmp_path / "small.xes")
    log_import.import_log(first, store_path=store_file, now=NOW)
    before = store_fingerprint(store_file)
    # same log, other bytes (gzip): the file is new, its events are not (the START event is left out
    # by the default lifecycle rule both times, the event without a timestamp is quarantined)
    summary = log_import.import_log(write_xes(tmp_path / "copy.xes.gz"), store_path=store_file, now=NOW)
    assert summary["lifecycle_rule"] == "'complete' events kept"
    assert (summary["events_loaded"], summary["cases_loaded"], summary["rows_duplicate"]) == (0, 0, 2)
    after = store_fingerprint(store_file)
    assert [after[t] for t in ("orders", "events")] == [before[t] for t in ("orders", "events")]


def test_csv_log_with_a_column_mapping_keeps_every_other_column(store_file, tmp_path):
    log = tmp_path / "tickets.csv"
    log.write_text(
        "ticket,step,when,agent,priority\n"
        "T1,open,2024-05-01 08:00:00,ann,high\n"
        "T1,close,2024-05-01 17:00:00,bob,high\n"
        "T1,close,2024-05-01 17:00:00,bob,high\n"  # a real repeat: both occurrences are kept
        "T2,open,2024-05-02 08:00:00,ann,low\n"
    )
    summary = log_import.import_log(
        log,
        store_path=store_file,
        case_col="ticket",
        activity_col="step",
        time_col="when",
        tz="Europe/Amsterdam",
        now=NOW,
    )
    assert (summary["cases_loaded"], summary["events_loaded"]) == (2, 4)
    assert summary["case_attributes"] == ["priority"]
    assert table_rows(
        store_file, "select order_id, stage, event_ts, attrs from events order by event_ts, order_id limit 1"
    ) == [("T1", "open", datetime(2024, 5, 1, 6, 0), '{"agent":"ann","priority":"high"}')]
    assert table_rows(store_file, "select count(distinct event_id) from events") == [(4,)]


def test_parquet_log_with_xes_style_columns_and_zoned_times(store_file, tmp_path):
    rows = pd.DataFrame(
        {
            "case:concept:name": [1, 1, 2],
            "concept:name": ["a", "b", "a"],
            "time:timestamp": pd.to_datetime(["2024-01-01T10:00", "2024-01-01T11:00", "2024-01-02T10:00"]).tz_localize(
                "Europe/Berlin"
            ),
            "case:region": ["north", "north", "south"],
            "cost": [1.5, 2.0, None],
        }
    )
    rows.to_parquet(tmp_path / "log.parquet")
    summary = log_import.import_log(tmp_path / "log.parquet", store_path=store_file, now=NOW)
    assert (summary["cases_loaded"], summary["events_loaded"]) == (2, 3)
    assert table_rows(store_file, "select order_id, placed_at, attrs from orders order by 1") == [
        ("1", datetime(2024, 1, 1, 9, 0), '{"region":"north"}'),
        ("2", datetime(2024, 1, 2, 9, 0), '{"region":"south"}'),
    ]


def test_an_earlier_event_of_a_stored_case_moves_its_placed_at(store_file, tmp_path):
    (tmp_path / "late.csv").write_text("case_id,activity,timestamp\nC1,b,2024-01-02T00:00:00Z\n")
    (tmp_path / "early.csv").write_text("case_id,activity,timestamp\nC1,a,2024-01-01T00:00:00Z\n")
    log_import.import_log(tmp_path / "late.csv", store_path=store_file, now=NOW)
    log_import.import_log(tmp_path / "early.csv", store_path=store_file, now=NOW)
    assert table_rows(store_file, "select order_id, placed_at from orders") == [("C1", datetime(2024, 1, 1))]


def test_rows_without_ids_or_with_bad_times_are_quarantined(store_file, tmp_path):
    (tmp_path / "log.csv").write_text(
        "case_id,activity,timestamp\n"
        "C1,a,2024-01-01T00:00:00Z\n"
        ",a,2024-01-01T00:00:00Z\n"
        "C1,,2024-01-01T00:00:00Z\n"
        "C1,b,yesterday\n"
        "C1,c,2030-01-01T00:00:00Z\n"
    )
    summary = log_import.import_log(tmp_path / "log.csv", store_path=store_file, now=NOW)
    assert (summary["events_loaded"], summary["rows_quarantined"]) == (1, 4)
    assert table_rows(store_file, "select row_number, reason from quarantine order by 1") == [
        (2, "missing case id"),
        (3, "missing activity"),
        (4, "unparseable timestamp"),
        (5, "timestamp in the future"),
    ]


def test_a_missing_mapped_column_lists_the_columns_found(store_file, tmp_path):
    (tmp_path / "log.csv").write_text("case,act,ts\nC1,a,2024-01-01T00:00:00Z\n")
    with pytest.raises(
        ContractError,
        match=r"log\.csv: missing column concept:name \(found: case, act, ts\); name the activity column with --activity-col",  # noqa: E501
    ):
        log_import.import_log(tmp_path / "log.csv", store_path=store_file)
    with pytest.raises(
        ContractError, match=r"missing column when \(found: case, act, ts\); name the timestamp column with --time-col"
    ):
        log_import.import_log(tmp_path / "log.csv", store_path=store_file, activity_col="act", time_col="when")


def test_an_unknown_time_zone_is_refused(store_file, tmp_path):
    shutil.copy(write_xes(tmp_path / "small.xes"), tmp_path / "other.xes")
    with pytest.raises(ConfigError, match="unknown time zone 'Mars/Olympus'"):
        log_import.import_log(tmp_path / "other.xes", store_path=store_file, tz="Mars/Olympus")


def test_cli_import_log_prints_a_summary(store_file, tmp_path, capsys):
    assert main(["init", "--store", str(store_file)]) == 0
    capsys.readouterr()
    assert (
        main(
            [
                "import-log",
                str(write_xes(tmp_path / "small.xes")),
                "--store",
                str(store_file),
                "--lifecycle",
                "complete",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert out.startswith(
        f"{tmp_path / 'small.xes'}: 2 events and 2 new cases loaded, 1 rows quarantined, 0 already stored"
    )
    assert out.splitlines()[1] == "lifecycle: 'complete' events kept (as asked)"
    assert main(["status", "--json", "--store", str(store_file)]) == 0
    status = json.loads(capsys.readouterr().out)
    assert (status["orders"], status["events"], status["quarantined_rows"]) == (2, 2, 1)
    assert datetime.fromisoformat(status["last_event_at"]).replace(tzinfo=UTC) == datetime(2024, 1, 2, 9, 0, tzinfo=UTC)
