"""Landing-file ingest: the data contract, quarantine, idempotency, arrival order, UTC."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from core import store
from core.cli import main
from core.errors import ContractError
from core.ingest import contract, readers
from core.ingest import landing as ingest
from core.ingest.summary import format_summary

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
NOW = datetime(2026, 3, 10, 12, 0)  # naive UTC, as the store keeps it
TS = pa.timestamp("us", tz="UTC")
EVENTS_SCHEMA = pa.schema(
    [("event_id", pa.string()), ("order_id", pa.string()), ("stage", pa.string()), ("event_ts", TS)]
)
ORDER_COLUMNS = (
    "order_id",
    "placed_at",
    "channel",
    "region",
    "customer_tier",
    "category",
    "order_value",
    "items",
    "payment_method",
    "ship_mode",
    "warehouse",
    "carrier",
    "promised_at",
)
HAPPY = ("placed", "payment_confirmed", "allocated", "picked", "packed", "shipped", "out_for_delivery", "delivered")


def at(hours: float) -> datetime:
    """T0 plus some hours."""
    return T0 + timedelta(hours=hours)


def journey(order_id: str, stages: Sequence[str] = HAPPY, start_h: float = 0.0) -> list[tuple[str, str, str, datetime]]:
    """Events of one order, one stage per hour from start_h, ids '<order>-<n>'."""
    return [(f"{order_id}-{i}", order_id, stage, at(start_h + i)) for i, stage in enumerate(stages)]


def write_events(path: Path, rows: Sequence[tuple[str, str, str, datetime]]) -> Path:
    """An events landing Parquet file with exactly these rows."""
    columns = list(zip(*rows, strict=True)) if rows else [[], [], [], []]
    pq.write_table(
        pa.table([pa.array(c, t.type) for c, t in zip(columns, EVENTS_SCHEMA, strict=True)], schema=EVENTS_SCHEMA), path
    )
    return path


def order_row(order_id: str, placed_h: float = 0.0, **overrides: Any) -> dict[str, Any]:
    """One orders row with plausible defaults."""
    row: dict[str, Any] = {
        "order_id": order_id,
        "placed_at": at(placed_h),
        "channel": "web",
        "region": "north",
        "customer_tier": "standard",
        "category": "books",
        "order_value": 25.5,
        "items": 2,
        "payment_method": "card",
        "ship_mode": "standard",
        "warehouse": "W1",
        "carrier": "C1",
        "promised_at": at(placed_h + 72),
    }
    row.update(overrides)
    return row


def write_orders(path: Path, rows: Sequence[dict[str, Any]]) -> Path:
    """An orders landing Parquet file."""
    schema = pa.schema(
        [
            (
                c,
                TS
                if c.endswith("_at")
                else pa.float64()
                if c == "order_value"
                else pa.int32()
                if c == "items"
                else pa.string(),
            )
            for c in ORDER_COLUMNS
        ]
    )
    pq.write_table(pa.Table.from_pylist(list(rows), schema=schema), path)
    return path


def write_contacts(path: Path, rows: Sequence[tuple[str, str, datetime, str]]) -> Path:
    """A contacts landing Parquet file."""
    columns = list(zip(*rows, strict=True))
    schema = pa.schema(
        [("contact_id", pa.string()), ("order_id", pa.string()), ("contact_at", TS), ("reason", pa.string())]
    )
    pq.write_table(pa.table([pa.array(c, t.type) for c, t in zip(columns, schema, strict=True)], schema=schema), path)
    return path


def write_text(path: Path, text: str) -> Path:
    """A CSV landing file (gzip when the name ends in .gz)."""
    data = text.encode()
    path.write_bytes(gzip.compress(data) if path.name.endswith(".gz") else data)
    return path


def table_rows(store_file: Path, sql: str) -> list[tuple[Any, ...]]:
    """Rows of a query on the store."""
    with store.connect(store_file, read_only=True) as con:
        return con.execute(sql).fetchall()


def quarantine_reasons(store_file: Path) -> list[tuple[str, int, str]]:
    """(source, row_number, reason) of every quarantined row, ordered."""
    return table_rows(store_file, "select source, row_number, reason from quarantine order by source, row_number")


# One literal statement per table (a table name cannot be a bound parameter).
FINGERPRINT_SQL = {
    "orders": "select count(*), coalesce(sum(hash(t)), 0) from (select * from orders) as t",
    "events": "select count(*), coalesce(sum(hash(t)), 0) from (select * from events) as t",
    "contacts": "select count(*), coalesce(sum(hash(t)), 0) from (select * from contacts) as t",
    "quarantine": "select count(*), coalesce(sum(hash(t)), 0) from (select * from quarantine) as t",
    "ingested_files": "select count(*), coalesce(sum(hash(t)), 0) from (select * from ingested_files) as t",
}


def store_fingerprint(store_file: Path) -> dict[str, Any]:
    """Count and an order-free content hash of every table ingest writes: equal means unchanged."""
    with store.connect(store_file, read_only=True) as con:
        return {table: con.execute(sql).fetchone() for table, sql in FINGERPRINT_SQL.items()}


def test_a_landing_folder_loads_orders_events_and_contacts(store_file, tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    write_orders(landing / "orders_2026-03-02.parquet", [order_row("o1"), order_row("o2", 1)])
    write_events(landing / "events_2026-03-02.parquet", journey("o1") + journey("o2", HAPPY[:3], 1))
    write_contacts(landing / "contacts_2026-03-02.parquet", [("c1", "o2", at(30), "where_is_my_order")])
    (landing / "manifest.json").write_text("{}")

    summary = ingest.ingest_paths([landing], store_path=store_file, now=NOW)

    assert summary["rows_loaded"] == {"orders": 2, "events": 11, "contacts": 1}
    assert (summary["files_loaded"], summary["rows_quarantined"], summary["ignored_files"]) == (3, 0, [])
    assert store.read_status(store_file) == {
        "orders": 2,
        "events": 11,
        "open_orders": 1,
        "quarantined_rows": 0,
        "first_event_at": "2026-03-02T08:00:00",
        "last_event_at": "2026-03-02T15:00:00",
    }
    assert table_rows(store_file, "select order_id, order_value, items, promised_at, source from orders order by 1")[
        0
    ] == (
        "o1",
        25.5,
        2,
        datetime(2026, 3, 5, 8, 0),
        "orders_2026-03-02.parquet",
    )
    assert table_rows(store_file, "select kind, rows_loaded from ingested_files order by kind") == [
        ("contacts", 1),
        ("events", 11),
        ("orders", 2),
    ]


def test_zoned_timestamps_are_stored_in_utc(store_file, tmp_path):
    csv_text = (
        "event_id,order_id,stage,event_ts\n"
        "e1,o1,placed,2026-03-02T10:00:00+02:00\n"
        "e2,o1,payment_confirmed,2026-03-02 09:30:00Z\n"
        "e3,o1,allocated,2026-03-02T04:45:00.250-05:00\n"
    )
    write_text(tmp_path / "events_2026-03-02.csv.gz", csv_text)
    ingest.ingest_paths([tmp_path / "events_2026-03-02.csv.gz"], store_path=store_file, now=NOW)
    assert table_rows(store_file, "select event_id, event_ts from events order by 1") == [
        ("e1", datetime(2026, 3, 2, 8, 0)),
        ("e2", datetime(2026, 3, 2, 9, 30)),
        ("e3", datetime(2026, 3, 2, 9, 45, 0, 250000)),
    ]


def test_csv_and_parquet_of_the_same_rows_store_the_same_events(tmp_path):
    rows = journey("o1", HAPPY[:4])
    write_events(tmp_path / "events_a.parquet", rows)
    csv_text = "event_id,order_id,stage,event_ts,note\n" + "".join(
        f"{e},{o},{s},{t.isoformat()},extra columns are ignored\n" for e, o, s, t in rows
    )
    write_text(tmp_path / "events_a.csv", "\ufeff" + csv_text)  # a BOM is fine too
    stores = {}
    for name in ("events_a.parquet", "events_a.csv"):
        stores[name] = tmp_path / f"{name}.duckdb"
        ingest.ingest_paths([tmp_path / name], store_path=stores[name], now=NOW)
    contents = [
        table_rows(s, "select event_id, order_id, stage, event_ts from events order by 1") for s in stores.values()
    ]
    assert contents[0] == contents[1]
    assert len(contents[0]) == 4


def test_the_same_file_again_changes_nothing(store_file, tmp_path):
    write_orders(tmp_path / "orders_1.parquet", [order_row("o1")])
    write_events(tmp_path / "events_1.parquet", journey("o1", HAPPY[:5]))
    ingest.ingest_paths([tmp_path], store_path=store_file, now=NOW)
    before = store_fingerprint(store_file)

    again = ingest.ingest_paths([tmp_path], store_path=store_file, now=NOW)

    assert (again["files_loaded"], again["files_already_loaded"]) == (0, 2)
    assert store_fingerprint(store_file) == before


def test_the_same_events_under_another_name_are_skipped_as_duplicates(store_file, tmp_path):
    write_events(tmp_path / "events_1.parquet", journey("o1", HAPPY[:5]))
    ingest.ingest_paths([tmp_path / "events_1.parquet"], store_path=store_file, now=NOW)
    # same rows plus one new event, in a file with other bytes
    write_events(tmp_path / "events_2.parquet", journey("o1", HAPPY[:6]))

    summary = ingest.ingest_paths([tmp_path / "events_2.parquet"], store_path=store_file, now=NOW)

    assert (summary["rows_loaded"]["events"], summary["rows_duplicate"], summary["rows_quarantined"]) == (1, 5, 0)
    assert table_rows(store_file, "select count(*) from events") == [(6,)]


def test_events_arriving_out_of_order_give_the_same_state_as_in_order(tmp_path):
    day1 = write_events(tmp_path / "events_2026-03-02.parquet", journey("o1", HAPPY[:3]) + journey("o2", HAPPY[:2]))
    day2 = write_events(tmp_path / "events_2026-03-03.parquet", journey("o1", HAPPY)[3:] + journey("o2", HAPPY)[2:5])
    in_order, reversed_order = tmp_path / "in.duckdb", tmp_path / "rev.duckdb"
    for path in (day1, day2):
        ingest.ingest_paths([path], store_path=in_order, now=NOW)
    for path in (day2, day1):
        ingest.ingest_paths([path], store_path=reversed_order, now=NOW)
    query = "select event_id, order_id, stage, event_ts from events order by 1"
    assert table_rows(in_order, query) == table_rows(reversed_order, query)
    assert len(table_rows(in_order, query)) == 13
    assert quarantine_reasons(in_order) == quarantine_reasons(reversed_order) == []


def test_bad_rows_go_to_quarantine_with_their_reason_and_the_rest_loads(store_file, tmp_path):
    rows = journey("o1", ("placed", "picked", "allocated", "packed"))  # allocated after picked: out of order
    rows += journey("o2", ("placed", "delivered", "shipped"), 10)  # shipped after delivered
    rows += [
        ("e-unknown", "o3", "teleported", at(1)),
        ("e-future", "o3", "placed", datetime(2026, 3, 10, 12, 6, tzinfo=UTC)),  # beyond now + 5 min
        ("e-skew", "o4", "placed", datetime(2026, 3, 10, 12, 4, tzinfo=UTC)),  # within the clock skew
        ("e-no-order", None, "placed", at(1)),
        (None, "o5", "placed", at(1)),
    ]
    write_events(tmp_path / "events_1.parquet", rows)

    summary = ingest.ingest_paths([tmp_path / "events_1.parquet"], store_path=store_file, now=NOW)

    assert quarantine_reasons(store_file) == [
        ("events_1.parquet", 3, "stage 'allocated' out of order: a later stage came earlier"),
        ("events_1.parquet", 7, "stage 'shipped' after the order was delivered or cancelled"),
        ("events_1.parquet", 8, "unknown stage 'teleported'"),
        ("events_1.parquet", 9, "event_ts in the future"),
        ("events_1.parquet", 11, "missing order_id"),
        ("events_1.parquet", 12, "missing event_id"),
    ]
    assert (summary["rows_loaded"]["events"], summary["rows_quarantined"]) == (6, 6)
    assert table_rows(store_file, "select rows_loaded, rows_quarantined from ingested_files") == [(6, 6)]
    record = table_rows(store_file, "select record from quarantine where row_number = 8")[0][0]
    assert json.loads(record) == {
        "event_id": "e-unknown",
        "order_id": "o3",
        "stage": "teleported",
        "event_ts": "2026-03-02T09:00:00.000Z",
    }


def test_stage_order_is_judged_against_stored_events(store_file, tmp_path):
    write_events(
        tmp_path / "events_1.parquet",
        [
            ("a1", "a", "placed", at(0)),
            ("a2", "a", "packed", at(5)),
            ("b1", "b", "placed", at(0)),
            ("b2", "b", "delivered", at(9)),
            ("c1", "c", "placed", at(0)),
            ("c2", "c", "picked", at(6)),
        ],
    )
    ingest.ingest_paths([tmp_path / "events_1.parquet"], store_path=store_file, now=NOW)
    write_events(
        tmp_path / "events_2.parquet",
        [
            ("a3", "a", "allocated", at(3)),  # fits between stored placed and packed
            ("a4", "a", "shipped", at(4)),  # before the stored packed: out of order
            ("b3", "b", "out_for_delivery", at(10)),  # after the stored delivered
            ("c3", "c", "cancelled", at(5)),  # terminal, but a stored event comes after it
            ("c4", "c", "address_query", at(7)),  # exceptions have no rank
        ],
    )

    ingest.ingest_paths([tmp_path / "events_2.parquet"], store_path=store_file, now=NOW)

    assert quarantine_reasons(store_file) == [
        ("events_2.parquet", 2, "stage 'shipped' out of order: a stored event comes later"),
        ("events_2.parquet", 3, "stage 'out_for_delivery' after the order was delivered or cancelled"),
        ("events_2.parquet", 4, "stage 'cancelled' out of order: a stored event comes later"),
    ]
    assert table_rows(store_file, "select event_id from events where source = 'events_2.parquet' order by 1") == [
        ("a3",),
        ("c4",),
    ]


def test_equal_timestamps_and_exceptions_are_not_out_of_order(store_file, tmp_path):
    write_events(
        tmp_path / "events_1.parquet",
        [
            ("e1", "o1", "packed", at(2)),
            ("e2", "o1", "picked", at(2)),  # same instant, listed backwards
            ("e3", "o1", "stock_shortage", at(1)),
            ("e0", "o1", "placed", at(0)),
            ("e4", "o1", "carrier_exception", at(3)),
            ("e5", "o1", "shipped", at(4)),
        ],
    )
    summary = ingest.ingest_paths([tmp_path / "events_1.parquet"], store_path=store_file, now=NOW)
    assert (summary["rows_loaded"]["events"], summary["rows_quarantined"]) == (6, 0)


def test_duplicate_ids_within_a_file(store_file, tmp_path):
    write_events(
        tmp_path / "events_1.parquet",
        [
            ("e1", "o1", "placed", at(0)),
            ("e1", "o1", "placed", at(0)),  # same content twice: loads once
            ("e2", "o1", "picked", at(1)),
            ("e2", "o1", "packed", at(1)),  # same id, different content
        ],
    )
    summary = ingest.ingest_paths([tmp_path / "events_1.parquet"], store_path=store_file, now=NOW)
    assert (summary["rows_loaded"]["events"], summary["rows_duplicate"], summary["rows_quarantined"]) == (1, 1, 2)
    assert [r[2] for r in quarantine_reasons(store_file)] == [
        "event_id repeated in the file with different content"
    ] * 2


def test_an_id_stored_with_other_content_is_quarantined(store_file, tmp_path):
    write_events(tmp_path / "events_1.parquet", [("e1", "o1", "placed", at(0))])
    write_events(tmp_path / "events_2.parquet", [("e1", "o1", "placed", at(1)), ("e2", "o1", "picked", at(2))])
    summary = ingest.ingest_paths([tmp_path], store_path=store_file, now=NOW)
    assert summary["rows_loaded"]["events"] == 2
    assert quarantine_reasons(store_file) == [
        ("events_2.parquet", 1, "event_id already in an earlier file with different content")
    ]
    ingest.ingest_paths(
        [write_events(tmp_path / "events_3.parquet", [("e2", "o1", "packed", at(2))])], store_path=store_file, now=NOW
    )
    assert quarantine_reasons(store_file)[-1] == (
        "events_3.parquet",
        1,
        "event_id already stored with different content",
    )


def test_orders_and_contacts_rows_are_checked(store_file, tmp_path):
    write_orders(
        tmp_path / "orders_1.parquet",
        [
            order_row("o1"),
            order_row("o1"),  # identical repeat: loads once
            order_row("o2", placed_at=None),
            order_row(None),
            order_row("o3", placed_at=datetime(2027, 1, 1, tzinfo=UTC)),
        ],
    )
    write_contacts(
        tmp_path / "contacts_1.parquet",
        [
            ("c1", "o1", at(5), "late"),
            ("c2", "o1", datetime(2027, 1, 1, tzinfo=UTC), "late"),
            ("c3", None, at(5), "late"),
        ],
    )
    summary = ingest.ingest_paths([tmp_path], store_path=store_file, now=NOW)
    assert summary["rows_loaded"] == {"orders": 1, "events": 0, "contacts": 1}
    assert quarantine_reasons(store_file) == [
        ("contacts_1.parquet", 2, "contact_at in the future"),
        ("contacts_1.parquet", 3, "missing order_id"),
        ("orders_1.parquet", 3, "missing placed_at"),
        ("orders_1.parquet", 4, "missing order_id"),
        ("orders_1.parquet", 5, "placed_at in the future"),
    ]


def test_a_rejected_file_is_reported_and_the_good_ones_still_load(store_file, tmp_path):
    write_events(tmp_path / "events_1.parquet", journey("o1", HAPPY[:2]))
    write_text(tmp_path / "events_2.csv", "event_id,order_id,stage\ne9,o1,placed\n")

    with pytest.raises(ContractError, match=r"events_2\.csv: missing column event_ts") as raised:
        ingest.ingest_paths([tmp_path], store_path=store_file, now=NOW)
    assert raised.value.summary["files_loaded"] == 1  # type: ignore[attr-defined]
    assert table_rows(store_file, "select count(*) from events") == [(2,)]

    summary = ingest.ingest_paths([tmp_path], store_path=store_file, now=NOW, raise_on_reject=False)
    assert (summary["files_already_loaded"], summary["files_rejected"]) == (1, 1)
    assert summary["rejected"][0]["path"].endswith("events_2.csv")


def test_folders_list_unknown_files_as_ignored(tmp_path):
    (tmp_path / "manifest.json").write_text("{}")
    (tmp_path / "notes.txt").write_text("hello")
    write_events(tmp_path / "events_2.parquet", [])
    write_orders(tmp_path / "orders_9.parquet", [])
    files, ignored = ingest.landing_files([tmp_path])
    assert [p.name for p in files] == ["orders_9.parquet", "events_2.parquet"]
    assert [p.name for p in ignored] == ["notes.txt"]


def test_a_big_file_is_checked_in_batches(store_file, tmp_path, monkeypatch):
    monkeypatch.setattr(ingest, "MAX_BATCH_ROWS", 4)
    write_events(tmp_path / "events_1.parquet", journey("o1", HAPPY[:5]))
    write_events(tmp_path / "events_2.parquet", journey("o1", HAPPY)[5:] + [("x", "o1", "picked", at(9))])
    summary = ingest.ingest_paths([tmp_path], store_path=store_file, now=NOW)
    assert (summary["rows_loaded"]["events"], summary["rows_quarantined"]) == (8, 1)
    assert quarantine_reasons(store_file) == [
        ("events_2.parquet", 4, "stage 'picked' after the order was delivered or cancelled")
    ]


def test_format_summary_reads_as_one_paragraph(store_file, tmp_path):
    write_events(tmp_path / "events_1.parquet", journey("o1", HAPPY[:2]) + [("bad", "o1", "nowhere", at(3))])
    text = format_summary(ingest.ingest_paths([tmp_path], store_path=store_file, now=NOW))
    assert text.startswith(
        "1 files loaded, 0 already loaded, 0 rejected: 0 orders, 2 events, 0 contacts; 1 rows quarantined, 0 duplicates skipped"  # noqa: E501
    )


def test_cli_ingest_and_status(store_file, tmp_path, capsys):
    write_events(tmp_path / "events_1.parquet", journey("o1"))
    assert main(["init", "--store", str(store_file)]) == 0
    capsys.readouterr()
    assert main(["ingest", str(tmp_path), "--store", str(store_file), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["rows_loaded"]["events"] == 8
    assert main(["status", "--json", "--store", str(store_file)]) == 0
    status = json.loads(capsys.readouterr().out)
    assert (status["orders"], status["events"], status["open_orders"], status["quarantined_rows"]) == (0, 8, 0, 0)


def test_files_of_days_after_through_wait_for_a_later_run(store_file, tmp_path):
    write_events(tmp_path / "events_2026-03-02.parquet", journey("o1", HAPPY[:2]))
    write_events(tmp_path / "events_2026-03-03.parquet", journey("o1", HAPPY)[2:4])
    summary = ingest.ingest_paths([tmp_path], store_path=store_file, now=NOW, through=date(2026, 3, 2))
    assert (summary["rows_loaded"]["events"], [Path(p).name for p in summary["not_yet_due_files"]]) == (
        2,
        ["events_2026-03-03.parquet"],
    )
    later = ingest.ingest_paths([tmp_path], store_path=store_file, now=NOW, through=date(2026, 3, 3))
    assert (later["files_already_loaded"], later["rows_loaded"]["events"]) == (1, 2)


def test_parquet_timestamps_without_a_zone_are_taken_as_utc(store_file, tmp_path):
    # the landing contract says Parquet timestamp columns are UTC; a typed naive column is read so
    naive = pa.table(
        {
            "event_id": ["e1"],
            "order_id": ["o1"],
            "stage": ["placed"],
            "event_ts": pa.array([datetime(2026, 3, 2, 8, 0)], pa.timestamp("ns")),
        }
    )
    pq.write_table(naive, tmp_path / "events_1.parquet")
    ingest.ingest_paths([tmp_path / "events_1.parquet"], store_path=store_file, now=NOW)
    assert table_rows(store_file, "select event_ts from events") == [(datetime(2026, 3, 2, 8, 0),)]


def test_parquet_with_the_contract_types_is_read_by_duckdb_and_others_by_arrow(tmp_path):
    # zoned timestamps, text and numbers as the contract types them: DuckDB reads the file directly
    assert (
        contract.direct_parquet_rows(write_events(tmp_path / "events_1.parquet", journey("o1", HAPPY[:3])), "events")
        == 3
    )
    assert contract.direct_parquet_rows(write_orders(tmp_path / "orders_1.parquet", [order_row("o1")]), "orders") == 1
    naive = pa.table(
        {
            "event_id": ["e1"],
            "order_id": ["o1"],
            "stage": ["placed"],
            "event_ts": pa.array([datetime(2026, 3, 2, 8, 0)], pa.timestamp("us")),
        }
    )
    pq.write_table(naive, tmp_path / "events_2.parquet")
    wide_items = pa.Table.from_pylist([order_row("o1")]).cast(
        pa.schema(
            [
                (
                    c,
                    pa.int64()
                    if c == "items"
                    else TS
                    if c.endswith("_at")
                    else pa.float64()
                    if c == "order_value"
                    else pa.string(),
                )
                for c in ORDER_COLUMNS
            ]
        )
    )
    pq.write_table(wide_items, tmp_path / "orders_2.parquet")
    write_text(tmp_path / "events_3.csv", "event_id,order_id,stage,event_ts\ne1,o1,placed,2026-03-02T08:00:00Z\n")
    # naive timestamps, int64 counts (range check) and CSV take the Arrow path
    assert contract.direct_parquet_rows(tmp_path / "events_2.parquet", "events") is None
    assert contract.direct_parquet_rows(tmp_path / "orders_2.parquet", "orders") is None
    assert contract.direct_parquet_rows(tmp_path / "events_3.csv", "events") is None


def test_files_read_by_duckdb_and_by_arrow_in_one_batch_quarantine_their_own_rows(store_file, tmp_path):
    write_events(tmp_path / "events_1.parquet", journey("o1", HAPPY[:3]) + [("e-x", "o2", "teleported", at(1))])
    write_text(
        tmp_path / "events_2.csv",
        "event_id,order_id,stage,event_ts\ne-y,o3,placed,2026-03-02T08:00:00Z\ne-z,o3,flying,2026-03-02T09:00:00Z\n",
    )

    summary = ingest.ingest_paths([tmp_path], store_path=store_file, now=NOW)

    assert (summary["rows_loaded"]["events"], summary["rows_quarantined"]) == (4, 2)
    assert quarantine_reasons(store_file) == [
        ("events_1.parquet", 4, "unknown stage 'teleported'"),
        ("events_2.csv", 2, "unknown stage 'flying'"),
    ]
    records = [json.loads(r) for (r,) in table_rows(store_file, "select record from quarantine order by source")]
    assert records == [
        {"event_id": "e-x", "order_id": "o2", "stage": "teleported", "event_ts": "2026-03-02T09:00:00.000Z"},
        {"event_id": "e-z", "order_id": "o3", "stage": "flying", "event_ts": "2026-03-02T09:00:00Z"},
    ]
    assert table_rows(store_file, "select source, count(*) from events group by source order by source") == [
        ("events_1.parquet", 3),
        ("events_2.csv", 1),
    ]


def test_a_parquet_file_duckdb_cannot_read_is_rejected_through_arrow_and_the_others_load(store_file, tmp_path):
    write_events(tmp_path / "events_1.parquet", journey("o1", HAPPY[:3]))
    broken = write_events(tmp_path / "events_2.parquet", journey("o2", HAPPY[:3]))
    data = bytearray(broken.read_bytes())
    data[4:20] = b"\xff" * 16  # the first page header: the footer (schema) still reads
    broken.write_bytes(bytes(data))
    assert contract.direct_parquet_rows(broken, "events") == 3

    summary = ingest.ingest_paths([tmp_path], store_path=store_file, now=NOW, raise_on_reject=False)

    assert (summary["files_loaded"], summary["files_rejected"]) == (1, 1)
    assert re.match(
        r".*events_2\.parquet: not a readable Parquet file \(.*\); write it with a Parquet writer$",
        summary["rejected"][0]["error"],
    )
    assert table_rows(store_file, "select order_id, count(*) from events group by order_id") == [("o1", 3)]
    assert table_rows(store_file, "select path from ingested_files") == [(str(tmp_path / "events_1.parquet"),)]


def test_one_out_of_order_event_among_many_clean_orders_is_the_only_one_quarantined(store_file, tmp_path, monkeypatch):
    monkeypatch.setattr(ingest, "MAX_BATCH_ROWS", 200)  # one batch per file: the second is judged against stored events
    first = [e for i in range(60) for e in journey(f"o{i:03d}", HAPPY[:4], i / 10)]
    second = [e for i in range(60) for e in journey(f"o{i:03d}", HAPPY, i / 10)[4:]]
    second += [e for i in range(60, 120) for e in journey(f"o{i:03d}", HAPPY, i / 10)]
    second[300] = (second[300][0], second[300][1], "allocated", second[300][3])  # o067: allocated after picked
    write_events(tmp_path / "events_1.parquet", first)
    write_events(tmp_path / "events_2.parquet", second)

    summary = ingest.ingest_paths([tmp_path], store_path=store_file, now=NOW)

    assert second[300][:2] == ("o067-4", "o067")
    assert quarantine_reasons(store_file) == [
        ("events_2.parquet", 301, "stage 'allocated' out of order: a later stage came earlier")
    ]
    assert (summary["rows_loaded"]["events"], summary["rows_quarantined"]) == (120 * 8 - 1, 1)


@pytest.mark.parametrize(
    ("suffix", "expected"),
    [
        # Arrow rows have the smaller budget: the CSV files are two batches, the second judged
        # against the stored first one
        (".csv", [("events_2.csv", 1, "stage 'shipped' out of order: a stored event comes later")]),
        # Parquet read by DuckDB: one batch, where the earlier file's later-in-time row is the odd one
        (".parquet", [("events_1.parquet", 2, "stage 'packed' out of order: a later stage came earlier")]),
    ],
)
def test_rows_typed_by_arrow_are_batched_by_their_own_smaller_budget(
    store_file, tmp_path, monkeypatch, suffix, expected
):
    monkeypatch.setattr(ingest, "MAX_ARROW_BATCH_ROWS", 2)
    first = [("a1", "o1", "placed", at(0)), ("a2", "o1", "packed", at(4))]
    second = [("a3", "o1", "shipped", at(3))]
    for name, rows in (("events_1", first), ("events_2", second)):
        if suffix == ".csv":
            write_text(
                tmp_path / f"{name}.csv",
                "event_id,order_id,stage,event_ts\n" + "".join(f"{e},{o},{s},{t.isoformat()}\n" for e, o, s, t in rows),
            )
        else:
            write_events(tmp_path / f"{name}.parquet", rows)

    ingest.ingest_paths([tmp_path], store_path=store_file, now=NOW)

    assert quarantine_reasons(store_file) == expected


def test_zoned_parquet_of_any_unit_and_zone_read_together_store_utc_instants(store_file, tmp_path):
    # one DuckDB read over files whose timestamp columns differ in unit and zone
    moment = datetime(2026, 3, 2, 8, 0, 30, tzinfo=UTC)
    for i, ts_type in enumerate(
        (
            pa.timestamp("us", tz="UTC"),
            pa.timestamp("ms", tz="Europe/Amsterdam"),
            pa.timestamp("s", tz="America/New_York"),
        )
    ):
        table = pa.table(
            {"event_id": [f"e{i}"], "order_id": [f"o{i}"], "stage": ["placed"], "event_ts": pa.array([moment], ts_type)}
        )
        pq.write_table(table, tmp_path / f"events_{i}.parquet")
        assert contract.direct_parquet_rows(tmp_path / f"events_{i}.parquet", "events") == 1

    ingest.ingest_paths([tmp_path], store_path=store_file, now=NOW)

    assert table_rows(store_file, "select event_id, event_ts from events order by 1") == [
        (f"e{i}", datetime(2026, 3, 2, 8, 0, 30)) for i in range(3)
    ]


def test_narrower_numbers_take_the_arrow_path_so_one_read_never_narrows_another_file(store_file, tmp_path):
    narrow = pa.schema(
        [
            (
                c,
                pa.float32()
                if c == "order_value"
                else pa.int16()
                if c == "items"
                else TS
                if c.endswith("_at")
                else pa.string(),
            )
            for c in ORDER_COLUMNS
        ]
    )
    pq.write_table(
        pa.Table.from_pylist([order_row("o1", order_value=0.5, items=3)], schema=narrow), tmp_path / "orders_1.parquet"
    )
    write_orders(tmp_path / "orders_2.parquet", [order_row("o2", order_value=0.1, items=7)])
    assert contract.direct_parquet_rows(tmp_path / "orders_1.parquet", "orders") is None

    ingest.ingest_paths([tmp_path], store_path=store_file, now=NOW)

    assert table_rows(store_file, "select order_id, order_value, items from orders order by 1") == [
        ("o1", 0.5, 3),
        ("o2", 0.1, 7),
    ]


def test_a_file_duckdb_reads_but_arrow_cannot_quote_is_rejected_and_the_others_load(store_file, tmp_path, monkeypatch):
    write_events(tmp_path / "events_1.parquet", journey("o1", HAPPY[:3]))
    write_events(tmp_path / "events_2.parquet", journey("o2", HAPPY[:2]) + [("x", "o2", "teleported", at(5))])
    real_read = readers.read_parquet

    def arrow_fails_on_the_second(path):
        if Path(path).name == "events_2.parquet":
            raise contract.file_problem(
                Path(path), "not a readable Parquet file (simulated)", "write it with a Parquet writer"
            )
        return real_read(path)

    monkeypatch.setattr(readers, "read_parquet", arrow_fails_on_the_second)

    summary = ingest.ingest_paths([tmp_path], store_path=store_file, now=NOW, raise_on_reject=False)

    assert (summary["files_loaded"], summary["files_rejected"]) == (1, 1)
    assert summary["rejected"][0]["error"].endswith(
        "events_2.parquet: not a readable Parquet file (simulated); write it with a Parquet writer"
    )
    assert table_rows(store_file, "select order_id, count(*) from events group by order_id") == [("o1", 3)]
    assert quarantine_reasons(store_file) == []
