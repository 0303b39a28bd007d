"""The command line probed from outside, as real processes: a bad --store, a bad option value, a
non-UTF-8 Parquet column, output cut short by its reader and escape sequences in stored names each
end in one line on stderr (exit 2) or a clean exit, never a traceback, and change nothing stored."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from core.cli.terminal import clean_text
from tests.conftest import REPO_ROOT
from tests.test_hostile_files import init_store
from tests.test_ingest import store_fingerprint, write_events

ENV = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "core", *args], capture_output=True, text=True, cwd=REPO_ROOT, env=ENV, timeout=120
    )


def assert_one_line_error(done: subprocess.CompletedProcess[str], message: str) -> None:
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == f"error: {message}\n"


@pytest.mark.parametrize(
    "argv",
    [
        ["ingest", "LANDING"],
        ["token", "create", "--role", "reader"],
        ["assumptions", "set", "contact_cost=7", "--reason", "r"],
        ["daily", "--as-of", "2026-03-02"],
    ],
    ids=["ingest", "token create", "assumptions set", "daily"],
)
def test_a_mistyped_store_on_a_write_command_is_refused_not_created(tmp_path: Path, argv: list[str]):
    write_events(tmp_path / "events_1.parquet", [("e1", "o1", "placed", datetime(2026, 3, 2, 8))])
    typo = tmp_path / "journeyosp.duckdb"
    argv = [str(tmp_path) if a == "LANDING" else a for a in argv]
    done = run_cli(*argv, "--store", str(typo))
    assert_one_line_error(
        done,
        f"no store at {typo}; create one with `python -m core init --store {typo}` "
        "(or build the demo with `python -m core demo`), or pass --store PATH of an existing store",
    )
    assert not typo.exists()


def test_init_creates_an_empty_store_once(tmp_path: Path):
    path = tmp_path / "new.duckdb"
    done = run_cli("init", "--store", str(path))
    assert done.returncode == 0 and done.stdout.startswith(f"created an empty store at {path} (schema ")
    assert run_cli("status", "--json", "--store", str(path)).returncode == 0
    assert_one_line_error(run_cli("init", "--store", str(path)), f"a store already exists at {path}; nothing to create")


@pytest.mark.parametrize("command", [["status"], ["ingest", "."], ["demo", "--days", "1"]], ids=lambda c: c[0])
def test_a_folder_as_store_gets_one_line(tmp_path: Path, command: list[str]):
    folder = tmp_path / "folder.duckdb"
    folder.mkdir()
    done = run_cli(*command, "--store", str(folder))
    assert_one_line_error(done, f"{folder} is a folder, not a store file; pass --store PATH of a .duckdb file")
    assert list(folder.iterdir()) == []


@pytest.mark.parametrize("command", [["status"], ["job-runs"], ["ingest", "."]], ids=lambda c: c[0])
def test_a_file_that_is_not_a_store_gets_one_line_and_is_left_alone(tmp_path: Path, command: list[str]):
    not_a_store = tmp_path / "notes.duckdb"
    not_a_store.write_text("meeting notes, not a database\n")
    done = run_cli(*command, "--store", str(not_a_store))
    assert_one_line_error(
        done,
        f'{not_a_store} cannot be opened as a store (IO Error: The file "{not_a_store}" exists, but it is not '
        "a valid DuckDB database file!); pass --store PATH of a JourneyOps .duckdb file",
    )
    assert not_a_store.read_text() == "meeting notes, not a database\n"


def test_job_runs_with_a_negative_limit_gets_one_line(store_file: Path):
    init_store(store_file)
    done = run_cli("job-runs", "--limit", "-5", "--store", str(store_file))
    assert_one_line_error(done, "--limit -5 is not a positive number of runs; write e.g. --limit 20")


def test_a_parquet_column_that_is_not_utf8_gets_one_line(store_file: Path, tmp_path: Path):
    init_store(store_file)
    before = store_fingerprint(store_file)
    order_ids = pa.array([b"o\xff1", b"o2"], type=pa.binary()).view(pa.string())
    stamp = pa.array([datetime(2026, 3, 2, 8, tzinfo=UTC)] * 2, type=pa.timestamp("us", tz="UTC"))
    table = pa.table({"event_id": ["n1", "n2"], "order_id": order_ids, "stage": ["placed"] * 2, "event_ts": stamp})
    pq.write_table(table, tmp_path / "events_bin.parquet")
    done = run_cli("ingest", str(tmp_path / "events_bin.parquet"), "--store", str(store_file))
    assert_one_line_error(
        done,
        f"{tmp_path / 'events_bin.parquet'}: column order_id holds bytes that are not UTF-8 text; "
        "write the text as UTF-8",
    )
    assert store_fingerprint(store_file) == before


def test_output_cut_short_by_its_reader_ends_quietly(store_file: Path):
    init_store(store_file)
    # `python -m core token list | head -0`: the reader is gone before the command prints.
    process = subprocess.Popen(
        [sys.executable, "-m", "core", "token", "list", "--store", str(store_file)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=REPO_ROOT,
        env=ENV,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    stderr = process.stderr.read().decode()
    assert (process.wait(timeout=120), stderr) == (0, "")


def test_escape_sequences_in_stored_names_are_not_printed(store_file: Path):
    init_store(store_file)
    evil = "crm\x1b]0;pwned\x07\x1b[2J\x1b[31mred\x9b1m\x01"
    assert run_cli("token", "create", "--role", "reader", "--name", evil, "--store", str(store_file)).returncode == 0
    listed = run_cli("token", "list", "--store", str(store_file))
    assert listed.returncode == 0
    assert "crmred" in listed.stdout
    assert not any(ch in listed.stdout for ch in "\x1b\x07\x9b\x01")


def test_clean_text_keeps_tabs_and_line_breaks():
    assert clean_text("a\tb\nc\r\n\x1b[1;31md\x1b[0m\x1bPe\x7f") == "a\tb\nc\r\nde"
