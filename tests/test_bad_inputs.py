"""A corpus of bad inputs: each gets a clear message (an error or a quarantine reason) and leaves
what was already stored unchanged."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from core import store
from core.errors import ContractError
from core.ingest import landing, log_import
from tests.conftest import REPO_ROOT
from tests.test_ingest import (
    HAPPY,
    NOW,
    at,
    journey,
    order_row,
    quarantine_reasons,
    store_fingerprint,
    write_events,
    write_orders,
    write_text,
)

HEADER = "event_id,order_id,stage,event_ts\n"
GOOD_LINE = "n1,o9,placed,2026-03-02T08:00:00Z\n"
TRACE = '<trace><string key="concept:name" value="c1"/><event><string key="concept:name" value="a"/><date key="time:timestamp" value="2024-01-01T00:00:00Z"/></event></trace>'  # noqa: E501


@dataclass(frozen=True)
class BadInput:
    """A bad input: how to write it, how to load it, and what must come out."""

    name: str
    write: Callable[[Path], Path]
    error: str | None = None  # regex of the ContractError message; None: the file loads
    quarantined: tuple[str, ...] = ()  # reasons of the rows that go to quarantine
    log: bool = False  # import-log instead of ingest


def _bytes(name: str, data: bytes) -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        (folder / name).write_bytes(data)
        return folder / name

    return write


def _text(name: str, text: str) -> Callable[[Path], Path]:
    return lambda folder: write_text(folder / name, text)


def _events(name: str, rows: list[tuple[str | None, str | None, str, object]]) -> Callable[[Path], Path]:
    return lambda folder: write_events(folder / name, rows)  # type: ignore[arg-type]


def _parquet(name: str, table: pa.Table) -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        pq.write_table(table, folder / name)
        return folder / name

    return write


def _truncated_gzip(name: str, text: str) -> Callable[[Path], Path]:
    data = gzip.compress(text.encode())
    return _bytes(name, data[: len(data) // 2])


def _many_lines(n: int) -> str:
    return HEADER + "".join(f"t{i},o{i},placed,2026-03-02T08:00:00Z\n" for i in range(n))


BOMB = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<log><trace><string key="concept:name" value="&lol3;"/></trace></log>
"""
EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE log [ <!ENTITY secret SYSTEM "file:///etc/passwd"> ]>
<log><trace><string key="concept:name" value="&secret;"/></trace></log>
"""

CASES = [
    BadInput(
        "truncated gzip",
        _truncated_gzip("events_t.csv.gz", _many_lines(2000)),
        error=r"events_t\.csv\.gz: the gzip stream is damaged or cut short \(Compressed file ended before the end-of-stream marker was reached\); copy the file again",  # noqa: E501
    ),
    BadInput(
        "wrong delimiter",
        _text("events_d.csv", HEADER.replace(",", ";") + GOOD_LINE.replace(",", ";")),
        error=r"events_d\.csv: missing columns event_id, order_id, stage, event_ts .* the header looks semicolon-separated; write every column",  # noqa: E501
    ),
    BadInput(
        "missing column",
        _text("events_m.csv", "event_id,order_id,stage\nn1,o9,placed\n"),
        error=r"events_m\.csv: missing column event_ts \(found: event_id, order_id, stage\); write every column of the events contract",  # noqa: E501
    ),
    BadInput(
        "text in a numeric column",
        _text(
            "orders_n.csv",
            "order_id,placed_at,channel,region,customer_tier,category,order_value,items,payment_method,ship_mode,warehouse,carrier,promised_at\n"
            "o9,2026-03-02T08:00:00Z,web,north,gold,books,12.5,1,card,standard,W1,C1,2026-03-05T08:00:00Z\n"
            "o8,2026-03-02T08:00:00Z,web,north,gold,books,twelve,1,card,standard,W1,C1,2026-03-05T08:00:00Z\n",
        ),
        error=r"orders_n\.csv: column order_value has text where a number is expected \(row 2: 'twelve'\); write plain numbers only",  # noqa: E501
    ),
    BadInput(
        "fractional items",
        _parquet(
            "orders_f.parquet", pa.table({**{c: [v] for c, v in order_row("o9").items()}, "items": pa.array([1.5])})
        ),
        error=r"orders_f\.parquet: column items has fractional values; write whole numbers",
    ),
    BadInput(
        "numbers where a timestamp belongs",
        _parquet(
            "events_i.parquet",
            pa.table({"event_id": ["n1"], "order_id": ["o9"], "stage": ["placed"], "event_ts": [1700000000]}),
        ),
        error=r"events_i\.parquet: column event_ts is of type int64, not a timestamp; write ISO-8601 timestamps",
    ),
    BadInput(
        "unparseable timestamp",
        _text("events_u.csv", HEADER + GOOD_LINE + "n2,o9,payment_confirmed,next tuesday\n"),
        quarantined=("unparseable event_ts",),
    ),
    BadInput(
        "unknown stage",
        _text("events_s.csv", HEADER + "n1,o9,teleported,2026-03-02T08:00:00Z\n"),
        quarantined=("unknown stage 'teleported'",),
    ),
    BadInput(
        "duplicate event ids with different content",
        _events("events_dup.parquet", [("n1", "o9", "placed", at(0)), ("n1", "o9", "picked", at(1))]),
        quarantined=("event_id repeated in the file with different content",) * 2,
    ),
    BadInput(
        "an already stored event id with other content",
        _events("events_again.parquet", [("o1-0", "o1", "placed", at(-1))]),
        quarantined=("event_id already stored with different content",),
    ),
    BadInput("already stored events again", _events("events_same.parquet", journey("o1", HAPPY[:5]))),
    BadInput(
        "future timestamps",
        _text("events_fut.csv", HEADER + "n1,o9,placed,2027-01-01T00:00:00Z\n"),
        quarantined=("event_ts in the future",),
    ),
    BadInput(
        "naive timestamps",
        _text("events_naive.csv", HEADER + GOOD_LINE + "n2,o9,picked,2026-03-02 09:00:00\n"),
        error=r"events_naive\.csv: column event_ts has timestamps without a time zone \(row 2: '2026-03-02 09:00:00'\), which are ambiguous; write offsets",  # noqa: E501
    ),
    BadInput(
        "stage out of order",
        _events(
            "events_ooo.parquet",
            [("n1", "o9", "placed", at(0)), ("n2", "o9", "shipped", at(1)), ("n3", "o9", "picked", at(2))],
        ),
        quarantined=("stage 'picked' out of order: a later stage came earlier",),
    ),
    BadInput(
        "stage before a stored later stage",
        _events("events_back.parquet", [("n1", "o1", "shipped", at(2.5))]),
        quarantined=("stage 'shipped' out of order: a stored event comes later",),
    ),
    BadInput(
        "event after delivered",
        _events(
            "events_after.parquet",
            [("n1", "o9", "placed", at(0)), ("n2", "o9", "delivered", at(1)), ("n3", "o9", "carrier_exception", at(2))],
        ),
        quarantined=("stage 'carrier_exception' after the order was delivered or cancelled",),
    ),
    BadInput(
        "missing order_id",
        _text("events_noid.csv", HEADER + "n1,,placed,2026-03-02T08:00:00Z\n"),
        quarantined=("missing order_id",),
    ),
    BadInput(
        "empty file",
        _bytes("events_empty.csv", b""),
        error=r"events_empty\.csv: the file is empty \(no header line\); write a header row and the data",
    ),
    BadInput(
        "zero-byte gzip",
        _bytes("events_empty.csv.gz", b""),
        error=r"events_empty\.csv\.gz: the file is empty \(no header line\); write a header row",
    ),
    BadInput("header-only CSV", _text("events_header.csv", HEADER)),
    BadInput(
        "not a parquet file named .parquet",
        _text("events_fake.parquet", HEADER + GOOD_LINE),
        error=r"events_fake\.parquet: not a readable Parquet file \(.*\); write it with a Parquet writer",
    ),
    BadInput(
        "empty parquet file",
        _bytes("events_zero.parquet", b""),
        error=r"events_zero\.parquet: the file is empty \(0 bytes\); write the Parquet file again",
    ),
    BadInput(
        "binary garbage",
        _bytes("events_bin.csv", bytes(range(256)) * 8),
        error=r"events_bin\.csv: the file is not UTF-8 text \(binary data\?\); write it as UTF-8 CSV",
    ),
    BadInput(
        "wrong file kind name",
        _text("shipments_1.csv", HEADER + GOOD_LINE),
        error=r"shipments_1\.csv: not a landing file name; name it orders_<day>, events_<day> or contacts_<day>",
    ),
    BadInput(
        "BOM and extra columns",
        _text(
            "events_bom.csv",
            "\ufeffevent_id,order_id,stage,event_ts,comment\nn1,o9,placed,2026-03-02T08:00:00Z,kept aside\n",
        ),
    ),
    BadInput(
        "XES entity-expansion bomb",
        _text("bomb.xes", BOMB),
        log=True,
        error=r"bomb\.xes: the XML declares entities or a DTD \(EntitiesForbidden\), which are refused",
    ),
    BadInput(
        "XES external entity",
        _text("xxe.xes.gz", EXTERNAL_ENTITY),
        log=True,
        error=r"xxe\.xes\.gz: the XML declares entities or a DTD",
    ),
    BadInput(
        "malformed XML",
        _text("broken.xes", "<log><trace><event></trace></log>"),
        log=True,
        error=r"broken\.xes: not well-formed XML \(mismatched tag at line 1, column 22\); re-export the log",
    ),
    BadInput(
        "XES without traces",
        _text("notraces.xes", '<log xes.version="1.0"><string key="a" value="b"/></log>'),
        log=True,
        error=r"notraces\.xes: the log has no <trace> elements; export a log that contains cases",
    ),
    BadInput(
        "XML that is not XES",
        _text("other.xes", "<html><body/></html>"),
        log=True,
        error=r"other\.xes: the root element is <html>, not <log>; give an XES file",
    ),
    BadInput(
        "truncated XES gzip",
        _truncated_gzip("cut.xes.gz", "<log>" + TRACE * 300 + "</log>"),
        log=True,
        error=r"cut\.xes\.gz: the gzip stream is damaged or cut short .*; copy the file again",
    ),
    BadInput(
        "empty XES file",
        _bytes("empty.xes", b""),
        log=True,
        error=r"empty\.xes: the file is empty \(0 bytes\); export the log again",
    ),
    BadInput(
        "log without its activity column",
        _text("log.csv", "case_id,timestamp\nc1,2024-01-01T00:00:00Z\n"),
        log=True,
        error=r"log\.csv: missing column concept:name \(found: case_id, timestamp\); name the activity column with --activity-col",  # noqa: E501
    ),
]


@pytest.fixture
def loaded_store(store_file: Path, tmp_path: Path) -> Path:
    """A store holding one good order with five events."""
    good = tmp_path / "good"
    good.mkdir()
    write_orders(good / "orders_1.parquet", [order_row("o1")])
    write_events(good / "events_1.parquet", journey("o1", HAPPY[:5]))
    landing.ingest_paths([good], store_path=store_file, now=NOW)
    return store_file


def test_the_corpus_covers_at_least_twenty_bad_inputs():
    assert len(CASES) >= 20
    assert len({case.name for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_input_gets_a_clear_message_and_loses_nothing(case: BadInput, loaded_store: Path, tmp_path: Path):
    bad_dir = tmp_path / "bad"
    bad_dir.mkdir()
    path = case.write(bad_dir)
    before = store_fingerprint(loaded_store)

    def load() -> dict:
        if case.log:
            return log_import.import_log(path, store_path=loaded_store, now=NOW)
        return landing.ingest_paths([path], store_path=loaded_store, now=NOW)

    if case.error is not None:
        with pytest.raises(ContractError, match=case.error) as raised:
            load()
        assert "\n" not in str(raised.value)
        assert store_fingerprint(loaded_store) == before
        return
    load()
    after = store_fingerprint(loaded_store)
    # what was stored is untouched; the new file's bad rows are in quarantine with their reason
    assert after["orders"] == before["orders"]
    assert [reason for source, _, reason in quarantine_reasons(loaded_store) if source == path.name] == list(
        case.quarantined
    )


def test_cli_prints_one_line_naming_the_file_the_problem_and_the_fix(store_file, tmp_path):
    bad = write_text(tmp_path / "events_1.csv", "event_id,order_id,stage\nn1,o1,placed\n")
    with store.connect(store_file):
        pass  # ingest goes into an existing store
    done = subprocess.run(
        [sys.executable, "-m", "core", "ingest", str(bad), "--store", str(store_file)],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr == (
        f"error: {bad}: missing column event_ts (found: event_id, order_id, stage); "
        "write every column of the events contract: event_id, order_id, stage, event_ts\n"
    )
